from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from .context_processors import LARGE_TEXT_COOKIE


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


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        from django.http import JsonResponse

        return JsonResponse({"code": "not_found", "message": "Not found."}, status=404)
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "500.html", status=500)
