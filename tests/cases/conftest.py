from datetime import date, datetime, time

import pytest
from django.utils import timezone

from doorstep.accounts.models import Membership, Organization
from doorstep.cases import services
from doorstep.centers.models import Region
from tests.factories import make_account, make_center, make_staff


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


# A week of December 2026: Monday the 7th to Sunday the 13th.
MON, TUE, WED, THU, FRI, SAT, SUN = (date(2026, 12, d) for d in range(7, 14))
NEXT_MON = date(2026, 12, 14)

HEALTH_FIELDS = [
    {
        "code": "company",
        "label": "公司名称",
        "label_en": "Company name",
        "why": "医院按公司安排体检",
        "why_en": "The hospital schedules the check-ups by company",
        "kind": "text",
        "required": True,
    },
    {
        "code": "employees",
        "label": "需要办证的员工人数",
        "label_en": "Staff who need a certificate",
        "why": "医院据此预留体检名额",
        "why_en": "The hospital keeps that many check-up places",
        "kind": "number",
        "required": True,
        "max": 500,
    },
]


def make_scene() -> dict:
    """苏河湾's center (Mon–Fri 09:00–17:00) in 北站街道, its staff, the subdistrict's staff,
    a hospital partner with one member, a canteen company with one member, a resident, and
    two types: health certificates (handled by the hospital; 2 h to a first answer, 16 h to
    the result) and policy advice (the center; 4 h / 8 h)."""
    center = make_center(
        "苏河湾楼宇党群服务中心",
        district="静安区",
        subdistrict="北站街道",
        level="office_park",
        hours="mon-fri 09:00-17:00",
    )
    staff = make_staff(center=center)
    sub = Region.objects.get(pk=center.subdistrict_id)
    supervisor = make_staff(scope="subdistrict", region=sub)
    admin = make_staff(scope="city")
    hospital = Organization.objects.create(
        name="合作医院",
        kind="partner",
        center=center,
        status="confirmed",
        invite_code="HOSP0001",
    )
    nurse = make_account(name="护士长")
    Membership.objects.create(organization=hospital, user=nurse, is_manager=True)
    company = Organization.objects.create(
        name="河畔餐饮有限公司",
        kind="company",
        center=center,
        status="confirmed",
        invite_code="FOOD0001",
    )
    manager = make_account(name="餐饮经理")
    Membership.objects.create(organization=company, user=manager, is_manager=True)
    resident = make_account(name="居民甲")
    health = services.create_type(
        by=admin,
        code="health_certificate",
        name="健康证办理",
        name_en="Health certificates",
        group="business",
        fields=HEALTH_FIELDS,
        handler="partner",
        partner_id=hospital.pk,
        first_response_hours=2,
        resolution_hours=16,
        office_hours="mon-fri 08:00-12:00",
        source="article",
    )
    policy = services.create_type(
        by=admin,
        code="policy_advice",
        name="政策咨询",
        name_en="Policy advice",
        group="business",
        handler="center",
        first_response_hours=4,
        resolution_hours=8,
    )
    return {
        "center": center,
        "staff": staff,
        "supervisor": supervisor,
        "admin": admin,
        "hospital": hospital,
        "nurse": nurse,
        "company": company,
        "manager": manager,
        "resident": resident,
        "health": health,
        "policy": policy,
    }


@pytest.fixture
def scene(regions):
    return make_scene()


def file_health(scene: dict, at: datetime, employees: int = 12):
    return services.submit(
        user=scene["manager"],
        center_id=scene["center"].pk,
        type_code="health_certificate",
        description="餐厅员工需要办理健康证",
        answers={"company": "河畔餐饮有限公司", "employees": str(employees)},
        organization_id=scene["company"].pk,
        now=at,
    )
