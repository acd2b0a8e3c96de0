"""Account pages: sign in with a mobile number, the account and household, staff sign-in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import selectors, services
from .auth import client_ip
from .decorators import staff_required
from .forms import CodeForm, PersonForm, PhoneForm, ProfileForm
from .models import User, mask_phone
from .senders import dev_codes
from .services import AccountError

SIGN_IN_PHONE = "accounts:sign_in_phone"
SIGN_IN_AGREED = "accounts:sign_in_agreed"
BACKEND = "django.contrib.auth.backends.ModelBackend"

# Which form field an error belongs to; anything else is shown above the form.
ERROR_FIELDS = {
    "invalid_phone": "phone",
    "wrong_code": "code",
    "code_expired": "code",
    "too_many_attempts": "code",
    "invalid_name": "name",
    "person_exists": "name",
    "invalid_birth_year": "birth_year",
    "invalid_subdistrict": "home_subdistrict",
}


def _show_error(form: Form, exc: AccountError, *, name_field: str = "name") -> None:
    target = ERROR_FIELDS.get(exc.code)
    if target == "name":
        target = name_field
    form.add_error(target if target in form.fields else None, str(exc.message))


def safe_next(request: HttpRequest) -> str:
    """The `next` URL when it is a path on this site, else ""."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


@dataclass
class SignInPage:
    phone: str
    code_form: CodeForm | None
    phone_form: PhoneForm = field(default_factory=PhoneForm)
    errors: list[str] = field(default_factory=list)
    failed_form: bool = False

    @property
    def failed(self) -> bool:
        return self.failed_form or bool(self.errors)


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    """Two steps on one page: the number, then the code texted to it.

    Between the steps the number waits in the session, so the page never holds it in full.
    """
    next_url = safe_next(request)
    if request.method == "GET":
        if request.user.is_authenticated:
            return redirect(next_url or "accounts:home")
        if request.GET.get("change"):
            request.session.pop(SIGN_IN_PHONE, None)
    phone = request.session.get(SIGN_IN_PHONE, "")
    step = request.POST.get("step", "") if request.method == "POST" else ""
    page = SignInPage(phone=phone, code_form=CodeForm() if phone else None)
    if step == "phone" or (step == "resend" and phone):
        # A resend keeps the agreement given with the number (it is in the session).
        agreed = {"phone": phone, "agree": "on"} if request.session.get(SIGN_IN_AGREED) else {}
        _send_code(request, page, PhoneForm(request.POST if step == "phone" else agreed))
    elif step == "code" and phone:
        user = _check_code(request, page, CodeForm(request.POST))
        if user is not None:
            return _signed_in(request, user, next_url)
    elif request.method == "POST":
        page.errors.append(_("Please enter your mobile number again."))
    return render(
        request,
        "accounts/sign_in.html",
        {
            "step": "code" if page.code_form is not None else "phone",
            "phone_form": page.phone_form,
            "code_form": page.code_form,
            "phone_masked": mask_phone(page.phone),
            "resend_wait": selectors.resend_wait_seconds(page.phone) if page.phone else 0,
            "next": next_url,
            "page_errors": page.errors,
        },
        status=400 if page.failed else 200,
    )


def _send_code(request: HttpRequest, page: SignInPage, form: PhoneForm) -> None:
    page.phone_form = form
    if not form.is_valid():
        page.code_form, page.failed_form = None, True
        return
    raw = form.cleaned_data["phone"]
    try:
        record = services.request_code(phone=raw, ip=client_ip(request))
    except AccountError as exc:
        if exc.code == "rate_limited" and selectors.has_pending_code(raw):
            # A code sent a moment ago still works: ask for it rather than a new one.
            page.phone = services.normalize_phone(raw)
            request.session[SIGN_IN_PHONE] = page.phone
            request.session[SIGN_IN_AGREED] = services.TERMS_VERSION
            page.code_form = CodeForm()
            page.errors.append(str(exc.message))
        else:
            page.code_form, page.failed_form = None, True
            _show_error(form, exc)
        return
    page.phone = record.phone
    request.session[SIGN_IN_PHONE] = record.phone
    request.session[SIGN_IN_AGREED] = services.TERMS_VERSION
    page.code_form = CodeForm()


