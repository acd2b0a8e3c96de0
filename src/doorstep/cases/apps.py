from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "doorstep.cases"
    label = "cases"
    verbose_name = _("Service requests")

    def ready(self) -> None:
        from doorstep.centers.extensions import register_center_section

        from .views import center_section

        register_center_section(center_section)
