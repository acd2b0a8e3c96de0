"""Requests pages: the center's "ask" section, a type's form (each field says why), filing
as a company, the timeline, messages with attachments (bad files refused with nothing
stored), the handlers' queue and moves, the partner's pages, the catalogue, figures; scope."""

import io
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from doorstep.cases import services
from doorstep.cases.models import Attachment, Message, ServiceRequest, TypeSetting
from tests.cases.conftest import MON, file_health, local
from tests.factories import client_for, make_account

pytestmark = pytest.mark.django_db

NOW = local(MON, 10)


@pytest.fixture(autouse=True)
def _monday_ten():
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        yield


def png(size=(40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


PLAIN_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def test_the_center_page_and_the_form_say_why_each_field_is_asked(scene):
    c = client_for(None)
    page = c.get(f"/centers/{scene['center'].pk}/").content.decode()
    assert "向中心提出诉求" in page and "健康证办理" in page
    form = c.get(f"/centers/{scene['center'].pk}/ask/?type=health_certificate").content.decode()
    assert "需要办证的员工人数" in form and "为什么问：医院据此预留体检名额" in form
    assert "2 个工作小时" in form or "2个工作小时" in form
    assert "登录后提出诉求" in form  # not signed in: no form, a way in


def test_a_company_files_and_sees_its_timeline(scene):
    c = client_for(scene["manager"])
    answer = c.post(
        f"/centers/{scene['center'].pk}/ask/",
        {
            "type": "health_certificate",
            "f_company": "河畔餐饮有限公司",
            "f_employees": "12",
            "description": "12名员工办理健康证",
            "organization": str(scene["company"].pk),
        },
    )
    req = ServiceRequest.objects.get()
    assert answer.status_code == 302 and answer["Location"] == f"/requests/{req.pk}/"
    assert req.organization == scene["company"] and req.answers["employees"] == 12
    page = c.get(answer["Location"]).content.decode()
    assert "已提交" in page and "需要办证的员工人数" in page and "12" in page
    assert "首次答复截止" in page
    # The company's other members see it too; a stranger does not.
    assert client_for(make_account(name="路人")).get(f"/requests/{req.pk}/").status_code == 404
    assert req.pk in [r.pk for r in ServiceRequest.objects.filter(organization=scene["company"])]


def test_a_bad_form_is_answered_in_the_users_language_and_stores_nothing(scene):
    c = client_for(scene["manager"])
    zh = c.post(
        f"/centers/{scene['center'].pk}/ask/",
        {
            "type": "health_certificate",
            "f_company": "甲",
            "f_employees": "很多",
            "description": "x",
        },
    )
    assert zh.status_code == 400 and "是一个整数" in zh.content.decode()
    en = client_for(scene["manager"], "en").post(
        f"/centers/{scene['center'].pk}/ask/",
        {"type": "health_certificate", "f_company": "A", "f_employees": "many", "description": "x"},
    )
    assert en.status_code == 400 and "is a whole number" in en.content.decode()
    assert ServiceRequest.objects.count() == 0


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("big.png", b"\x89PNG" + b"0" * (5 * 1024 * 1024 + 1), "image/png"),
        ("page.html", b"<html><script>alert(1)</script></html>", "text/html"),
        (
            "pic.svg",
            b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
            "image/svg+xml",
        ),
        (
            "form.pdf",
            b"%PDF-1.4\n<< /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>\n%%EOF",
            "application/pdf",
        ),
        ("cut.pdf", b"%PDF-1.4\n1 0 obj << >> endobj\n", "application/pdf"),
    ],
)
def test_bad_attachments_are_refused_with_nothing_stored(
    scene, tmp_path, settings, name, data, content_type
):
    settings.MEDIA_ROOT = tmp_path
    req = file_health(scene, local(MON, 9))
    answer = client_for(scene["manager"]).post(
        f"/requests/{req.pk}/",
        {"do": "message", "body": "附件", "files": [SimpleUploadedFile(name, data, content_type)]},
    )
    assert answer.status_code == 400
    assert Message.objects.count() == 0 and Attachment.objects.count() == 0
    assert list(tmp_path.rglob("*.*")) == []


