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

        from django.db.models.signals import post_save

        from .models import MenuItem
        from .services import forget_sold_out

        def saved(sender: type, instance: MenuItem, **kwargs: object) -> None:
            forget_sold_out([instance.pk])  # more portions, or a new item: ask the database

        # weak=False: `saved` is local to this method, and signals keep weak references.
        post_save.connect(saved, sender=MenuItem, weak=False, dispatch_uid="meals.sold_out")
