"""A lean WSGI entry for walk-in check-ins, in front of the registration rush's lean entry.

    granian --interface wsgi doorstep.visits.fastwsgi:application   # or gunicorn

It answers `POST /api/v1/centers/<id>/visits` (the poster scan: `{"k", "device", "group"}`,
anonymous or with a bearer token) itself, calling the same `services.check_in()` and
`api.visit_out()` as the API, and hands every other request, untouched, to
`doorstep.activities.rushwsgi.application` (which answers registrations and hands the rest to
Django): serving this module serves both lean paths and the whole site. What it skips is what
the scan does not need: the session, CSRF, messages and auth middleware, URL resolution and
django-ninja's request parsing and response validation (docs/visits.md, "Speed").

Anything it is not sure about goes to Django before anything is written, so the answer is
exactly the API's: a body that is not a JSON object of those three strings within the API's
lengths, a non-JSON content type, no usable device id and no token, an unknown token, a host
not allowed. Its answers carry the same JSON, status codes and headers as the API's
(tests/visits/test_fast_wsgi.py compares them byte for byte).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from django.core import signals
from django.utils import translation

# rushwsgi sets Django up (get_wsgi_application): it comes before anything that imports models.
from doorstep.activities import rushwsgi

# isort: split
from doorstep.accounts.services import user_for_token
from doorstep.activities.rushwsgi import (
    StartResponse,
    _answer,
    _host_allowed,
    _language,
    _read_body,
    _server_error,
)
from doorstep.core import limits
from doorstep.core.inputs import problem

from . import services
from .api import _device, visit_out
from .vocab import Group

ROUTE = re.compile(r"/api/v1/centers/([0-9]{1,18})/visits")
# The API's limits (visits/api.py, CheckInIn).
LIMITS = {"k": 32, "device": 128, "group": 10}


def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    match = ROUTE.fullmatch(environ.get("PATH_INFO", ""))
    if match is None or environ.get("REQUEST_METHOD") != "POST":
        return rushwsgi.application(environ, start_response)
    return _check_in(environ, start_response, int(match.group(1)))


def _payload(environ: dict[str, Any]) -> dict[str, str] | None:
    """The scan's fields as the API's schema would give them, or None when unsure."""
    if not environ.get("CONTENT_TYPE", "").startswith("application/json"):
        return None
    body = _read_body(environ)
    if body is None:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or "k" not in data or not set(data) <= set(LIMITS):
        return None
    for name, value in data.items():
        if type(value) is not str or len(value) > LIMITS[name] or problem(value):
            return None
    return {"device": "", "group": Group.UNKNOWN.value, **data}


def _check_in(
    environ: dict[str, Any], start_response: StartResponse, center_id: int
) -> Iterable[bytes]:
    payload = _payload(environ)
    auth = environ.get("HTTP_AUTHORIZATION")
    token = ""
    if auth is not None:
        scheme, _sep, token = auth.partition(" ")
        token = token.strip() if scheme.lower() == "bearer" else ""
    device = "" if auth is not None or payload is None else _device(payload["device"])
    if (
        payload is None
        or (auth is not None and not token)
        or (auth is None and not device)
        or not _host_allowed(environ)
    ):
        return rushwsgi.django_application(environ, start_response)
    signals.request_started.send(sender=__name__, environ=environ)
    try:
        user = None
        if token:
            user = user_for_token(token)
            if user is None:
                return rushwsgi.django_application(environ, start_response)
        language = _language(environ)
        with translation.override(language):
            try:
                result = services.check_in(
                    center_id=center_id,
                    code=payload["k"],
                    user=user,
                    device=device,
                    group=payload["group"],
                    ip=limits.client_ip(environ),
                )
            except services.VisitError as exc:
                return _answer(start_response, exc.status, exc.as_dict(), language)
            data = visit_out(result.visit, center_id, result.counted)
            return _answer(start_response, 201 if result.counted else 200, data, language)
    except Exception:
        return _server_error(start_response, "check-in")
    finally:
        signals.request_finished.send(sender=__name__)
