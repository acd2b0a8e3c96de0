"""Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2/): the catalogue, a type's
definition, filing with an `api_key`, and requests' status, in JSON and XML, so existing
Open311 clients and dashboards work unchanged (docs/cases.md, "Open311").

Conventions of the spec kept here rather than doorstep's own: errors are a list of
`{"code", "description"}` (the HTTP status repeated as `code`), and filing answers 200
with `[{"service_request_id", "service_notice", "account_id"}]`. What the spec leaves to
the jurisdiction: `address_id` is a doorstep center id; `lat`/`long` file at the nearest
center (within 5 km) that takes the type; `media_url` is not fetched; a request's text,
answers and what was done are returned only to the account whose `api_key` filed it.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from doorstep.accounts.models import User
from doorstep.accounts.tokens import user_for_token
from doorstep.centers.models import Center
from doorstep.core import limits
from doorstep.core.errors import DoorstepError

from . import services
from .models import Group, RequestType, ServiceRequest, Status, Via
from .services.types import catalogue, label

MAX_RESULTS = 1000
WINDOW = timedelta(days=90)
NEAREST_KM = 5.0
DATATYPES = {"text": "string", "number": "number", "date": "datetime", "choice": "singlevaluelist"}


class Open311Error(Exception):
    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status, self.description = status, description


def jurisdiction() -> str:
    return getattr(settings, "OPEN311_JURISDICTION", "shanghai.doorstep")


# ---- rendering -------------------------------------------------------------------------------


def _xml_value(parent: ET.Element, key: str, value: Any) -> None:
    child = ET.SubElement(parent, key)
    if isinstance(value, bool):
        child.text = "true" if value else "false"
    elif isinstance(value, list):
        item_tag = {
            "attributes": "attribute",
            "values": "value",
            "endpoints": "endpoint",
            "formats": "format",
        }.get(key, "item")
        for item in value:
            node = ET.SubElement(child, item_tag)
            if not isinstance(item, dict):
                node.text = str(item)
                continue
            for k, v in item.items():
                _xml_value(node, k, v)
    elif value is not None:
        child.text = str(value)


def _answer(
    request: HttpRequest, data: Any, fmt: str, root: str, item: str, status: int = 200
) -> HttpResponse:
    if fmt == "xml":
        top = ET.Element(root)
        items = data if isinstance(data, list) else [data]
        for obj in items:
            node = ET.SubElement(top, item) if isinstance(data, list) else top
            for k, v in obj.items():
                _xml_value(node, k, v)
        body = b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(top, encoding="utf-8")
        return HttpResponse(body, status=status, content_type="text/xml; charset=utf-8")
    return JsonResponse(data, status=status, safe=False, json_dumps_params={"ensure_ascii": False})


def _error(request: HttpRequest, fmt: str, e: Open311Error) -> HttpResponse:
    return _answer(
        request,
        [{"code": e.status, "description": e.description}],
        fmt,
        "errors",
        "error",
        status=e.status,
    )


def _handle(fmt: str, request: HttpRequest, work: Any, root: str, item: str) -> HttpResponse:
    if fmt not in ("json", "xml"):
        fmt = "json"
        return _error(request, fmt, Open311Error(404, _("Use .json or .xml.")))
    try:
        given = request.GET.get("jurisdiction_id") or request.POST.get("jurisdiction_id")
        if given and given != jurisdiction():
            raise Open311Error(404, _("Unknown jurisdiction_id."))
        return _answer(request, work(), fmt, root, item)
    except Open311Error as e:
        return _error(request, fmt, e)
    except DoorstepError as e:
        status = e.status if 400 <= e.status < 500 else 400
        return _error(request, fmt, Open311Error(status, str(e.message)))


def _when(moment: datetime | None) -> str | None:
    return timezone.localtime(moment).isoformat() if moment else None


# ---- services -------------------------------------------------------------------------------


def _active_types() -> Iterable[RequestType]:
    return RequestType.objects.filter(active=True).order_by("group", "code")


def _service(t: RequestType) -> dict[str, Any]:
    return {
        "service_code": t.code,
        "service_name": t.local_name,
        "description": t.local_description,
        "metadata": True,
        "type": "realtime",
        "keywords": "",
        "group": str(Group(t.group).label),
    }


def services_list(request: HttpRequest, fmt: str) -> HttpResponse:
    return _handle(
        fmt, request, lambda: [_service(t) for t in _active_types()], "services", "service"
    )


def _definition(t: RequestType) -> dict[str, Any]:
    attributes = []
    for order, f in enumerate(t.fields, start=1):
        attributes.append(
            {
                "variable": True,
                "code": f["code"],
                "datatype": DATATYPES[f.get("kind", "text")],
                "required": bool(f.get("required")),
                "datatype_description": label(f, "why"),
                "order": order,
                "description": label(f),
                "values": [{"key": c["key"], "name": label(c)} for c in f.get("choices", [])],
            }
        )
    return {"service_code": t.code, "attributes": attributes}


def service_definition(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    def work() -> dict[str, Any]:
        t = _active_types().filter(code=code[:40]).first()
        if t is None:
            raise Open311Error(404, _("No such service_code."))
        return _definition(t)

    return _handle(fmt, request, work, "service_definition", "")


# ---- requests -------------------------------------------------------------------------------


def _caller(request: HttpRequest) -> User | None:
    key = (request.POST.get("api_key") or request.GET.get("api_key") or "").strip()
    return user_for_token(key[:200]) if key else None


def _status(r: ServiceRequest) -> str:
    return "open" if r.is_open else "closed"


def _request_out(r: ServiceRequest, reader: User | None) -> dict[str, Any]:
    own = reader is not None and r.applicant_id == reader.pk
    notes = r.decline_reason if r.status in (Status.DECLINED, Status.CLOSED) else ""
    if own:
        notes = r.resolution or notes
    holder = (
        r.partner.name if r.partner_id and r.holder == "partner" and r.partner else r.center.name
    )
    return {
        "service_request_id": str(r.pk),
        "status": _status(r),
        "status_notes": notes,
        "service_name": r.type.local_name,
        "service_code": r.type.code,
        "description": r.description if own else "",
        "agency_responsible": holder,
        "service_notice": "",
        "requested_datetime": _when(r.submitted_at),
        "updated_datetime": _when(r.updated_at),
        "expected_datetime": _when(r.resolution_due),
        "address": r.center.address,
        "address_id": str(r.center_id),
        "zipcode": "",
        "lat": r.center.lat,
        "long": r.center.lng,
        "media_url": "",
    }


def _rows() -> Any:
    return ServiceRequest.objects.select_related("type", "center", "partner")


def _date(raw: str, name: str) -> datetime:
    moment = parse_datetime(raw.strip().replace(" ", "+"))
    if moment is None or timezone.is_naive(moment):
        raise Open311Error(
            400,
            _("%(p)s is a W3C date-time with its offset, e.g. 2026-01-01T00:00:00Z.") % {"p": name},
        )
    return moment


def requests_list(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _handle(fmt, request, lambda: [_post(request)], "service_requests", "request")

    def work() -> list[dict[str, Any]]:
        g = request.GET
        reader = _caller(request)
        rows = _rows()
        if g.get("service_request_id"):
            ids = [i for i in g["service_request_id"].split(",") if i.strip().isdigit()][
                :MAX_RESULTS
            ]
            rows = rows.filter(pk__in=[int(i) for i in ids])
        else:
            now = timezone.now()
            end = _date(g["end_date"], "end_date") if g.get("end_date") else now
            start = _date(g["start_date"], "start_date") if g.get("start_date") else end - WINDOW
            if end - start > WINDOW or end < start:
                raise Open311Error(400, _("start_date to end_date spans at most 90 days."))
            rows = rows.filter(submitted_at__gte=start, submitted_at__lte=end)
            if g.get("service_code"):
                rows = rows.filter(type__code__in=g["service_code"].split(",")[:50])
            wanted = {s.strip() for s in g.get("status", "").split(",") if s.strip()}
            if wanted - {"open", "closed"}:
                raise Open311Error(400, _("status is open or closed."))
            if wanted == {"open"}:
                rows = rows.filter(is_open=True)
            elif wanted == {"closed"}:
                rows = rows.filter(is_open=False)
        return [_request_out(r, reader) for r in rows.order_by("-submitted_at")[:MAX_RESULTS]]

    return _handle(fmt, request, work, "service_requests", "request")


def request_one(request: HttpRequest, request_id: str, fmt: str) -> HttpResponse:
    def work() -> list[dict[str, Any]]:
        r = _rows().filter(pk=int(request_id)).first() if request_id.isdigit() else None
        if r is None:
            raise Open311Error(404, _("No such service_request_id."))
        return [_request_out(r, _caller(request))]

    return _handle(fmt, request, work, "service_requests", "request")


def _nearest_center(code: str, lat: float, lng: float) -> Center:
    box = NEAREST_KM / 111.0
    near = Center.objects.filter(
        lat__range=(lat - box, lat + box),
        lng__range=(lng - box / max(0.2, math.cos(math.radians(lat))), lng + box * 2),
    ).only("id", "lat", "lng", "district_id", "subdistrict_id")
    ranked = sorted(
        near, key=lambda c: (c.lat - lat) ** 2 + ((c.lng - lng) * math.cos(math.radians(lat))) ** 2
    )
    for c in ranked[:50]:
        if any(t.code == code for t in catalogue(c)):
            return c
    raise Open311Error(400, _("No center within 5 km takes this service_code; give address_id."))


def _post(request: HttpRequest) -> dict[str, Any]:
    user = _caller(request)
    if user is None:
        raise Open311Error(403, _("A valid api_key is needed to file a request."))
    usage = limits.hit(limits.Limit("open311", str(user.pk), 600, 3600))[0]
    if usage.exceeded:
        raise Open311Error(429, _("Too many requests from this api_key; try again later."))
    p = request.POST
    code = (p.get("service_code") or "").strip()[:40]
    if not code:
        raise Open311Error(400, _("service_code is required."))
    center_id = p.get("address_id", "").strip()
    if center_id:
        if not center_id.isdigit():
            raise Open311Error(400, _("address_id is a doorstep center id."))
        center = Center.objects.filter(pk=int(center_id)).first()
        if center is None:
            raise Open311Error(404, _("No such address_id."))
    else:
        try:
            lat, lng = float(p.get("lat", "")), float(p.get("long", ""))
        except ValueError:
            raise Open311Error(400, _("Give address_id (a center) or lat and long.")) from None
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):
            raise Open311Error(400, _("lat and long are out of range."))
        center = _nearest_center(code, lat, lng)
    answers = {
        k[len("attribute[") : -1]: v
        for k, v in p.items()
        if k.startswith("attribute[") and k.endswith("]")
    }
    name = " ".join(x for x in (p.get("last_name", ""), p.get("first_name", "")) if x)
    phone = "".join(ch for ch in p.get("phone", "") if ch.isdigit() or ch == "+")[:20]
    req = services.submit(
        user=user,
        center_id=center.pk,
        type_code=code,
        description=p.get("description", ""),
        description_required=False,
        answers=answers,
        via=Via.OPEN311,
        contact_name=name[:40],
        contact_phone=phone,
    )
    return {"service_request_id": str(req.pk), "service_notice": "", "account_id": None}


@csrf_exempt
@require_http_methods(["GET", "POST"])
def requests_endpoint(request: HttpRequest, fmt: str) -> HttpResponse:
    return requests_list(request, fmt)


@require_http_methods(["GET"])
def services_endpoint(request: HttpRequest, fmt: str) -> HttpResponse:
    return services_list(request, fmt)


@require_http_methods(["GET"])
def service_endpoint(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    return service_definition(request, code, fmt)


@require_http_methods(["GET"])
def request_endpoint(request: HttpRequest, request_id: str, fmt: str) -> HttpResponse:
    return request_one(request, request_id, fmt)


def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    """The service discovery document, pointing at this server's GeoReport v2."""
    base = request.build_absolute_uri("/open311/v2/")
    data = {
        "changeset": "2026-12-01T00:00:00+08:00",
        "contact": "",
        "key_service": _("Ask a center's staff for an api_key (a doorstep API token)."),
        "endpoints": [
            {
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": base,
                "changeset": "2026-12-01T00:00:00+08:00",
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return _handle(fmt, request, lambda: data, "discovery", "")
