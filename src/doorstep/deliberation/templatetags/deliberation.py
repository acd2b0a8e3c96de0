from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def person(user: object) -> str:
    """How a person appears on public pages: their chosen name, never their phone number."""
    if user is None:
        return _("A former account")
    name = getattr(user, "display_name", "") or ""
    if name:
        return name
    if getattr(user, "username", None):
        return _("Center staff")
    return _("A resident")


@register.filter
def outcome(item: object) -> str:
    from ..services import outcome_label

    return outcome_label(item)  # type: ignore[arg-type]
