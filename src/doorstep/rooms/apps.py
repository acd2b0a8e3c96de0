from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoomsConfig(AppConfig):
    name = "doorstep.rooms"
    label = "rooms"
    verbose_name = _("Rooms and venues")

    def ready(self) -> None:
        from doorstep.centers.extensions import register_center_section

        from .views import center_section

        register_center_section(center_section)
