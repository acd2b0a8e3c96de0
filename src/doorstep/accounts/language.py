"""Remember the language a person reads the site in, so notices, SMS and email reach them in
it (docs/notices.md): taken when they sign in and whenever they use the language switch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import translation

SUPPORTED = {code for code, _name in settings.LANGUAGES}


def remember(user: Any, language: str | None) -> None:
    language = (language or "").lower()
    if language in SUPPORTED and getattr(user, "language", language) != language and user.pk:
        from .models import User

        User.objects.filter(pk=user.pk).update(language=language)
        user.language = language


def on_sign_in(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    remember(user, translation.get_language())


class RememberLanguageMiddleware:
    """After the language switch answers, store the choice on the signed-in account. Only that
    one request looks at the account; every other request passes straight through."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.path = ""

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not self.path:
            self.path = reverse("set_language")
        if request.method == "POST" and request.path == self.path and response.status_code < 400:
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                remember(user, request.POST.get("language"))
        return response
