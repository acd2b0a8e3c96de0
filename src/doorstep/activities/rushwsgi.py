"""A lean WSGI entry for the registration rush: a prototype, not what `make run` serves.

    gunicorn doorstep.activities.rushwsgi:application      # instead of doorstep.wsgi

It answers `POST /api/v1/activities/<id>/registrations` with a bearer token itself, calling
the same `user_for_token()` and `services.register()` as the API, and hands every other
request, untouched, to Django. What it skips is what a bearer-token JSON request does not
need: the session, CSRF, messages and auth middleware, URL resolution and django-ninja's
request parsing and response validation (docs/performance.md, "Registration rush"). Anything
it is not sure about (no or unknown token, a body that is not `{"person_ids": [ints]}`, a
host not allowed) goes to Django too, before anything is written, so the answer is exactly
the API's. Its answers carry the same JSON, status codes and headers as the API's.
"""

from __future__ import annotations

import functools
import io
import json
import logging
import re
from collections.abc import Callable, Iterable
from http import HTTPStatus
from types import SimpleNamespace
from typing import Any

from csp.utils import build_policy
from django.conf import settings
from django.core import signals
from django.core.serializers.json import DjangoJSONEncoder
from django.core.wsgi import get_wsgi_application
from django.http.cookie import parse_cookie
from django.http.request import split_domain_port, validate_host
from django.utils import translation

django_application = get_wsgi_application()

from doorstep.accounts.services import user_for_token  # noqa: E402 (after Django is set up)
from doorstep.core.inputs import problems  # noqa: E402
from doorstep.core.middleware import SUPPORTED  # noqa: E402

from . import services  # noqa: E402
from .api import registration_out  # noqa: E402
from .models import Registration  # noqa: E402

logger = logging.getLogger("django.request")
ROUTE = re.compile(r"/api/v1/activities/([0-9]{1,18})/registrations")
MAX_BODY = 4096
StartResponse = Callable[..., Any]


def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    match = ROUTE.fullmatch(environ.get("PATH_INFO", ""))
    if (
        match is None
        or environ.get("REQUEST_METHOD") != "POST"
        or not environ.get("HTTP_AUTHORIZATION")
    ):
        return django_application(environ, start_response)
    return _registration(environ, start_response, int(match.group(1)))


def _host_allowed(environ: dict[str, Any]) -> bool:
    host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
    domain, _port = split_domain_port(host)
    return bool(domain) and validate_host(domain, settings.ALLOWED_HOSTS)


def _read_body(environ: dict[str, Any]) -> bytes | None:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if not 0 < length <= MAX_BODY:
        return None
    body: bytes = environ["wsgi.input"].read(length)
    # Django may still need the body (when this path hands the request on).
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _person_ids(body: bytes) -> list[int] | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    ids = data.get("person_ids") if isinstance(data, dict) else None
    if not isinstance(ids, list) or not all(type(i) is int for i in ids):
        return None
    if any(problems(ids)):
        return None  # the API's input rule refuses it: Django answers
    return ids


def _language(environ: dict[str, Any]) -> str:
    """As doorstep.core.middleware.LanguageMiddleware decides for /api/ paths."""
    cookies = parse_cookie(environ.get("HTTP_COOKIE", ""))
    chosen = cookies.get(settings.LANGUAGE_COOKIE_NAME, "").lower()
    if chosen in SUPPORTED:
        return chosen
    request = SimpleNamespace(COOKIES=cookies, META=environ, path_info=environ.get("PATH_INFO"))
    return translation.get_language_from_request(request)  # type: ignore[arg-type]


@functools.cache
def _policy() -> str:
    """The Content-Security-Policy django-csp gives every answer (settings never change)."""
    return build_policy()


def _answer(start_response: StartResponse, status: int, data: dict, language: str) -> list[bytes]:
    body = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).encode()
    start_response(
        f"{status} {HTTPStatus(status).phrase}",
        # The headers Django's middleware gives the API's answers, in the same order.
        [
            ("Content-Type", "application/json; charset=utf-8"),
            ("X-Frame-Options", "DENY"),
            ("Content-Length", str(len(body))),
            ("Content-Language", language),
            ("Vary", "Cookie, Accept-Language"),
            ("Content-Security-Policy", _policy()),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "same-origin"),
            ("Cross-Origin-Opener-Policy", "same-origin"),
        ],
    )
    return [body]


def _registration(
    environ: dict[str, Any], start_response: StartResponse, activity_id: int
) -> Iterable[bytes]:
    body = _read_body(environ)
    person_ids = _person_ids(body) if body is not None else None
    scheme, _sep, token = environ["HTTP_AUTHORIZATION"].partition(" ")
    token = token.strip()
    if person_ids is None or scheme.lower() != "bearer" or not token or not _host_allowed(environ):
        return django_application(environ, start_response)
    signals.request_started.send(sender=__name__, environ=environ)
    try:
        user = user_for_token(token)
        if user is None:
            return django_application(environ, start_response)
        language = _language(environ)
        with translation.override(language):
            try:
                result = services.register(
                    account=user,
                    activity_id=activity_id,
                    person_ids=person_ids,
                    idempotency_key=environ.get("HTTP_IDEMPOTENCY_KEY"),
                )
            except services.RegistrationError as exc:
                return _answer(start_response, exc.status, exc.as_dict(), language)
            regs = result.registrations
            if result.replayed:
                regs = list(
                    Registration.objects.filter(pk__in=[r.pk for r in regs]).select_related(
                        "activity", "person"
                    )
                )
            data = {
                "replayed": result.replayed,
                "registrations": [registration_out(r) for r in regs],
            }
            return _answer(start_response, 200 if result.replayed else 201, data, language)
    except Exception:
        return _server_error(start_response, "registration")
    finally:
        signals.request_finished.send(sender=__name__)


def _server_error(start_response: StartResponse, what: str) -> list[bytes]:
    """A lean path failed unexpectedly: logged as Django logs a 500, answered in JSON."""
    logger.exception("%s fast path failed", what, extra={"status_code": 500})
    start_response("500 Internal Server Error", [("Content-Type", "application/json")])
    return [b'{"code": "server_error", "message": "Server error."}']
