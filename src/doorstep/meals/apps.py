from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MealsConfig(AppConfig):
    name = "doorstep.meals"
    label = "meals"
    verbose_name = _("Canteens and meals")
