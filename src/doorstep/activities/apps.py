from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    name = "doorstep.activities"
    label = "activities"
    verbose_name = _("Activities")

    def ready(self) -> None:
        from doorstep.centers.extensions import register_center_section

        from .views import center_section

        register_center_section(center_section)

        from django.db.models.signals import post_delete, post_save

        from . import facts
        from .models import Activity

        def forget(sender: type, instance: Activity, **kwargs: object) -> None:
            facts.forget(instance.pk)  # this process's copy; others re-check the version

        # weak=False: `forget` is local to this method, and signals keep weak references.
        post_save.connect(
            forget, sender=Activity, weak=False, dispatch_uid="activities.facts.saved"
        )

        from doorstep.accounts.signals import register_person_in_use

        from .models import ACTIVE_STATUSES

        register_person_in_use(
            lambda person: person.registrations.filter(status__in=ACTIVE_STATUSES).exists()
        )
        post_delete.connect(
            forget, sender=Activity, weak=False, dispatch_uid="activities.facts.deleted"
        )

        def give_back_space(sender: type, instance: Activity, **kwargs: object) -> None:
            # A deleted activity (the admin) gives its space's time back, as cancelling does.
            if instance.space_booking_id:
                from doorstep.rooms.services import release_hold

                release_hold(instance.space_booking_id)

        post_delete.connect(
            give_back_space, sender=Activity, weak=False, dispatch_uid="activities.space.deleted"
        )
