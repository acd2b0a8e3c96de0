"""Pages, exports and API: scoped like the back office; another center's figures are a 404."""

from __future__ import annotations

import io
from datetime import date

import pytest

from doorstep.accounts.tokens import issue_token
from doorstep.figures.services import refresh_figures
from tests.factories import make_account, make_staff

from .conftest import add_service, add_visit

PERIOD = "?from=2026-03-01&to=2026-03-31"


@pytest.fixture
def world(two_centers):
    a, b = two_centers
    resident = make_account()
    add_visit(a, date(2026, 3, 2), user=resident, stay=30, group="elderly")
    add_visit(a, date(2026, 3, 3), user=resident, synthetic=True)
    add_visit(b, date(2026, 3, 2), group="rider")
    add_service(a, date(2026, 3, 2), "rider_rest", count=4)
    refresh_figures()
    return a, b, make_staff(center=a)


def test_center_staff_see_their_center(client, world):
    a, _b, staff = world
    client.force_login(staff)
    r = client.get(f"/staff/figures/center/{a.pk}/{PERIOD}")
    assert r.status_code == 200
    body = r.content.decode()
    assert "甲中心" in body and "合成数据" in body  # synthetic rows are labelled
    assert r.context["f"].visits == 2 and r.context["f"].unique_visitors == 1
    assert 'id="figures-data"' in body and "chart.umd.min.js" in body
    home = client.get("/staff/figures/")
    assert home.status_code == 200 and f"/staff/figures/center/{a.pk}/" in home.content.decode()


def test_center_staff_cannot_read_another_center_or_a_region(client, world):
    a, b, staff = world
    client.force_login(staff)
    assert client.get(f"/staff/figures/center/{b.pk}/").status_code == 404
    assert client.get(f"/staff/figures/center/{b.pk}/export.csv").status_code == 404
    assert client.get(f"/staff/figures/region/{a.district_id}/").status_code == 404
    assert client.get("/staff/figures/region/310000/").status_code == 404


def test_residents_and_strangers_are_sent_to_sign_in(client, world):
    a, _b, _staff = world
    r = client.get(f"/staff/figures/center/{a.pk}/")
    assert r.status_code == 302 and "sign-in" in r["Location"]
    client.force_login(make_account(name="路人"))
    assert client.get(f"/staff/figures/center/{a.pk}/").status_code == 302


def test_district_admin_reads_district_and_its_centers_not_another(client, world, regions):
    a, b, _staff = world
    admin = make_staff(scope="district", region=regions.get(pk=a.district_id))
    client.force_login(admin)
    r = client.get(f"/staff/figures/region/{a.district_id}/{PERIOD}")
    assert r.status_code == 200 and r.context["f"].visits == 2
    assert client.get(f"/staff/figures/center/{a.pk}/").status_code == 200
    assert client.get(f"/staff/figures/region/{b.district_id}/").status_code == 404
    assert client.get("/staff/figures/region/310000/").status_code == 404


def test_city_admin_reads_the_city(client, world):
    client.force_login(make_staff(scope="city"))
    r = client.get(f"/staff/figures/region/310000/{PERIOD}")
    assert r.status_code == 200 and r.context["f"].visits == 3
    # Links one level down, keeping the period: the 16 districts.
    assert len(r.context["child_regions"]) == 16
    assert "/staff/figures/region/310105/?from=2026-03-01" in r.content.decode()


def test_bad_period_shows_a_message_not_a_500(client, world):
    a, _b, staff = world
    client.force_login(staff)
    r = client.get(f"/staff/figures/center/{a.pk}/?from=2026-04-01&to=2026-03-01")
    assert r.status_code == 400
    assert "开始" in r.content.decode()
    r = client.get(f"/staff/figures/center/{a.pk}/export.csv?from=nope")
    assert r.status_code == 400


def test_csv_and_xlsx_exports(client, world):
    from openpyxl import load_workbook

    a, _b, staff = world
    client.force_login(staff)
    r = client.get(f"/staff/figures/center/{a.pk}/export.csv{PERIOD}")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    text = r.content.decode("utf-8-sig")
    assert "甲中心" in text and "2026-03-02,1" in text
    r = client.get(f"/staff/figures/center/{a.pk}/export.xlsx{PERIOD}")
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    assert len(wb.sheetnames) == 8
    summary = [row for row in wb.worksheets[0].iter_rows(values_only=True)]
    assert any(row[1] == 2 for row in summary if row and len(row) > 1)
    assert client.get(f"/staff/figures/center/{a.pk}/export.pdf").status_code == 404


def test_api_scoped(client, world):
    a, b, staff = world
    auth = {"HTTP_AUTHORIZATION": f"Bearer {issue_token(staff)}"}
    r = client.get(f"/api/v1/figures?center={a.pk}&from=2026-03-01&to=2026-03-31", **auth)
    assert r.status_code == 200, r.content
    data = r.json()
    assert (data["visits"], data["unique_visitors"], data["synthetic"]) == (2, 1, True)
    assert data["by_hour"][10] == 2 and data["services"][0]["code"] == "rider_rest"
    r = client.get(f"/api/v1/figures?center={b.pk}", **auth)
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = client.get(f"/api/v1/figures?region={a.district_id}", **auth)
    assert r.status_code == 404
    r = client.get(f"/api/v1/figures?center={a.pk}&from=2026-04-01&to=2026-03-01", **auth)
    assert r.status_code == 400 and r.json()["code"] == "bad_period"
    r = client.get(f"/api/v1/figures?center={a.pk}&region=310000", **auth)
    assert r.status_code == 400 and r.json()["code"] == "bad_scope"
    resident = {"HTTP_AUTHORIZATION": f"Bearer {issue_token(make_account())}"}
    r = client.get(f"/api/v1/figures?center={a.pk}", **resident)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert client.get(f"/api/v1/figures?center={a.pk}").status_code == 401


def test_dashboard_query_count_does_not_grow_with_days(
    client, world, django_assert_max_num_queries
):
    a, _b, staff = world
    client.force_login(staff)
    with django_assert_max_num_queries(20):
        assert (
            client.get(f"/staff/figures/center/{a.pk}/?from=2025-01-01&to=2026-12-31").status_code
            == 200
        )


def test_exports_never_run_a_center_name_as_a_formula(client, regions):
    from openpyxl import load_workbook

    from tests.factories import make_center

    evil = make_center("=HYPERLINK(1)", district="长宁区")
    client.force_login(make_staff(center=evil))
    text = client.get(f"/staff/figures/center/{evil.pk}/export.csv").content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("'=HYPERLINK")
    r = client.get(f"/staff/figures/center/{evil.pk}/export.xlsx")
    cell = load_workbook(io.BytesIO(r.content)).worksheets[0]["A1"]
    assert cell.data_type == "s" and str(cell.value).startswith("'=")
