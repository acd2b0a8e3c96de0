"""The 15-minute coverage on a hand-built grid with known answers: thresholds, a theme, open
hours, coarse centers left out, the gaps and the center that would close each, the import
with row errors, the synthetic grid, and the page and exports for staff only."""

from datetime import datetime, time

import pytest
from django.utils import timezone

from doorstep.centers.models import Region
from doorstep.city import coverage
from doorstep.city.models import Cell
from doorstep.city.population import import_population, synth_population
from tests.factories import client_for, make_account, make_center, make_staff

pytestmark = pytest.mark.django_db

# Points near People's Square, in metres east of a center at (31.2300, 121.4700).
LAT, LNG = 31.2300, 121.4700


def east(metres: float) -> float:
    return LNG + metres / coverage.M_PER_DEG_LNG


@pytest.fixture
def grid(regions):
    huangpu = Region.objects.get(name="黄浦区")
    a = make_center(
        "甲中心",
        district="黄浦区",
        lat=LAT,
        lng=LNG,
        location_precision="exact",
        location_source="测试",
        themes=["elderly"],
        hours="mon-sun 08:00-20:00",
    )
    b = make_center(
        "乙中心",
        district="黄浦区",
        lat=LAT,
        lng=east(3000),
        location_precision="exact",
        location_source="测试",
        hours="mon-sun 08:00-22:00",
    )
    coarse = make_center("丙中心", district="黄浦区", themes=["elderly"])  # district point
    # 100 people 500 m away (a 650 m walk), 200 at 700 m (910 m), 300 at 1,000 m (1,300 m).
    for metres, people in ((500, 100), (700, 200), (1000, 300)):
        Cell.objects.create(
            lat=LAT, lng=east(metres), population=people, district=huangpu, source="测试"
        )
    return {"a": a, "b": b, "coarse": coarse, "huangpu": huangpu}


def test_shares_by_walk_with_the_stated_model(grid):
    r = coverage.compute()
    assert r.city.people == 600
    # 800 m walk = 615 m straight: 100; 1,000 m = 769 m: 300; 15 min = 1,125 m → 865 m: 300.
    assert (r.city.within.get("800m"), r.city.within.get("1000m"), r.city.within.get("15min")) == (
        100,
        300,
        300,
    )
    assert r.centers_coarse == 1 and r.centers_used == 2


def test_the_walking_model_changes_the_answer(grid):
    # Straight streets (detour 1.0): 800 m reaches the cells at 500 and 700 m.
    straight = coverage.compute(walk=coverage.Walk(detour=1.0))
    assert straight.city.within["800m"] == 300 and straight.city.within["15min"] == 600
    # A slow walk (50 m a minute): 15 minutes is 750 m, 577 m straight with the 1.3 detour.
    slow = coverage.compute(walk=coverage.Walk(speed_m_per_min=50.0))
    assert slow.city.within["15min"] == 100
    # A longer detour shrinks every reach: 1.6 makes 1,000 m a 625 m line.
    winding = coverage.compute(walk=coverage.Walk(detour=1.6))
    assert winding.city.within["1000m"] == 100
    # The page takes both from the query, and says which it used; nonsense keeps the default.
    staff = client_for(make_staff(scope="city"))
    page = staff.get("/staff/city/coverage?detour=1.0&speed=50").content.decode()
    assert "× 1.0" in page and "50.0" in page
    default = staff.get("/staff/city/coverage?detour=9&speed=abc").content.decode()
    assert "× 1.3" in default and "75.0" in default


def test_a_theme_and_the_hour_choose_the_centers(grid):
    r = coverage.compute(theme="elderly")
    assert r.centers_used == 1 and r.centers_coarse == 1
    late = timezone.make_aware(datetime.combine(timezone.localdate(), time(21, 0)))
    r = coverage.compute(open_at=late)  # only 乙 is open at 21:00, 3 km away
    assert r.centers_used == 1 and r.city.within.get("1000m", 0) == 0


def test_gaps_ranked_by_people_with_the_center_that_would_close_them(grid):
    r = coverage.compute(theme="elderly", gaps_for="1000m")
    assert [g.people for g in r.gaps] == [300]
    gap = r.gaps[0]
    assert gap.nearest_center_id == grid["a"].pk and gap.walk_minutes == pytest.approx(
        17.3, abs=0.1
    )
    r = coverage.compute(facility="restroom")  # no center offers it: everyone is a gap
    assert [g.people for g in r.gaps] == [300, 200, 100]
    assert r.gaps[2].nearest_center_id == grid["a"].pk and r.gaps[2].walk_minutes is None


def test_import_with_row_errors_and_the_synthetic_grid(regions, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "lat,lng,population\n31.23,121.47,100\n31.23,abc,5\n39.9,116.4,10\n31.23,121.47,-1\n",
        encoding="utf-8",
    )
    result = import_population(bad)
    assert [e.split("：")[0].split(":")[0] for e in result.errors] and len(result.errors) == 3
    assert Cell.objects.count() == 0
    good = tmp_path / "good.csv"
    good.write_text(
        "lat,lng,population,datum\n31.23,121.47,100,wgs84\n31.24,121.48,50,gcj02\n",
        encoding="utf-8",
    )
    assert import_population(good).cells == 2
    assert set(Cell.objects.values_list("district__name", flat=True)) == {"黄浦区"}
    assert synth_population(cell_m=2000).errors  # a real grid stays
    Cell.objects.all().delete()
    made = synth_population(cell_m=2000)
    assert made.cells > 1000 and Cell.objects.filter(synthetic=False).count() == 0


def test_the_page_and_exports_are_for_staff(grid):
    Cell.objects.update(synthetic=True)
    staff = client_for(make_staff(scope="city"))
    page = staff.get("/staff/city/coverage?theme=elderly").content.decode()
    assert "合成" in page and "1.3" in page and "甲中心" in page
    csv = staff.get("/staff/city/coverage/gaps.csv?theme=elderly").content.decode("utf-8-sig")
    assert csv.splitlines()[1].split(",")[2] == "300"
    from io import BytesIO

    from openpyxl import load_workbook

    xlsx = staff.get("/staff/city/coverage/gaps.xlsx?theme=elderly")
    rows = list(load_workbook(BytesIO(xlsx.content)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("lat", "lng", "people") and rows[1][2] == 300
    assert len(rows) == len(csv.splitlines())  # the same gaps as the CSV
    geo = staff.get("/staff/city/coverage/gaps.geojson?theme=elderly").json()
    assert geo["features"][0]["properties"]["people"] == 300
    assert (
        staff.get("/staff/city/coverage?theme=nonsense&open_at=99:99&district=x").status_code == 200
    )
    assert client_for(make_account(name="居民")).get("/staff/city/coverage").status_code == 302
    resident = client_for(make_account(name="居民乙"))
    assert resident.get("/staff/city/coverage/gaps.xlsx").status_code == 302
