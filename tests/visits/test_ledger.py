from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from doorstep.visits import services
from doorstep.visits.importing import ImportFileError, import_services
from doorstep.visits.models import ServiceRecord
from doorstep.visits.services import VisitError
from tests.factories import make_staff

pytestmark = pytest.mark.django_db


def test_quick_entry_records_a_batch_and_undoes(client, place):
    c = place["center"]
    client.force_login(place["staff"])
    url = reverse("visits:ledger", args=[c.pk])
    assert client.get(url).status_code == 200
    r = client.post(url, {"service": "canteen_meal", "count": "30"})
    assert r.status_code == 302
    rec = ServiceRecord.objects.get()
    assert (rec.count, rec.service, rec.source, rec.recorded_by) == (
        30,
        "canteen_meal",
        "quick",
        place["staff"],
    )
    page = client.get(url).content.decode()
    assert reverse("visits:ledger_undo", args=[c.pk, rec.pk]) in page
    bad = client.post(url, {"service": "canteen_meal", "count": "0"})
    assert bad.status_code == 400
    assert "1" in bad.content.decode()
    assert client.post(url, {"service": "magic", "count": "1"}).status_code == 400
    assert ServiceRecord.objects.count() == 1
    client.post(reverse("visits:ledger_undo", args=[c.pk, rec.pk]))
    assert not ServiceRecord.objects.exists()


def test_ledger_scope_and_old_entries(place):
    c, staff = place["center"], place["staff"]
    outsider = make_staff(center=place["other"])
    with pytest.raises(VisitError) as err:
        services.record_service(center_id=c.pk, staff=outsider, service="book_loan")
    assert err.value.status == 404
    rec = services.record_service(center_id=c.pk, staff=staff, service="book_loan", count=2)
    with pytest.raises(VisitError):
        services.undo_service(record_id=rec.pk, staff=outsider)
    with pytest.raises(VisitError) as err:
        services.undo_service(record_id=rec.pk, staff=staff, now=timezone.now() + timedelta(days=1))
    assert err.value.code == "undo_expired"


def test_service_api(client, place):
    c = place["center"]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {place['staff_token']}"}
    r = client.post(
        f"/api/v1/centers/{c.pk}/services",
        {"service": "blood_pressure", "count": 12, "note": "上午"},
        content_type="application/json",
        **auth,
    )
    assert r.status_code == 201 and r.json()["count"] == 12 and r.json()["source"] == "api"
    bad = client.post(
        f"/api/v1/centers/{c.pk}/services",
        {"service": "blood_pressure", "count": -1},
        content_type="application/json",
        **auth,
    )
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_count"
    assert client.delete(f"/api/v1/services/{r.json()['id']}", **auth).status_code == 204
    assert not ServiceRecord.objects.exists()
    anon = client.post(
        f"/api/v1/centers/{c.pk}/services",
        {"service": "book_loan"},
        content_type="application/json",
    )
    assert anon.status_code == 401


def csv_file(place, rows):
    head = "center,date,service,count,note\n"
    return (head + "".join(r + "\n" for r in rows)).encode()


def test_import_reports_every_bad_row_and_imports_nothing(place):
    c = place["center"]
    today = timezone.localdate().isoformat()
    data = csv_file(
        place,
        [
            f"{c.pk},{today},canteen_meal,30,",
            f"{c.pk},2026-13-01,canteen_meal,3,",
            f"999999,{today},book_loan,3,",
            f"{c.pk},{today},flying,3,",
            f"{c.pk},{today},book_loan,0,",
            f"{c.pk},{today},canteen_meal,5,",
            f"{c.pk},{today},book_loan",
        ],
    )
    result = import_services(data)
    assert [e.line for e in result.errors] == [3, 4, 5, 6, 7, 8]
    assert not result.committed and not ServiceRecord.objects.exists()
    partial = import_services(data, skip_invalid=True)
    assert partial.committed and partial.created == 1
    assert ServiceRecord.objects.get().count == 30


def test_reimport_changes_nothing_and_corrections_update(place, tmp_path):
    c = place["center"]
    day = (timezone.localdate() - timedelta(days=1)).isoformat()
    rows = [
        f"{c.external_key},{day},Meal at the canteen,30,午餐",
        f"{c.pk},{day},Blood-pressure check,12,",
    ]
    path = tmp_path / "tally.csv"
    path.write_bytes(csv_file(place, rows))
    call_command("import-services", str(path))
    assert ServiceRecord.objects.count() == 2
    before = list(ServiceRecord.objects.order_by("pk").values_list("pk", "count", "updated_at"))
    again = import_services(path.read_bytes())
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert (
        list(ServiceRecord.objects.order_by("pk").values_list("pk", "count", "updated_at"))
        == before
    )
    rows[1] = f"{c.pk},{day},blood_pressure,14,"
    fixed = import_services(csv_file(place, rows))
    assert fixed.updated == 1
    assert ServiceRecord.objects.get(service="blood_pressure").count == 14


def test_import_file_errors_and_staff_scope(client, place):
    with pytest.raises(ImportFileError):
        import_services(b"\xff\xfe")
    with pytest.raises(ImportFileError):
        import_services(b"centre,day\n1,2\n")
    client.force_login(place["staff"])
    today = timezone.localdate().isoformat()
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile(
        "t.csv", csv_file(place, [f"{place['other'].pk},{today},book_loan,3,"]), "text/csv"
    )
    r = client.post(reverse("visits:ledger_import"), {"file": upload})
    assert r.status_code == 400
    assert (
        "line 2" in r.content.decode()
        or "第 2 行" in r.content.decode()
        or "2" in r.content.decode()
    )
    assert not ServiceRecord.objects.exists()
    good = SimpleUploadedFile(
        "t.csv", csv_file(place, [f"{place['center'].pk},{today},book_loan,3,"]), "text/csv"
    )
    assert client.post(reverse("visits:ledger_import"), {"file": good}).status_code == 200
    assert ServiceRecord.objects.get().source == "import"


def test_import_command_refuses_a_bad_file(place, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_file(place, [f"{place['center'].pk},2020-01-01,book_loan,x,"]))
    with pytest.raises(CommandError):
        call_command("import-services", str(path))
    assert not ServiceRecord.objects.exists()


def test_import_accepts_the_chinese_service_name(place):
    day = timezone.localdate().isoformat()
    result = import_services(csv_file(place, [f"{place['center'].pk},{day},食堂就餐,30,"]))
    assert result.committed and ServiceRecord.objects.get().service == "canteen_meal"


def test_service_undo_is_taken_out_of_the_rollups_at_once(place):
    from django.utils import timezone

    from doorstep.figures.models import CenterDay
    from doorstep.figures.services import refresh_figures

    c, staff = place["center"], place["staff"]
    keep = services.record_service(center_id=c.pk, staff=staff, service="canteen_meal", count=30)
    wrong = services.record_service(center_id=c.pk, staff=staff, service="book_loan", count=3)
    refresh_figures()
    day = timezone.localdate(keep.at)
    assert CenterDay.objects.get(center=c, day=day).s_book_loan == 3
    services.undo_service(record_id=wrong.pk, staff=staff)
    row = CenterDay.objects.get(center=c, day=day)
    assert row.s_book_loan == 0 and row.s_canteen_meal == 30
