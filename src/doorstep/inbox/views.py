"""The inbox page: notices about topics a resident proposed, supports or follows, and how they
want them delivered besides the inbox."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from doorstep.accounts.models import User
from doorstep.core.errors import DoorstepError

from . import services
from .models import DeliveryPreference, Notice

PAGE_SIZE = 30


def _account(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    user = _account(request)
    page = Paginator(Notice.objects.filter(user=user), PAGE_SIZE).get_page(request.GET.get("page"))
    pref = DeliveryPreference.objects.filter(user=user).first()
    return render(
        request,
        "inbox/inbox.html",
        {
            "page": page,
            "unread": services.unread_count(user),
            "pref": pref,
            "masked_phone": user.masked_phone,
        },
    )


@login_required
@require_GET
def open_notice(request: HttpRequest, notice_id: int) -> HttpResponse:
    notice = get_object_or_404(Notice, pk=notice_id, user=_account(request))
    services.mark_read(user=_account(request), notice_ids=[notice.pk])
    # Only our own paths: a notice never sends anyone off the site.
    if notice.url.startswith("/") and not notice.url.startswith("//"):
        return redirect(notice.url)
    return redirect("inbox:list")


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    n = services.mark_read(user=_account(request))
    messages.success(request, _("%(n)s notices marked as read.") % {"n": n})
    return redirect("inbox:list")


@login_required
@require_POST
def preferences(request: HttpRequest) -> HttpResponse:
    p = request.POST
    try:
        services.set_preference(
            user=_account(request),
            by_sms=p.get("by_sms") == "on",
            by_email=p.get("by_email") == "on",
            email=p.get("email", "")[:254],
        )
    except DoorstepError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Your choice is saved."))
    return redirect("inbox:list")
