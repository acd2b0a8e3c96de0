"""The catalogue: which types a center takes (inherited from the city, its district and its
subdistrict, switchable per center), the small form each type asks, and new types (from
staff, or from a deliberation topic's outcome)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from doorstep.accounts.models import Organization, StaffRole, User
from doorstep.accounts.scopes import can_manage
from doorstep.centers.models import Center, Region
from doorstep.core import audit

from ..models import Handler, RequestType, Source, TypeSetting
from .common import CaseError, clean_text, refuse_id_numbers

FIELD_KINDS = ("text", "number", "choice", "date")
MAX_FIELDS = 12
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,29}$")
# Words that mean an identity document's number: a form may never ask for one.
_ID_WORDS = ("身份证", "证件号", "id number", "id_number", "id card", "passport", "护照")


def offered_q(center: Center) -> Q:
    """Types offered where `center` is: the city's, its district's, its subdistrict's, its own."""
    regions = [r for r in (center.district_id, center.subdistrict_id) if r]
    return Q(region__isnull=True, center__isnull=True) | Q(region_id__in=regions) | Q(center=center)


def catalogue(center: Center, *, include_off: bool = False) -> list[RequestType]:
    """The center's types, each with `.enabled` (its switch, default on)."""
    types = list(
        RequestType.objects.filter(offered_q(center), active=True).select_related("partner")
    )
    switches = dict(TypeSetting.objects.filter(center=center).values_list("type_id", "enabled"))
    for t in types:
        t.enabled = switches.get(t.pk, True)  # type: ignore[attr-defined]
    return [t for t in types if include_off or t.enabled]  # type: ignore[attr-defined]


def offered(center: Center, code: str) -> RequestType:
    for t in catalogue(center):
        if t.code == code:
            return t
    raise CaseError(
        _("This center does not take that kind of request."), code="unknown_type", status=404
    )


def label(item: Mapping[str, Any], key: str = "label") -> str:
    """A field's or a choice's text in the reader's language."""
    english = (get_language() or "").startswith("en")
    return str((item.get(f"{key}_en") if english else None) or item.get(key) or "")


# ---- the form a type asks ------------------------------------------------------------------


def check_fields(fields: Any) -> list[dict]:
    """A type's form schema, checked: every field says why it is asked, none asks for an ID."""
    if not isinstance(fields, list) or len(fields) > MAX_FIELDS:
        raise CaseError(
            _("A type asks at most %(n)s fields.") % {"n": MAX_FIELDS}, code="invalid_fields"
        )
    out, seen = [], set()
    for f in fields:
        if not isinstance(f, dict):
            raise CaseError(_("Each field needs a code and a label."), code="invalid_fields")
        code = str(f.get("code", ""))
        if not _CODE.match(code) or code in seen:
            raise CaseError(
                _("Field codes are short lowercase words, each used once."), code="invalid_fields"
            )
        seen.add(code)
        kind = f.get("kind", "text")
        if kind not in FIELD_KINDS:
            raise CaseError(_("Unknown kind of field."), code="invalid_fields")
        text = " ".join(str(f.get(k, "")) for k in ("code", "label", "label_en")).lower()
        if any(w in text for w in _ID_WORDS):
            raise CaseError(
                _("A form may never ask for an ID number."), code="no_id_numbers", field=code
            )
        if not str(f.get("label", "")).strip() or not str(f.get("why", "")).strip():
            raise CaseError(
                _("Every field says what it is and why it is asked."), code="invalid_fields"
            )
        item = {
            "code": code,
            "kind": kind,
            "label": str(f["label"])[:60],
            "label_en": str(f.get("label_en", ""))[:80],
            "why": str(f["why"])[:200],
            "why_en": str(f.get("why_en", ""))[:300],
            "required": bool(f.get("required", False)),
        }
        if kind == "text":
            item["max"] = min(int(f.get("max", 200)), 500)
        if kind == "number":
            item["max"] = min(int(f.get("max", 100_000)), 10**9)
        if kind == "choice":
            choices = f.get("choices") or []
            if not choices or not all(isinstance(c, dict) and c.get("key") for c in choices):
                raise CaseError(_("A choice field lists its choices."), code="invalid_fields")
            item["choices"] = [
                {
                    "key": str(c["key"])[:30],
                    "label": str(c.get("label", c["key"]))[:60],
                    "label_en": str(c.get("label_en", ""))[:80],
                }
                for c in choices
            ]
        out.append(item)
    return out


