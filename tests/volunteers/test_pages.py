"""Volunteer pages: opting in, signing up, the poster's scan page, the public verification,
and the back office (opportunity, shifts, clearance, hours, export, figures); scope."""

from unittest import mock

import pytest

from doorstep.visits import codes
from doorstep.volunteers import services
from doorstep.volunteers.models import Clearance, Profile, Shift, Signup
from tests.factories import client_for, make_account, make_center, make_staff

from .conftest import NOW, SAT, local

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _monday_nine():
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        yield


def test_opting_in_says_why_and_keeps_only_what_is_offered(hall):
    resident = make_account(name="新志愿者")
    c = client_for(resident)
    page = c.get("/volunteer/").content.decode()
    assert "党员志愿者" in page and "可不填" in page
    assert c.post("/volunteer/", {"availability": "周末"}).status_code == 400
    c.post(
        "/volunteer/",
        {"skills": ["explainer", "nonsense"], "languages": ["en"], "availability": "周末上午"},
    )
    profile = Profile.objects.get(user=resident)
    assert (profile.skills, profile.languages, profile.party_member) == (
        ["explainer"],
        ["en"],
        False,
    )


def test_signing_up_on_the_page_and_the_scan_page(hall):
    c = client_for(hall["vol"])
    page = c.get(f"/volunteer/opportunities/{hall['opp'].pk}/").content.decode()
    assert "党建展厅讲解" in page and "报名" in page
    assert (
        c.post(
            f"/volunteer/opportunities/{hall['opp'].pk}/", {"shift": hall["shift"].pk}
        ).status_code
        == 302
    )
    assert Signup.objects.get().status == "confirmed"
    code = codes.code_for(hall["center"].pk, SAT)
    url = f"/volunteer/c/{hall['center'].pk}/{code}"
    assert "签到或签退" in c.get(url).content.decode()
    with mock.patch("django.utils.timezone.now", return_value=local(SAT, 8, 55)):
        done = c.post(url).content.decode()
    assert "签到时间 08:55" in done
    assert client_for(make_account(name="路人")).post(url).status_code == 400


def test_the_public_verification_page(hall):
    assert client_for(None).get("/volunteer/verify/?code=V1-AAAAAAAAAAAAAAAA").status_code == 404
    assert (
        "没有这个验证码的证明"
        in client_for(None).get("/volunteer/verify/?code=V1-AAAAAAAAAAAAAAAA").content.decode()
    )
    assert client_for(None, "en").get("/volunteer/verify/").status_code == 200


def test_the_back_office(hall):
    staff = client_for(hall["staff"])
    assert "党建展厅讲解" in staff.get("/staff/volunteers/").content.decode()
    answer = staff.post(
        f"/staff/volunteers/opportunities/{hall['opp'].pk}/",
        {
            "do": "shifts",
            "day": "2026-12-19",
            "starts": "09:00",
            "ends": "12:00",
            "places": "2",
            "weeks": "3",
        },
    )
    assert answer.status_code == 302 and Shift.objects.count() == 4
    newcomer = make_account(name="新人")
    services.save_profile(user=newcomer, skills=["explainer"], now=NOW)
    staff.post(
        "/staff/volunteers/",
        {"do": "clear", "phone": newcomer.phone, "center": hall["center"].pk, "role": "explainer"},
    )
    assert Clearance.objects.filter(user=newcomer).exists()
    poster = staff.get(f"/staff/volunteers/poster/{hall['center'].pk}").content.decode()
    assert codes.today_code(hall["center"].pk) in poster and "<svg" in poster
    assert staff.get("/staff/volunteers/hours/").status_code == 200
    assert staff.get("/staff/volunteers/figures/").status_code == 200
    csv = staff.get("/staff/volunteers/export.csv")
    assert csv.status_code == 200 and b"record_id" in csv.content
    other = client_for(make_staff(center=make_center("别处党群服务中心", district="徐汇区")))
    assert other.get(f"/staff/volunteers/opportunities/{hall['opp'].pk}/").status_code == 404
    assert other.get(f"/staff/volunteers/poster/{hall['center'].pk}").status_code == 404
