import functools
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers

SUPPORTED = {code for code, _name in settings.LANGUAGES}


class LanguageMiddleware:
    """Pages are in zh-Hans unless the person chose English with the switch (a cookie).

    The browser's Accept-Language is not used for pages: doorstep serves Shanghai, and a
    borrowed phone set to English should not surprise its owner. API clients may ask for a
    language with Accept-Language.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "").lower()
        if chosen in SUPPORTED:
            language = chosen
        elif request.path.startswith("/api/"):
            language = translation.get_language_from_request(request)
        else:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language  # type: ignore[attr-defined]
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        patch_vary_headers(response, ("Cookie", "Accept-Language"))
        return response


class NoSessionMiddleware:
    """For API_MIDDLEWARE (doorstep.wsgi): a request judged by its token has no session, so
    `request.user` is anonymous until the token names someone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.user = AnonymousUser()
        return self.get_response(request)


@functools.cache
def _policy() -> str:
    from csp.utils import build_policy

    return build_policy()


class StaticPolicyMiddleware:
    """For API_MIDDLEWARE: the Content-Security-Policy django-csp gives every answer, built
    once (JSON answers carry no nonce), instead of once per answer."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", _policy())
        return response