def clean_answers(req_type: RequestType, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The applicant's answers to the type's fields, checked; unknown keys are dropped."""
    answers: dict[str, Any] = {}
    for f in req_type.fields:
        code, kind = f["code"], f.get("kind", "text")
        value = raw.get(code)
        value = "" if value is None else str(value).strip()
        if not value:
            if f.get("required"):
                raise CaseError(
                    _("“%(f)s” is needed.") % {"f": label(f)}, code="required", field=code
                )
            continue
        if kind == "number":
            if not value.isdigit() or len(value) > 10 or int(value) > f.get("max", 100_000):
                raise CaseError(
                    _("“%(f)s” is a whole number up to %(n)s.")
                    % {"f": label(f), "n": f.get("max", 100_000)},
                    code="invalid_answer",
                    field=code,
                )
            answers[code] = int(value)
        elif kind == "choice":
            if value not in {c["key"] for c in f.get("choices", [])}:
                raise CaseError(
                    _("Choose one of the offered answers for “%(f)s”.") % {"f": label(f)},
                    code="invalid_answer",
                    field=code,
                )
            answers[code] = value
        elif kind == "date":
            try:
                answers[code] = date.fromisoformat(value[:10]).isoformat()
            except ValueError:
                raise CaseError(
                    _("“%(f)s” is a date like 2026-12-31.") % {"f": label(f)},
                    code="invalid_answer",
                    field=code,
                ) from None
        else:
            if len(value) > f.get("max", 200):
                raise CaseError(
                    _("At most %(n)s characters.") % {"n": f.get("max", 200)},
                    code="too_long",
                    field=code,
                )
            refuse_id_numbers(value, code)
            answers[code] = value
    return answers


def answer_rows(req_type: RequestType, answers: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, shown value) for the request's page, in the reader's language."""
    rows = []
    for f in req_type.fields:
        if f["code"] not in answers:
            continue
        value = answers[f["code"]]
        if f.get("kind") == "choice":
            value = next((label(c) for c in f.get("choices", []) if c["key"] == value), str(value))
        rows.append((label(f), str(value)))
    return rows


# ---- staff -------------------------------------------------------------------------------


def _may_define(user: User, *, center: Center | None, region: Region | None) -> bool:
    if center is not None:
        return can_manage(user, center.pk)
    if user.is_superuser:
        return True
    roles = list(user.staff_roles.all())
    if any(r.scope == StaffRole.Scope.CITY for r in roles):
        return True
    return region is not None and any(r.region_id == region.pk for r in roles)


@transaction.atomic
def create_type(
    *,
    by: User,
    code: str,
    name: str,
    name_en: str = "",
    description: str = "",
    description_en: str = "",
    group: str,
    fields: Any = (),
    handler: str = Handler.CENTER,
    partner_id: int | None = None,
    first_response_hours: int,
    resolution_hours: int,
    pause_for_applicant: bool = True,
    reopen_days: int = 7,
    office_hours: str = "",
    center_id: int | None = None,
    region_code: str = "",
    from_topic_id: int | None = None,
    source: str = Source.MANUAL,
    source_detail: str = "",
) -> RequestType:
    """A new type, offered by one center, a district or subdistrict, or the city."""
    from doorstep.centers.hours import parse_weekly

    center = Center.objects.filter(pk=center_id).first() if center_id else None
    region = Region.objects.filter(pk=region_code).first() if region_code else None
    if (center_id and center is None) or (region_code and region is None):
        raise CaseError(_("No such center or region."), code="invalid", field="center")
    if not _may_define(by, center=center, region=region):
        raise CaseError(_("You may not define types for that place."), code="forbidden", status=403)
    code = (code or "").strip().lower()
    if not _CODE.match(code):
        raise CaseError(
            _("The code is a short lowercase word (letters, digits, _)."),
            code="invalid",
            field="code",
        )
    if RequestType.objects.filter(code=code).exists():
        raise CaseError(_("That code is taken."), code="code_taken", field="code", status=409)
    from ..models import Group

    if group not in Group.values:
        raise CaseError(_("Choose a group."), code="invalid", field="group")
    if handler not in Handler.values:
        raise CaseError(_("Choose who handles it."), code="invalid", field="handler")
    partner = None
    if handler == Handler.PARTNER:
        partner = Organization.objects.filter(
            pk=partner_id or 0, kind=Organization.Kind.PARTNER, status=Organization.Status.CONFIRMED
        ).first()
        if partner is None:
            raise CaseError(
                _("Name a confirmed partner organization."), code="invalid", field="partner"
            )
    if not (1 <= first_response_hours <= resolution_hours <= 2000):
        raise CaseError(
            _("The first response comes within the time to resolve, at most 2,000 hours."),
            code="invalid",
            field="first_response_hours",
        )
    office_hours = (office_hours or "").strip() or RequestType._meta.get_field(
        "office_hours"
    ).get_default()
    if not parse_weekly(office_hours):
        raise CaseError(_("Give the office hours."), code="invalid", field="office_hours")
    t = RequestType.objects.create(
        code=code,
        name=clean_text(name, field="name", max_length=80),
        name_en=clean_text(name_en, field="name_en", max_length=80, required=False),
        description=clean_text(description, field="description", max_length=2000, required=False),
        description_en=clean_text(
            description_en, field="description_en", max_length=2000, required=False
        ),
        group=group,
        fields=check_fields(list(fields)),
        handler=handler,
        partner=partner,
        first_response_hours=first_response_hours,
        resolution_hours=resolution_hours,
        pause_for_applicant=pause_for_applicant,
        reopen_days=max(0, min(int(reopen_days), 90)),
        office_hours=office_hours,
        center=center,
        region=region,
        from_topic_id=from_topic_id,
        source=source,
        source_detail=source_detail[:300],
    )
    audit.record(
        actor=by,
        action="request_type.create",
        obj=t,
        center_id=center.pk if center else None,
        region_code=region.pk if region else "",
    )
    return t


@transaction.atomic
def type_from_topic(*, by: User, topic_id: int, **values: Any) -> RequestType:
    """A topic's outcome becomes a kind of request ("deliver meals home"): offered where the
    topic was raised, linked back to it."""
    from doorstep.deliberation.models import Status as TopicStatus
    from doorstep.deliberation.models import Topic
    from doorstep.deliberation.services import can_manage_topic

    topic = Topic.objects.filter(pk=topic_id).select_related("region").first()
    if topic is None or not can_manage_topic(by, topic):
        raise CaseError(_("No such topic."), code="not_found", status=404)
    if topic.status not in (
        TopicStatus.DECIDED,
        TopicStatus.IMPLEMENTING,
        TopicStatus.DONE,
        TopicStatus.EVALUATION,
    ):
        raise CaseError(
            _("Only a decided topic can become a kind of request."), code="topic_not_decided"
        )
    values.setdefault("description", topic.resolution or topic.description[:2000])
    return create_type(
        by=by,
        center_id=topic.center_id,
        region_code=topic.region_id or "",
        from_topic_id=topic.pk,
        source=Source.TOPIC,
        source_detail=topic.title,
        **values,
    )


@transaction.atomic
def switch(*, by: User, center_id: int, type_id: int, enabled: bool) -> TypeSetting:
    if not can_manage(by, center_id):
        raise CaseError(_("Not your center."), code="forbidden", status=403)
    center = Center.objects.get(pk=center_id)
    if not RequestType.objects.filter(offered_q(center), pk=type_id).exists():
        raise CaseError(_("No such type here."), code="not_found", status=404)
    setting, _created = TypeSetting.objects.update_or_create(
        center_id=center_id, type_id=type_id, defaults={"enabled": enabled}
    )
    audit.record(
        actor=by,
        action="request_type.switch",
        obj=setting.type,
        center_id=center_id,
        label=f"{setting.type.name}: {'✓' if enabled else '✗'}",
    )
    return setting
