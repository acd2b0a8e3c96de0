"""The JSON API (/api/v1): one NinjaAPI, errors always as {"code", "message"}.

The apps' routers are mounted on it by `doorstep.api` (above every app); here are only the
parts every endpoint shares: the input rule (`inputs.py`) and the error answers.
"""

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.renderers import JSONRenderer
from pydantic import ConfigDict

from .errors import DoorstepError, too_large
from .inputs import check_inputs

logger = logging.getLogger("django.request")


class ErrorOut(Schema):
    """Every error the API gives: a stable machine code and a message in the caller's
    language, sometimes with more (the field, `retry_after`, a list of `errors`)."""

    model_config = ConfigDict(extra="allow")
    code: str
    message: str


class DoorstepAPI(NinjaAPI):
    def get_openapi_schema(self, **kwargs: Any) -> Any:
        """Each operation's documented answers, plus `default`: any other status is an error
        shaped as ErrorOut (the API never answers an error another way)."""
        schema = super().get_openapi_schema(**kwargs)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.setdefault("ErrorOut", ErrorOut.model_json_schema())
        default = {
            "description": "An error: a stable code and a message.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
        }
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                if isinstance(operation, dict) and "responses" in operation:
                    operation["responses"].setdefault("default", default)
        return schema


class ReadableJSONRenderer(JSONRenderer):
    # Chinese as characters, not \uXXXX escapes: half the bytes and readable in a terminal.
    json_dumps_params = {"ensure_ascii": False}


api = DoorstepAPI(
    renderer=ReadableJSONRenderer(),
    title="doorstep API",
    version="1",
    description="The open API of doorstep (家门口): Shanghai's community service centers.",
    urls_namespace="api",
)
# After ninja's parsing, before any endpoint: one rule for integers, text and dates.
api.add_decorator(check_inputs, mode="operation")


def _field_path(loc: Any) -> str:
    parts = [str(p) for p in loc if p not in ("query", "body", "path", "header")]
    return ".".join(parts)


@api.exception_handler(DoorstepError)
def on_domain_error(request: HttpRequest, exc: DoorstepError) -> HttpResponse:
    response = api.create_response(request, exc.as_dict(), status=exc.status)
    if "retry_after" in exc.extra:
        response["Retry-After"] = str(exc.extra["retry_after"])
    return response


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = []
    for err in exc.errors:
        errors.append({"field": _field_path(err.get("loc", ())), "message": err.get("msg", "")})
    first = errors[0] if errors else {"field": "", "message": ""}
    message = _("Invalid value for “%(field)s”.") % first
    return api.create_response(
        request, {"code": "invalid_parameter", "message": message, "errors": errors}, status=422
    )


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(
        request, {"code": "not_found", "message": _("Not found.")}, status=404
    )


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request, {"code": "unauthorized", "message": _("Please sign in.")}, status=401
    )


@api.exception_handler(RequestDataTooBig)
def on_too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    error = too_large()
    return api.create_response(request, error.as_dict(), status=error.status)


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return api.create_response(
        request, {"code": "http_error", "message": str(exc)}, status=exc.status_code
    )


@api.exception_handler(Exception)
def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    """A bug: logged as Django logs a 500 (with the traceback), answered in the API's shape.
    The service's transaction has already rolled back, so nothing half-done is stored."""
    logger.error(
        "Internal Server Error: %s",
        request.path,
        exc_info=exc,
        extra={"status_code": 500, "request": request},
    )
    return api.create_response(
        request, {"code": "server_error", "message": _("Server error.")}, status=500
    )