def _check_code(request: HttpRequest, page: SignInPage, form: CodeForm) -> User | None:
    page.code_form = form
    if not form.is_valid():
        page.failed_form = True
        return None
    try:
        return services.verify_code(
            phone=page.phone, code=form.cleaned_data["code"], ip=client_ip(request)
        )
    except AccountError as exc:
        page.failed_form = True
        _show_error(form, exc)
        return None


def _signed_in(request: HttpRequest, user: User, next_url: str) -> HttpResponse:
    request.session.pop(SIGN_IN_PHONE, None)
    agreed = request.session.pop(SIGN_IN_AGREED, "")
    login(request, user, backend=BACKEND)
    if agreed:
        services.record_consent(user, version=agreed)
    if not user.display_name:
        # First sign-in: ask for the name a center will see on its roster, then go on.
        target = reverse("accounts:home")
        return redirect(f"{target}?{urlencode({'next': next_url})}" if next_url else target)
    return redirect(next_url or "accounts:home")


def _account_page(
    request: HttpRequest,
    *,
    profile_form: ProfileForm | None = None,
    add_form: PersonForm | None = None,
    edit_forms: dict[int, PersonForm] | None = None,
    page_errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    assert isinstance(request.user, User)
    user = selectors.account_overview(request.user)
    edit_forms = edit_forms or {}
    people = [
        {
            "person": p,
            "form": edit_forms.get(p.pk)
            or PersonForm(initial={"name": p.name, "birth_year": p.birth_year}, prefix=f"p{p.pk}"),
            "open": p.pk in edit_forms,
        }
        for p in user.people.all()
    ]
    context: dict[str, Any] = {
        "account": user,
        "profile_form": profile_form
        or ProfileForm(
            initial={
                "display_name": user.display_name,
                "home_subdistrict": user.home_subdistrict_id or "",
            }
        ),
        "people": people,
        "add_form": add_form or PersonForm(prefix="new"),
        "can_add": len(people) < services.MAX_PEOPLE,
        "max_people": services.MAX_PEOPLE,
        "subdistrict_groups": selectors.subdistrict_choices(),
        "next": safe_next(request),
        "page_errors": page_errors or [],
    }
    return render(request, "accounts/account.html", context, status=status)


def _account(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@login_required
@require_GET
def account_home(request: HttpRequest) -> HttpResponse:
    return _account_page(request)


@login_required
@require_POST
def update_profile(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST)
    first_time = not _account(request).display_name
    if form.is_valid():
        try:
            services.set_profile(
                account=_account(request),
                display_name=form.cleaned_data["display_name"],
                home_subdistrict_code=form.cleaned_data["home_subdistrict"] or None,
            )
        except AccountError as exc:
            _show_error(form, exc, name_field="display_name")
        else:
            messages.success(request, _("Your details have been saved."))
            next_url = safe_next(request)
            if first_time and next_url:
                # A new account is asked for its household before its first registration:
                # back to this page, to add the children, then on with "Continue".
                messages.info(
                    request,
                    _("Add the children you will register with you, or continue."),
                )
                target = reverse("accounts:home")
                return redirect(f"{target}?{urlencode({'next': next_url})}#add-title")
            return redirect(next_url or "accounts:home")
    return _account_page(request, profile_form=form, status=400)


@login_required
@require_POST
def add_person(request: HttpRequest) -> HttpResponse:
    form = PersonForm(request.POST, prefix="new")
    if form.is_valid():
        try:
            person = services.add_person(
                account=_account(request),
                name=form.cleaned_data["name"],
                birth_year=form.cleaned_data["birth_year"],
            )
        except AccountError as exc:
            _show_error(form, exc)
        else:
            messages.success(request, _("%(name)s has been added.") % {"name": person.name})
            # Added from an activity's page: straight back to it.
            return redirect(safe_next(request) or "accounts:home")
    return _account_page(request, add_form=form, status=400)


@login_required
@require_POST
def update_person(request: HttpRequest, person_id: int) -> HttpResponse:
    form = PersonForm(request.POST, prefix=f"p{person_id}")
    if form.is_valid():
        try:
            person = services.update_person(
                account=_account(request),
                person_id=person_id,
                name=form.cleaned_data["name"],
                birth_year=form.cleaned_data["birth_year"],
            )
        except AccountError as exc:
            if exc.status == 404:
                raise Http404 from None
            _show_error(form, exc)
        else:
            messages.success(request, _("%(name)s has been updated.") % {"name": person.name})
            return redirect("accounts:home")
    return _account_page(request, edit_forms={person_id: form}, status=400)


@login_required
@require_POST
def remove_person(request: HttpRequest, person_id: int) -> HttpResponse:
    try:
        services.remove_person(account=_account(request), person_id=person_id)
    except AccountError as exc:
        if exc.status == 404:
            raise Http404 from None
        return _account_page(request, page_errors=[str(exc.message)], status=409)
    messages.success(request, _("The person has been removed from your household."))
    return redirect("accounts:home")


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("centers:home")


class StaffSignInView(LoginView):
    """Staff sign in with a username and password (residents use their phone)."""

    template_name = "accounts/staff_sign_in.html"

    def dispatch(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        # Skip the form only for someone who is already staff: a signed-in resident sent here
        # by a staff page must see the form, or the two pages redirect to each other forever.
        from .scopes import is_staff_member

        user = request.user
        if user.is_authenticated and (user.is_staff or is_staff_member(user)):  # type: ignore[arg-type]
            return HttpResponseRedirect(self.get_success_url())
        return super().dispatch(request, *args, **kwargs)

    def get_default_redirect_url(self) -> str:
        return reverse("staff:dashboard")


@require_GET
def dev_codes_page(request: HttpRequest) -> HttpResponse:
    """Development only: the last codes the console sender printed. 404 unless DEBUG."""
    if not settings.DEBUG:
        raise Http404
    return render(request, "accounts/dev_codes.html", {"codes": dev_codes()})


def staff_locked_out(
    request: HttpRequest, response: HttpResponse | None = None, credentials: object = None
) -> HttpResponse:
    """django-axes' answer after too many failed staff sign-ins (AXES_LOCKOUT_CALLABLE)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    page = render(request, "accounts/staff_locked_out.html", {"minutes": minutes}, status=429)
    page["Retry-After"] = str(minutes * 60)
    return page


@staff_required
@require_GET
def staff_audit(request: HttpRequest) -> HttpResponse:
    """The audit trail of staff writes and exports, as far as this staff member's scope."""
    from django.core.paginator import Paginator

    from doorstep.core.audit import ACTIONS, action_label, field_label, is_change, shown_value

    user = request.user
    assert isinstance(user, User)
    errors: list[str] = []
    try:
        start = date.fromisoformat(request.GET["from"]) if request.GET.get("from") else None
        end = date.fromisoformat(request.GET["to"]) if request.GET.get("to") else None
    except ValueError:
        errors.append(_("Dates are written as YYYY-MM-DD."))
        start = end = None
    action = request.GET.get("action", "")
    entries = selectors.audit_trail(user, action=action[:64], start=start, end=end)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    rows = [
        {
            "entry": e,
            "label": action_label(e.action, e.object_type),
            "changes": [
                {
                    "name": field_label(e.object_type, name),
                    "change": is_change(value),
                    "value": {k: shown_value(v) for k, v in value.items()}
                    if is_change(value)
                    else shown_value(value),
                }
                for name, value in (e.changes or {}).items()
            ],
        }
        for e in page
    ]
    return render(
        request,
        "accounts/staff_audit.html",
        {
            "page": page,
            "rows": rows,
            "actions": sorted((code, str(label)) for code, label in ACTIONS.items()),
            "chosen_action": action,
            "raw_from": request.GET.get("from", ""),
            "raw_to": request.GET.get("to", ""),
            "page_errors": errors,
        },
        status=400 if errors else 200,
    )


@require_GET
def terms(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/terms.html", {"version": services.TERMS_VERSION})


@require_GET
def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/privacy.html", {"version": services.TERMS_VERSION})
