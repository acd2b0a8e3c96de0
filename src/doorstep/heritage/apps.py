from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HeritageConfig(AppConfig):
    name = "doorstep.heritage"
    label = "heritage"
    verbose_name = _("Red heritage sites")
