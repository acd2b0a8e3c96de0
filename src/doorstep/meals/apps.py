from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MealsConfig(AppConfig):
    name = "doorstep.meals"
    label = "meals"
    verbose_name = _("Canteens and meals")

    def ready(self) -> None:
        from doorstep.centers.extensions import register_center_section

        from .views import center_section

        register_center_section(center_section)
