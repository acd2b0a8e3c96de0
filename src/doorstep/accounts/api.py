"""Sign-in and account API: /api/v1/auth/..., /api/v1/me, /api/v1/me/people."""

from __future__ import annotations

from django.contrib.auth import logout
from django.http import HttpRequest
from ninja import Router, Schema, Status

from doorstep.core.api import ErrorOut

from . import selectors, services, tokens
from .auth import account_auth, bearer_token, caller, client_ip
from .models import Person, User, mask_phone

router = Router(tags=["accounts"])


class CodeIn(Schema):
    phone: str


class CodeSentOut(Schema):
    phone_masked: str
    expires_in: int
    resend_after: int


class TokenIn(Schema):
    phone: str
    code: str


class PersonOut(Schema):
    id: int
    name: str
    birth_year: int | None
    is_account_holder: bool


class RegionOut(Schema):
    code: str
    name: str
    name_en: str


class MeOut(Schema):
    id: int
    phone_masked: str
    display_name: str
    home_subdistrict: RegionOut | None
    people: list[PersonOut]


class TokenOut(Schema):
    token: str
    user: MeOut


class MeIn(Schema):
    display_name: str | None = None
    home_subdistrict: str | None = None


class PersonIn(Schema):
    name: str
    birth_year: int | None = None


class PersonPatch(Schema):
    name: str | None = None
    birth_year: int | None = None


def _person_out(p: Person) -> dict:
    return {
        "id": p.pk,
        "name": p.name,
        "birth_year": p.birth_year,
        "is_account_holder": p.is_account_holder,
    }


def _me_out(user: User) -> dict:
    user = selectors.account_overview(user)
    region = user.home_subdistrict
    return {
        "id": user.pk,
        "phone_masked": user.masked_phone,
        "display_name": user.display_name,
        "home_subdistrict": (
            None
            if region is None
            else {"code": region.code, "name": region.name, "name_en": region.name_en}
        ),
        "people": [_person_out(p) for p in user.people.all()],
    }


def _user(request: HttpRequest) -> User:
    user = caller(request)
    assert isinstance(user, User)
    return user


@router.post(
    "/auth/code",
    response={202: CodeSentOut, 400: ErrorOut, 422: ErrorOut, 429: ErrorOut, 503: ErrorOut},
    summary="Text a sign-in code to a mobile number",
)
def send_code(request: HttpRequest, payload: CodeIn) -> Status:
    """Send a 6-digit code, valid for 5 minutes. One a minute and five an hour per number,
    twenty an hour per IP; over the limit answers 429 with `retry_after` seconds."""
    record = services.request_code(phone=payload.phone, ip=client_ip(request))
    return Status(
        202,
        {
            "phone_masked": mask_phone(record.phone),
            "expires_in": int(services.CODE_TTL.total_seconds()),
            "resend_after": int(services.PHONE_MIN_INTERVAL.total_seconds()),
        },
    )


@router.post(
    "/auth/token",
    response={200: TokenOut, 400: ErrorOut, 403: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="Exchange a code for a bearer token",
)
def create_token(request: HttpRequest, payload: TokenIn) -> dict:
    """The first sign-in creates the account. Send the token as `Authorization: Bearer ...`."""
    user = services.verify_code(phone=payload.phone, code=payload.code, ip=client_ip(request))
    return {"token": tokens.issue_token(user), "user": _me_out(user)}


@router.post(
    "/auth/logout",
    auth=account_auth,
    response={204: None, 401: ErrorOut, 403: ErrorOut},
    summary="Revoke this bearer token (or end the session)",
)
def sign_out(request: HttpRequest) -> Status:
    token = bearer_token(request)
    if token:
        tokens.revoke_token(token)
    else:
        logout(request)
    return Status(204, None)


@router.get("/me", auth=account_auth, response={200: MeOut, 401: ErrorOut}, summary="My account")
def me(request: HttpRequest) -> dict:
    return _me_out(_user(request))


@router.patch(
    "/me",
    auth=account_auth,
    response={200: MeOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
    summary="Change my name or home subdistrict",
)
def update_me(request: HttpRequest, payload: MeIn) -> dict:
    """`home_subdistrict` is a subdistrict code, or null or "" to clear it. It is used only to
    give local residents priority where a center asks for it."""
    user = _user(request)
    fields = payload.model_dump(exclude_unset=True)
    services.set_profile(
        account=user,
        display_name=(
            fields["display_name"] if fields.get("display_name") is not None else user.display_name
        ),
        home_subdistrict_code=fields.get("home_subdistrict", user.home_subdistrict_id),
    )
    return _me_out(user)


@router.post(
    "/me/people",
    auth=account_auth,
    response={201: PersonOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 409: ErrorOut},
    summary="Add a household member",
)
def add_person(request: HttpRequest, payload: PersonIn) -> Status:
    """Only a name and, for age limits, a birth year. Never ID numbers."""
    person = services.add_person(
        account=_user(request), name=payload.name, birth_year=payload.birth_year
    )
    return Status(201, _person_out(person))


@router.patch(
    "/me/people/{person_id}",
    auth=account_auth,
    response={200: PersonOut, 400: ErrorOut, 401: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Change a household member",
)
def update_person(request: HttpRequest, person_id: int, payload: PersonPatch) -> dict:
    fields = payload.model_dump(exclude_unset=True)
    person = services.update_person(
        account=_user(request),
        person_id=person_id,
        name=fields["name"] if fields.get("name") is not None else services.KEEP,
        birth_year=fields["birth_year"] if "birth_year" in fields else services.KEEP,
    )
    return _person_out(person)


@router.delete(
    "/me/people/{person_id}",
    auth=account_auth,
    response={204: None, 401: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Remove a household member",
)
def remove_person(request: HttpRequest, person_id: int) -> Status:
    """Refused with `person_has_registrations` while they hold a registration."""
    services.remove_person(account=_user(request), person_id=person_id)
    return Status(204, None)