def test_good_attachments_are_kept_cleaned_and_shown_only_to_the_parties(scene, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    req = file_health(scene, local(MON, 9))
    c = client_for(scene["manager"])
    answer = c.post(
        f"/requests/{req.pk}/",
        {
            "do": "message",
            "body": "<script>alert(1)</script>员工名单见附件",
            "files": [
                SimpleUploadedFile("名单.pdf", PLAIN_PDF, "application/pdf"),
                SimpleUploadedFile("photo.png", png(), "image/png"),
            ],
        },
    )
    assert answer.status_code == 302
    pdf, photo = Attachment.objects.order_by("pk")
    assert (pdf.content_type, photo.content_type) == ("application/pdf", "image/png")
    page = c.get(f"/requests/{req.pk}/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    got = c.get(f"/requests/files/{pdf.pk}")
    assert got.status_code == 200 and b"".join(got.streaming_content) == PLAIN_PDF
    assert "attachment" in got["Content-Disposition"]
    assert client_for(scene["staff"]).get(f"/requests/files/{photo.pk}").status_code == 200
    for outsider in (make_account(name="路人"), scene["nurse"]):  # not handed over yet
        assert client_for(outsider).get(f"/requests/files/{photo.pk}").status_code == 404


def test_staff_accept_and_hand_over_then_the_partner_works_on_its_pages(scene):
    req = file_health(scene, local(MON, 9))
    staff = client_for(scene["staff"])
    queue = staff.get("/requests/handle/").content.decode()
    assert f"/requests/handle/{req.pk}/" in queue and "健康证办理" in queue
    assert (
        staff.post(
            f"/requests/handle/{req.pk}/", {"do": "accept", "owner": scene["staff"].pk}
        ).status_code
        == 302
    )
    assert (
        staff.post(
            f"/requests/handle/{req.pk}/", {"do": "hand_over", "note": "请医院安排"}
        ).status_code
        == 302
    )
    req.refresh_from_db()
    assert req.holder == "partner"
    nurse = client_for(scene["nurse"])
    page = nurse.get(f"/requests/handle/{req.pk}/").content.decode()
    assert "后台" not in page  # a partner's page is not the back office
    assert (
        nurse.post(
            f"/requests/handle/{req.pk}/", {"do": "accept", "note": "周三上午体检"}
        ).status_code
        == 302
    )
    assert (
        nurse.post(f"/requests/handle/{req.pk}/", {"do": "resolve", "note": ""}).status_code == 400
    )
    assert (
        nurse.post(f"/requests/handle/{req.pk}/", {"do": "resolve", "note": "已体检"}).status_code
        == 302
    )
    req.refresh_from_db()
    assert req.status == "resolved" and req.owner == scene["nurse"]
    # The applicant's page shows the hand-over and who has it; a resident cannot open the
    # handler's page.
    mine = client_for(scene["manager"]).get(f"/requests/{req.pk}/").content.decode()
    assert "移交合作方" in mine and "合作医院" in mine and "已体检" in mine
    assert client_for(scene["resident"]).get(f"/requests/handle/{req.pk}/").status_code == 404
    assert client_for(scene["manager"]).get("/requests/handle/").status_code == 404


def test_the_applicant_rates_it_and_closes_it(scene):
    req = file_health(scene, local(MON, 9))
    services.move(request_id=req.pk, by=scene["staff"], action="accept", now=local(MON, 9, 10))
    services.move(
        request_id=req.pk, by=scene["staff"], action="resolve", note="已办", now=local(MON, 9, 20)
    )
    c = client_for(scene["manager"])
    assert c.post(f"/requests/{req.pk}/", {"do": "rate", "score": "9"}).status_code == 400
    assert (
        c.post(f"/requests/{req.pk}/", {"do": "rate", "score": "5", "comment": "快"}).status_code
        == 302
    )
    assert c.post(f"/requests/{req.pk}/", {"do": "close"}).status_code == 302
    req.refresh_from_db()
    assert (req.rating, req.status) == (5, "closed")


def test_the_catalogue_page_switches_and_refuses_bad_types(scene):
    c = client_for(scene["staff"])
    center = scene["center"]
    page = c.get(f"/staff/requests/types/?center={center.pk}").content.decode()
    assert "健康证办理" in page and "合作医院" in page
    c.post(
        f"/staff/requests/types/?center={center.pk}",
        {"do": "switch", "type": scene["policy"].pk, "enabled": "0"},
    )
    assert TypeSetting.objects.get(center=center, type=scene["policy"]).enabled is False
    bad = c.post(
        f"/staff/requests/types/?center={center.pk}",
        {
            "do": "create",
            "place": "center",
            "code": "x",
            "name": "测试",
            "group": "other",
            "handler": "center",
            "first_response_hours": "2",
            "resolution_hours": "8",
            "fields": "[{",
        },
    )
    assert bad.status_code == 400 and "JSON" in bad.content.decode()
    good = c.post(
        f"/staff/requests/types/?center={center.pk}",
        {
            "do": "create",
            "place": "center",
            "code": "bike_repair",
            "name": "骑手电动车充电咨询",
            "group": "livelihood",
            "handler": "center",
            "first_response_hours": "2",
            "resolution_hours": "8",
            "fields": "[]",
        },
    )
    assert good.status_code == 302
    assert "bike_repair" in {t.code for t in services.catalogue(center)}


def test_figures_page(scene):
    req = file_health(scene, local(MON, 9))
    services.move(request_id=req.pk, by=scene["staff"], action="accept", now=local(MON, 9, 30))
    page = client_for(scene["supervisor"]).get("/requests/figures/?by=type").content.decode()
    assert "健康证办理" in page and "100%" in page  # answered within 2 working hours
