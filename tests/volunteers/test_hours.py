"""Bulk approval with adjustments, points by a district's rule, certificates that cannot be
forged, the export and the figures, and scope."""

from decimal import Decimal

import pytest

from doorstep.centers.models import Region
from doorstep.core.models import AuditEntry
from doorstep.visits import codes
from doorstep.volunteers import services
from doorstep.volunteers.models import Certificate, PointRule, Signup
from tests.factories import make_center, make_staff

from .conftest import NOW, SAT, cleared, local

pytestmark = pytest.mark.django_db


def worked(hall, user, out_minute=0):
    s = services.sign_up(user=user, shift_id=hall["shift"].pk, now=NOW)
    code = codes.code_for(hall["center"].pk, SAT)
    services.scan(user=user, center_id=hall["center"].pk, code=code, now=local(SAT, 9))
    services.scan(user=user, center_id=hall["center"].pk, code=code, now=local(SAT, 12, out_minute))
    return Signup.objects.get(pk=s.pk)


def test_bulk_approval_with_an_adjustment_and_points_by_rule(hall):
    a = worked(hall, hall["vol"])
    b = worked(hall, cleared(hall, "志愿者乙"), out_minute=40)
    assert (a.proposed_minutes, b.proposed_minutes) == (180, 220)
    PointRule.objects.create(
        district=Region.objects.get(pk=hall["center"].district_id), points_per_hour=Decimal("1.5")
    )
    with pytest.raises(services.VolunteerError) as e:
        services.approve(
            by=hall["staff"], signup_ids=[a.pk, b.pk], adjust={b.pk: (180, "")}, now=local(SAT, 13)
        )
    assert e.value.code == "reason_required"
    assert Signup.objects.filter(approval="approved").count() == 0
    services.approve(
        by=hall["staff"],
        signup_ids=[a.pk, b.pk],
        adjust={b.pk: (180, "讲解结束后闲聊，不计入")},
        now=local(SAT, 13),
    )
    a.refresh_from_db(), b.refresh_from_db()
    assert (a.approved_minutes, a.points) == (180, Decimal("4.50"))
    assert (b.approved_minutes, b.points, b.adjust_reason) == (
        180,
        Decimal("4.50"),
        "讲解结束后闲聊，不计入",
    )
    entries = AuditEntry.objects.filter(action="volunteer.hours")
    assert entries.count() == 2
    assert entries.get(object_id=str(b.pk)).changes["minutes"] == {"before": 220, "after": 180}
    with pytest.raises(services.VolunteerError) as e:
        services.approve(by=hall["staff"], signup_ids=[a.pk], now=local(SAT, 14))
    assert e.value.code == "not_pending"


def test_staff_of_another_center_cannot_approve(hall):
    a = worked(hall, hall["vol"])
    other = make_staff(center=make_center("别处党群服务中心", district="徐汇区"))
    with pytest.raises(services.VolunteerError):
        services.approve(by=other, signup_ids=[a.pk], now=local(SAT, 13))
    assert services.export_csv(by=other, start=SAT, end=SAT).count("\n") == 1


def test_a_certificate_verifies_and_cannot_be_forged(hall):
    a = worked(hall, hall["vol"])
    services.approve(by=hall["staff"], signup_ids=[a.pk], now=local(SAT, 13))
    [year] = services.years(hall["vol"])
    assert (year.year, year.minutes, year.points, year.shifts) == (2026, 180, Decimal("3.00"), 1)
    cert = services.issue_certificate(user=hall["vol"], year=2026)
    assert services.verify(cert.code) == cert
    assert services.verify(cert.code.lower()) == cert  # typed in small letters
    head, mac = cert.code.split("-")
    flipped = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    for forged in (
        f"{head}-{flipped}",
        f"V{cert.pk + 1}-{mac}",
        "V1-AAAAAAAAAAAAAAAA",
        "nonsense",
        "",
    ):
        assert services.verify(forged) is None
    # Changing what it certifies in the database voids the code.
    Certificate.objects.filter(pk=cert.pk).update(minutes=6000)
    assert services.verify(cert.code) is None
    pdf = services.certificate_pdf(Certificate.objects.get(pk=cert.pk), "https://example.test/v")
    assert pdf.startswith(b"%PDF") and b"STSong-Light" in pdf


def test_export_columns_mask_phones_and_list_approved_hours(hall):
    a = worked(hall, hall["vol"])
    services.approve(by=hall["staff"], signup_ids=[a.pk], now=local(SAT, 13))
    text = services.export_csv(by=hall["staff"], start=SAT, end=SAT)
    header, row = text.strip().splitlines()
    assert header.split(",") == services.hours.EXPORT_COLUMNS
    values = dict(zip(header.split(","), row.split(","), strict=True))
    assert values["hours"] == "3.00" and values["points"] == "3.00" and values["estimated"] == "0"
    assert "****" in values["phone_masked"] and hall["vol"].phone not in text
    assert AuditEntry.objects.filter(action="export.volunteer_hours").exists()


def test_figures(hall):
    a = worked(hall, hall["vol"])
    services.sign_up(user=cleared(hall, "缺席者"), shift_id=hall["shift"].pk, now=NOW)
    services.mark_no_shows(local(SAT, 14))
    services.approve(by=hall["staff"], signup_ids=[a.pk], now=local(SAT, 13))
    f = services.figures(by=hall["staff"], start=SAT, end=SAT)
    assert (f["active"], f["shifts"], f["places"], f["filled"], f["no_shows"]) == (1, 1, 3, 2, 1)
    assert f["hours"] == [("黄浦区党建服务中心", "2026-12", 3.0)]
