from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FiguresConfig(AppConfig):
    name = "doorstep.figures"
    label = "figures"
    verbose_name = _("Figures")

    def ready(self) -> None:
        from django.db.models.signals import pre_delete

        from doorstep.accounts.models import User
        from doorstep.centers.models import Center

        from . import signals

        pre_delete.connect(signals.account_deleted, sender=User, dispatch_uid="figures-account")
        pre_delete.connect(signals.center_deleted, sender=Center, dispatch_uid="figures-center")

        from doorstep.visits.signals import records_deleted

        records_deleted.connect(signals.records_deleted, dispatch_uid="figures-records-deleted")
