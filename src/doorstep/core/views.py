from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .context_processors import LARGE_TEXT_COOKIE
from .errors import DoorstepError, too_large


@require_POST
def set_text_size(request: HttpRequest) -> HttpResponse:
    """Large-text mode: a cookie, so it works without an account and without JavaScript."""
    size = "large" if request.POST.get("size") == "large" else "normal"
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    response = HttpResponseRedirect(target)
    response.set_cookie(LARGE_TEXT_COOKIE, size, max_age=365 * 24 * 3600, samesite="Lax")
    return response


def _error(request: HttpRequest, error: DoorstepError, template: str) -> HttpResponse:
    """The API's {"code", "message"} under /api/, a page in the user's language elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            error.as_dict(), status=error.status, json_dumps_params={"ensure_ascii": False}
        )
    return render(request, template, {"message": error.message}, status=error.status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if isinstance(exception, RequestDataTooBig | TooManyFieldsSent | TooManyFilesSent):
        return _error(request, too_large(), "400.html")
    error = DoorstepError(_("The request could not be understood."), code="bad_request")
    return _error(request, error, "400.html")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return _error(request, DoorstepError(_("Not found."), code="not_found", status=404), "")
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "server_error", "message": "Server error."}, status=500)
    return render(request, "500.html", status=500)


def data_sources(request: HttpRequest) -> HttpResponse:
    """Where the directory's data comes from, with the packages and versions behind it."""
    from django.shortcuts import render

    return render(request, "data_sources.html")
