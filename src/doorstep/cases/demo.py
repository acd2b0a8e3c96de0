"""The request catalogue and a few requests for `make run` (`doorstep load-demo`).

From the article, at 苏河湾: companies get "党组织关系转入、政策咨询、会议场地安排" there, and for
catering staff's health certificates (健康证) "中心专门联合企业和医院搭建了三方平台，只需在线申请即
可办理" (the hospital is not named: the partner here is a synthetic stand-in). The city-wide
defaults (legal advice, employment help, 一网通办 assistance, meal delivery set-up, a
facility's repair, accessibility help, other) and every service level are synthetic examples,
and say so; so are the demo requests and their applicants.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from doorstep.accounts.models import Membership, Organization, User
from doorstep.centers.models import Center

from . import services
from .models import RequestType, ServiceRequest, Source

ARTICLE = "《党群服务中心：走得进 坐得下 还想来》"
SUHEWAN = "article:suhewan-jingan"
GUBEI = "article:gubei-civic-center"

WHY_COMPANY = (
    "按企业办理，便于中心和合作方联系",
    "Handled per company, so the center and partner can reach you",
)
CITY_TYPES: list[dict[str, Any]] = [
    {
        "code": "party_transfer",
        "name": "党组织关系转入",
        "name_en": "Party membership transfer",
        "group": "party",
        "first_response_hours": 8,
        "resolution_hours": 40,
        "fields": [
            {
                "code": "from_branch",
                "kind": "text",
                "required": True,
                "label": "原所在党组织",
                "label_en": "Branch you come from",
                "why": "中心据此联系原党组织办理转接",
                "why_en": "The center contacts that branch to transfer you",
            }
        ],
    },
    {
        "code": "policy_advice",
        "name": "政策咨询",
        "name_en": "Policy advice",
        "group": "business",
        "first_response_hours": 4,
        "resolution_hours": 16,
        "fields": [
            {
                "code": "topic",
                "kind": "choice",
                "required": True,
                "label": "咨询方面",
                "label_en": "About",
                "why": "转给熟悉该政策的工作人员",
                "why_en": "It goes to staff who know that policy",
                "choices": [
                    {"key": "subsidy", "label": "补贴与扶持", "label_en": "Subsidies and support"},
                    {"key": "talent", "label": "人才与落户", "label_en": "Talent and residence"},
                    {"key": "tax", "label": "税费", "label_en": "Taxes and fees"},
                    {"key": "other", "label": "其他", "label_en": "Other"},
                ],
            }
        ],
    },
    {
        "code": "legal_advice",
        "name": "法律咨询",
        "name_en": "Legal advice",
        "group": "livelihood",
        "first_response_hours": 8,
        "resolution_hours": 40,
    },
    {
        "code": "employment_help",
        "name": "就业帮扶",
        "name_en": "Help finding work",
        "group": "livelihood",
        "first_response_hours": 8,
        "resolution_hours": 80,
    },
    {
        "code": "one_netcom",
        "name": "一网通办帮办",
        "name_en": "Help with “One Network” online services",
        "group": "livelihood",
        "first_response_hours": 4,
        "resolution_hours": 16,
    },
    {
        "code": "meal_delivery_setup",
        "name": "助餐送餐上门开通",
        "name_en": "Meal delivery set-up",
        "group": "livelihood",
        "first_response_hours": 4,
        "resolution_hours": 24,
        "fields": [
            {
                "code": "for_whom",
                "kind": "choice",
                "required": True,
                "label": "为谁申请",
                "label_en": "For whom",
                "why": "为家人代办时，中心会与老人本人确认",
                "why_en": "When you apply for a relative, the center confirms with them",
                "choices": [
                    {"key": "self", "label": "本人", "label_en": "Myself"},
                    {"key": "relative", "label": "家人", "label_en": "A relative"},
                ],
            }
        ],
    },
    {
        "code": "facility_repair",
        "name": "中心设施报修",
        "name_en": "Repair of a center facility",
        "group": "facilities",
        "first_response_hours": 4,
        "resolution_hours": 40,
    },
    {
        "code": "accessibility_help",
        "name": "无障碍协助",
        "name_en": "Accessibility help",
        "group": "facilities",
        "first_response_hours": 2,
        "resolution_hours": 16,
    },
    {
        "code": "other",
        "name": "其他诉求",
        "name_en": "Something else",
        "group": "other",
        "first_response_hours": 8,
        "resolution_hours": 40,
    },
]

HEALTH = {
    "code": "health_certificate",
    "name": "健康证办理",
    "name_en": "Health certificates for catering staff",
    "description": "餐饮企业员工的健康证：线上申请，中心对接合作医院安排体检。",
    "description_en": (
        "Health certificates for catering staff: apply online; the center arranges the "
        "check-ups with its partner hospital."
    ),
    "group": "business",
    "handler": "partner",
    "first_response_hours": 4,
    "resolution_hours": 40,
    "office_hours": "mon-fri 08:00-11:30; mon-fri 13:30-16:30",
    "fields": [
        {
            "code": "company",
            "kind": "text",
            "required": True,
            "label": "企业名称",
            "label_en": "Company",
            "why": WHY_COMPANY[0],
            "why_en": WHY_COMPANY[1],
        },
        {
            "code": "employees",
            "kind": "number",
            "required": True,
            "max": 500,
            "label": "需办证人数",
            "label_en": "Staff who need a certificate",
            "why": "医院据此预留体检名额",
            "why_en": "The hospital keeps that many check-up places",
        },
    ],
}

REQUESTS = [
    # (type, days ago, hours ago, description, moves)
    ("health_certificate", 3, 2, "新开门店 8 名员工需要办理健康证。", ["accept", "hand_over"]),
    ("policy_advice", 1, 3, "想了解楼宇企业的房租补贴申请条件。", ["accept"]),
    ("meal_delivery_setup", 0, 1, "父亲行动不便，想开通午餐送餐上门。", []),
    ("party_transfer", 6, 0, "新入职员工党组织关系从外省转入。", ["accept", "resolve"]),
]


def _demo_user(key: str, name: str) -> User:
    user, created = User.objects.get_or_create(
        username=f"demo-{key}", defaults={"display_name": name}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _type(values: dict[str, Any], **place: Any) -> tuple[RequestType, bool]:
    existing = RequestType.objects.filter(code=values["code"]).first()
    if existing is not None:
        return existing, False
    from .services.types import check_fields

    data = {**values, "fields": check_fields(values.get("fields", []))}
    return RequestType.objects.create(**data, **place), True


@transaction.atomic
def load_demo_requests() -> dict[str, int]:
    made = 0
    for values in CITY_TYPES:
        _t, created = _type(
            {**values, "description": values.get("description", "")},
            source=Source.SYNTHETIC,
            source_detail="doorstep 示例目录：服务时限为示例",
        )
        made += created
    suhewan = Center.objects.filter(external_key=SUHEWAN).first()
    if suhewan is None:
        return {"types": made, "requests": 0}
    hospital, _ = Organization.objects.get_or_create(
        invite_code="DEMOHOSP",
        defaults={
            "name": "合作医院（合成示例）",
            "kind": Organization.Kind.PARTNER,
            "center": suhewan,
            "status": Organization.Status.CONFIRMED,
        },
    )
    Membership.objects.get_or_create(
        organization=hospital,
        user=_demo_user("hospital", "示例医院联络员"),
        defaults={"is_manager": True},
    )
    _t, created = _type(
        {**HEALTH, "partner": hospital},
        center=suhewan,
        source=Source.ARTICLE,
        source_detail=f"{ARTICLE}：“中心专门联合企业和医院搭建了三方平台，只需在线申请即可办理”（服务时限与合作医院为示例）",
    )
    made += created
    if ServiceRequest.objects.filter(synthetic=True).exists():
        return {"types": made, "requests": 0}
    company = Organization.objects.filter(invite_code="DEMO0001").first()
    applicant = _demo_user("applicant", "示例企业联络人")
    if company is not None:
        Membership.objects.get_or_create(
            organization=company, user=applicant, defaults={"is_manager": True}
        )
    staff = _demo_user("suhewan-staff", "示例工作人员")
    from doorstep.accounts.models import StaffRole

    StaffRole.objects.get_or_create(user=staff, scope=StaffRole.Scope.CENTER, center=suhewan)
    now = timezone.now().replace(second=0, microsecond=0)
    count = 0
    for code, days, hours, text, moves in REQUESTS:
        at = now - timedelta(days=days, hours=hours)
        answers = (
            {"company": "示例科技有限公司（合成）", "employees": "8"}
            if code == "health_certificate"
            else {}
        )
        if code == "policy_advice":
            answers = {"topic": "subsidy"}
        if code == "meal_delivery_setup":
            answers = {"for_whom": "relative"}
        if code == "party_transfer":
            answers = {"from_branch": "（示例）外省某企业党支部"}
        req = services.submit(
            user=applicant,
            center_id=suhewan.pk,
            type_code=code,
            description=text,
            answers=answers,
            organization_id=company.pk if company and code == "health_certificate" else None,
            synthetic=True,
            now=at,
        )
        step = at
        for move in moves:
            step += timedelta(minutes=40)
            note = {
                "hand_over": "请医院安排体检时间。",
                "resolve": "已完成转接，请到支部报到。",
            }.get(move, "")
            services.move(request_id=req.pk, by=staff, action=move, note=note, now=min(step, now))
        count += 1
    return {"types": made, "requests": count}
