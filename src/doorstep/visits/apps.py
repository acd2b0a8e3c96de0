from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VisitsConfig(AppConfig):
    name = "doorstep.visits"
    label = "visits"
    verbose_name = _("Visits and services")

    def ready(self) -> None:
        from doorstep.activities.signals import checked_in

        from .services import record_activity_visit

        def on_checked_in(sender: type, checkin_id: int, **kwargs: object) -> None:
            record_activity_visit(checkin_id=checkin_id)

        checked_in.connect(on_checked_in, weak=False, dispatch_uid="visits.activity_checkin")
