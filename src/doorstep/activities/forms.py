"""Staff forms: an activity, a weekly series. Rules live in services.activity_problems."""

from __future__ import annotations

from datetime import time
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import QuerySet
from django.forms.models import fields_for_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from doorstep.centers.models import Center
from doorstep.centers.selectors import pick_center

from .models import Activity
from .series import SESSION_FIELDS, Window, plan_sessions, session_input
from .services import MAX_CAPACITY, ActivityInput, activity_problems

# The space is a choice of the single-activity form (its center's spaces); a series keeps
# the free-text room.
INPUT_FIELDS = tuple(n for n in ActivityInput.__dataclass_fields__ if n != "space_id")
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"

ABOUT = ("title", "title_en", "description", "category", "audience", "age_min", "age_max", "room")
WHEN = ("starts_at", "ends_at")
REGISTRATION = ("registration_opens_at", "registration_closes_at", "cancel_deadline")
PLACES = (
    "capacity",
    "allocation",
    "places_per_household",
    "weekly_limit_per_person",
    "waitlist_enabled",
    "offer_hours",
    "local_share_percent",
    "first_timer_share_percent",
)
REMINDERS = ("remind_day_before", "remind_hours_before")
FORM_FIELDS = ABOUT + WHEN + PLACES[:1] + REGISTRATION + PLACES[1:] + REMINDERS
SERIES_ACTIVITY_FIELDS = ABOUT + PLACES + REMINDERS


def _datetime_widget() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT)


WIDGETS: dict[str, type[forms.Widget] | forms.Widget] = {
    "description": forms.Textarea(attrs={"rows": 4}),
    **{name: _datetime_widget() for name in WHEN + REGISTRATION},
}


def _tune_fields(fields: dict[str, forms.Field]) -> None:
    """Bounds the browser can check too; the services check them again."""
    bounds = {
        "capacity": (1, MAX_CAPACITY),
        "local_share_percent": (0, 100),
        "first_timer_share_percent": (0, 100),
        "places_per_household": (1, 10),
        "offer_hours": (1, 720),
        "remind_hours_before": (0, 23),
        "weekly_limit_per_person": (1, 100),
        "age_min": (0, 120),
        "age_max": (0, 120),
    }
    if "remind_hours_before" in fields:
        # Left empty: no reminder hours before (the day-before one is its own box).
        fields["remind_hours_before"].required = False
    for name, (low, high) in bounds.items():
        f = fields.get(name)
        if isinstance(f, forms.IntegerField):
            f.min_value, f.max_value = low, high
            f.widget.attrs.update({"min": low, "max": high})
            f.validators = [
                v for v in f.validators if not isinstance(v, MinValueValidator | MaxValueValidator)
            ]
            f.validators += [MinValueValidator(low), MaxValueValidator(high)]


def _no_empty_reminder(cleaned: dict[str, Any]) -> None:
    if "remind_hours_before" in cleaned and cleaned["remind_hours_before"] is None:
        cleaned["remind_hours_before"] = 0


class Fieldsets:
    """Groups of bound fields for the template, each with a legend."""

    fieldsets_spec: tuple[tuple[Any, tuple[str, ...]], ...] = ()

    def fieldsets(self) -> list[tuple[Any, list[forms.BoundField]]]:
        form: forms.BaseForm = self  # type: ignore[assignment]
        return [
            (legend, [form[n] for n in names if n in form.fields])
            for legend, names in self.fieldsets_spec
        ]


class ActivityForm(Fieldsets, forms.ModelForm):
    fieldsets_spec = (
        (_("About the activity"), (*ABOUT, "space")),
        (_("When"), WHEN),
        (_("Registration"), REGISTRATION),
        (_("Places"), PLACES),
        (_("Reminders"), REMINDERS),
    )

    class Meta:
        model = Activity
        fields = (*FORM_FIELDS, "space")
        widgets = WIDGETS
        help_texts = {
            "space": _("A bookable space of the center: its time is held, so nobody books it.")
        }

    def __init__(self, *args: Any, center_id: int | None = None, **kwargs: Any) -> None:
        from doorstep.rooms.models import Space

        super().__init__(*args, **kwargs)
        _tune_fields(self.fields)
        space = self.fields["space"]
        space.queryset = Space.objects.filter(center_id=center_id)  # type: ignore[attr-defined]
        space.required = False

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        _no_empty_reminder(cleaned)
        # The rules across fields need them all; a field that failed alone is reported first.
        if all(n in cleaned for n in INPUT_FIELDS):
            now = timezone.now() if self.instance.pk is None else None
            for name, message in activity_problems(self.to_input(), now=now):
                self.add_error(name, message)
        return cleaned

    def to_input(self) -> ActivityInput:
        data = self.cleaned_data
        space = data.get("space")
        return ActivityInput(
            **{n: data[n] for n in INPUT_FIELDS}, space_id=space.pk if space else None
        )


WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]
# Where a problem with one session shows up on the series form.
SERIES_FIELD_OF = {
    "starts_at": "first_date",
    "ends_at": "duration_minutes",
    "registration_opens_at": "opens_days_before",
    "registration_closes_at": "closes_hours_before",
    "cancel_deadline": "cancel_hours_before",
}


class CenterPicker(forms.Widget):
    """The type-ahead center picker (templates/partials/center_picker.html) as a form widget:
    a district's staff may manage hundreds of centers, too many for a flat list."""

    def render(self, name, value, attrs=None, renderer=None):  # type: ignore[no-untyped-def]
        from django.template.loader import render_to_string

        center = pick_center(str(value or ""))
        return render_to_string(
            "partials/center_picker.html",
            {
                "name": name,
                "pid": (attrs or {}).get("id", f"id_{name}"),
                "label": self.attrs.get("label", ""),
                "selected_pk": center.pk if center else "",
                "selected_name": center.display_name if center else "",
            },
        )

    def value_from_datadict(self, data, files, name):  # type: ignore[no-untyped-def]
        raw = data.get(name, "")
        if raw:
            return raw
        picked = pick_center("", data.get(f"{name}_q", ""))
        return str(picked.pk) if picked else ""

    def id_for_label(self, id_: str) -> str:
        return f"{id_}-q"


class SeriesForm(Fieldsets, forms.Form):
    center = forms.ModelChoiceField(
        queryset=Center.objects.none(), label=_("Center"), widget=CenterPicker()
    )
    weekday = forms.TypedChoiceField(choices=WEEKDAYS, coerce=int, label=_("Weekday"))
    start_time = forms.TimeField(
        label=_("Start time"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"), min_value=10, max_value=720, initial=90
    )
    first_date = forms.DateField(
        label=_("First date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    last_date = forms.DateField(
        label=_("Last date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    opens_days_before = forms.IntegerField(
        label=_("Registration opens this many days before"), min_value=0, max_value=60, initial=7
    )
    opens_at = forms.TimeField(
        label=_("… at this time"),
        initial=time(9, 0),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    closes_hours_before = forms.IntegerField(
        label=_("Registration closes this many hours before the start"),
        min_value=0,
        max_value=720,
        initial=2,
    )
    cancel_hours_before = forms.IntegerField(
        label=_("Residents may cancel online until this many hours before (empty: the start)"),
        min_value=0,
        max_value=720,
        required=False,
    )
    publish = forms.BooleanField(label=_("Publish the sessions at once"), required=False)

    fieldsets_spec = (
        (_("Where and what"), ("center",) + ABOUT),
        (
            _("Every week"),
            ("weekday", "start_time", "duration_minutes", "first_date", "last_date"),
        ),
        (
            _("Registration for each session"),
            ("opens_days_before", "opens_at", "closes_hours_before", "cancel_hours_before"),
        ),
        (_("Places"), PLACES),
        (_("Reminders"), REMINDERS + ("publish",)),
    )

    def __init__(self, *args: Any, centers: QuerySet[Center], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["center"].queryset = centers  # type: ignore[attr-defined]
        self.fields.update(
            fields_for_model(Activity, fields=SERIES_ACTIVITY_FIELDS, widgets=WIDGETS)
        )
        _tune_fields(self.fields)

    def window(self) -> Window:
        d = self.cleaned_data
        return Window(
            opens_days_before=d["opens_days_before"],
            opens_at=d["opens_at"],
            closes_hours_before=d["closes_hours_before"],
            cancel_hours_before=d["cancel_hours_before"],
        )

    def settings(self) -> dict[str, Any]:
        """The activity fields every session shares."""
        return {
            n: self.cleaned_data[n]
            for n in INPUT_FIELDS
            if n not in SESSION_FIELDS and n in self.cleaned_data
        }

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        _no_empty_reminder(cleaned)
        if self.errors:
            return cleaned
        if cleaned["last_date"] < cleaned["first_date"]:
            self.add_error("last_date", _("The last date is before the first."))
            return cleaned
        if cleaned["first_date"] < timezone.localdate():
            self.add_error("first_date", _("The first date is in the past."))
            return cleaned
        sessions = plan_sessions(
            weekday=cleaned["weekday"],
            start_time=cleaned["start_time"],
            duration_minutes=cleaned["duration_minutes"],
            first_date=cleaned["first_date"],
            last_date=cleaned["last_date"],
            window=self.window(),
        )
        if not sessions:
            self.add_error("weekday", _("No such weekday between the first and last date."))
            return cleaned
        # Every session has the same shape, so the first one speaks for all.
        for name, message in activity_problems(session_input(self.settings(), sessions[0])):
            target = SERIES_FIELD_OF.get(name or "", name)
            if target in self.fields:
                self.add_error(target, message)
            else:
                self.add_error(None, message)
        return cleaned
