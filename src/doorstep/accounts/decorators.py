"""View decorators shared by every back-office page."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from .models import User
from .scopes import is_staff_member

View = Callable[..., HttpResponse]


def staff_required(view: View) -> View:
    """Staff only; anyone else goes to the staff sign-in and comes back here after.

    Scope (which centers this person may see) is checked by each service and selector.
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not (isinstance(user, User) and is_staff_member(user)):
            return redirect_to_login(request.get_full_path(), reverse("accounts:staff_sign_in"))
        return view(request, *args, **kwargs)

    return wrapped
