"""API authentication: a bearer token (apps) or the signed-in session (the site's own pages)."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import HttpBearer
from ninja.utils import check_csrf

from doorstep.core import limits

from .models import User
from .services import AccountError
from .tokens import user_for_token


def bearer_token(request: HttpRequest) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, if there is one."""
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def client_ip(request: HttpRequest) -> str | None:
    """The client's address for rate limits (core.limits.client_ip; CLIENT_IP_HEADER)."""
    return limits.client_ip(request.META)


class AccountAuth(HttpBearer):
    """Accept a bearer token, or the session of a signed-in person.

    Session requests that change something must carry the CSRF token (X-CSRFToken header),
    as Django's forms do; bearer requests need none, since no browser sends them by itself.
    A request with an Authorization header is judged by its token alone.
    """

    def __call__(self, request: HttpRequest) -> User | None:
        if "Authorization" in request.headers:
            token = bearer_token(request)
            user = user_for_token(token) if token else None
            if user is not None:
                request.user = user
            return user
        user = getattr(request, "user", None)
        if not isinstance(user, User) or not user.is_authenticated or not user.is_active:
            return None
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise AccountError(
                _("The page has expired. Please reload it and try again."), code="csrf_failed"
            )
        return user

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        return user_for_token(token)


account_auth = AccountAuth()


def caller(request: HttpRequest) -> User:
    """The account an endpoint with `auth=account_auth` was called by (ninja sets
    `request.auth` before the endpoint runs; typed here once)."""
    user = getattr(request, "auth", None)
    if not isinstance(user, User):
        raise AccountError(_("Please sign in."), code="unauthorized", status=401)
    return user
