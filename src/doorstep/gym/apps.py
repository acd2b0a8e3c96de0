from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GymConfig(AppConfig):
    name = "doorstep.gym"
    label = "gym"
    verbose_name = _("Elderly gym heart-rate monitor")
