"""Finding the door (#11): honest locations, datums, navigation, until-when, night fallback."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from doorstep.centers import geo
from doorstep.centers.hours import parse_weekly, status
from doorstep.centers.selectors import CenterFilters, search_centers, when_none_open
from doorstep.centers.services import CenterError, LocationInput, correct_location
from doorstep.core.models import AuditEntry
from tests.factories import make_center, make_staff

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
HERE = (31.1990, 121.4010)

# Published test vectors of eviltransform (googollee/eviltransform, python tests): WGS84 ->
# GCJ-02 in Shanghai, Shenzhen and Beijing; an independent implementation of the same datum.
GCJ_VECTORS = [
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),
]


@pytest.mark.parametrize(("wgs", "gcj"), GCJ_VECTORS)
def test_wgs84_to_gcj02_against_known_points(wgs, gcj):
    assert geo.gcj02(*wgs) == pytest.approx(gcj, abs=2e-6)
    # The precise inverse brings GCJ-02 input back to within a few centimetres.
    back = geo.to_wgs84(*gcj, geo.GCJ02)
    assert back == pytest.approx(wgs, abs=1e-6)


def test_bd09_against_known_points_and_round_trip():
    # eviltransform's BD-09 vector (BD -> WGS84) agrees within 15 m (its inverse is coarser).
    w = geo.to_wgs84(29.199786, 120.019809, geo.BD09)
    assert geo_distance(w, (29.196131605295484, 120.00877901149691)) < 15
    # BD-09 is GCJ-02 shifted by about 0.006° in both axes around Shanghai.
    b = geo.bd09(31.2304, 121.4737)
    g = geo.gcj02(31.2304, 121.4737)
    assert 0.004 < b[0] - g[0] < 0.008 and 0.005 < b[1] - g[1] < 0.008
    assert geo.to_wgs84(*b, geo.BD09) == pytest.approx((31.2304, 121.4737), abs=1e-6)


def geo_distance(a, b):
    from doorstep.centers.selectors import distance_m

    return distance_m(a[0], a[1], b[0], b[1])


def test_nav_links_carry_each_apps_datum():
    links = {n.app: n.url for n in geo.nav_links(lat=31.2304, lng=121.4737, name="人民广场")}
    g_lat, g_lng = geo.gcj02(31.2304, 121.4737)
    b_lat, b_lng = geo.bd09(31.2304, 121.4737)
    assert links["amap"].startswith("https://uri.amap.com/marker?")
    assert f"position={g_lng}%2C{g_lat}" in links["amap"]
    assert f"location={b_lat}%2C{b_lng}" in links["baidu"] and "coord_type=bd09ll" in links["baidu"]
    assert f"coord%3A{g_lat}%2C{g_lng}" in links["tencent"]


@pytest.fixture
def mixed(regions):
    """Three centers at the district's point (as the article's are) and one with a door."""
    coarse = [make_center(f"杨浦滨江党群服务站{i}", district="长宁区") for i in range(3)]
    door = make_center(
        "隔壁站", lat=HERE[0] + 0.02, lng=HERE[1], location_precision="exact", hours="24h"
    )
    return coarse, door


def test_coarse_locations_never_show_a_distance_and_come_last(mixed, client):
    coarse, door = mixed
    page = search_centers(CenterFilters(lat=HERE[0], lng=HERE[1], radius_m=50_000))
    names = [h.center.name for h in page.hits]
    assert names[0] == "隔壁站"  # 2.2 km away, but the only one whose door is known
    assert page.hits[0].distance_m == pytest.approx(2224, rel=0.01)
    assert all(h.distance_m is None and h.walking_minutes is None for h in page.hits[1:])
    body = client.get("/centers/", {"lat": HERE[0], "lng": HERE[1], "radius_m": 50000}).content
    html = body.decode()
    assert html.count("位于长宁区（位置待核实）") == 3
    assert html.count("步行约") == 1
    api = client.get("/api/v1/centers", {"lat": HERE[0], "lng": HERE[1]}).json()
    assert [i["distance_m"] is None for i in api["items"]] == [False, True, True, True]
    detail = client.get(f"/centers/{coarse[0].pk}/").content.decode()
    assert "位置：区级代表点，待核实" in detail
    assert "uri.amap.com" not in detail  # no navigation to a district's centroid
    assert "uri.amap.com" in client.get(f"/centers/{door.pk}/").content.decode()


def test_a_staff_correction_changes_nearby_order_and_is_audited(mixed, client):
    coarse, door = mixed
    staff = make_staff(scope="center", center=coarse[1])
    client.force_login(staff)
    g_lat, g_lng = geo.gcj02(HERE[0] + 0.001, HERE[1])  # what 高德 shows for a door 111 m north
    r = client.post(
        f"/staff/centers/{coarse[1].pk}/location",
        {"lat": g_lat, "lng": g_lng, "datum": "gcj02", "precision": "exact", "source": "现场核实"},
    )
    assert r.status_code == 302
    coarse[1].refresh_from_db()
    assert coarse[1].location_precision == "exact" and coarse[1].location_source == "现场核实"
    assert (coarse[1].lat, coarse[1].lng) == pytest.approx((HERE[0] + 0.001, HERE[1]), abs=2e-6)
    page = search_centers(CenterFilters(lat=HERE[0], lng=HERE[1]))
    assert page.hits[0].center.pk == coarse[1].pk
    assert page.hits[0].distance_m == pytest.approx(111, abs=2)
    entry = AuditEntry.objects.get(action="center.location_corrected")
    assert entry.actor_id == staff.pk and entry.center_id == coarse[1].pk
    assert entry.changes["before"]["precision"] == "district"
    assert entry.changes["after"]["given_as"]["datum"] == "gcj02"
    # Another center is out of this staff member's scope.
    typo = client.post(
        f"/staff/centers/{coarse[1].pk}/location",
        {"lat": "31.2x", "lng": "121.4", "datum": "wgs84", "precision": "exact", "source": "x"},
    )
    assert typo.status_code == 400 and "纬度和经度必须是数字" in typo.content.decode()
    other = client.post(f"/staff/centers/{coarse[0].pk}/location", {"lat": "31.2", "lng": "121.4"})
    assert other.status_code == 404


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (LocationInput(lat=40.0, lng=116.4, source="x"), "bad_location"),
        (LocationInput(lat=31.2, lng=121.4, datum="mars", source="x"), "bad_datum"),
        (LocationInput(lat=31.2, lng=121.4, precision="district", source="x"), "bad_location"),
        (LocationInput(lat=float("nan"), lng=121.4, source="x"), "bad_location"),
        (LocationInput(lat=31.2, lng=121.4, source="  "), "missing_location_source"),
    ],
)
def test_bad_corrections_are_refused_and_change_nothing(mixed, data, code):
    coarse, _door = mixed
    before = (coarse[0].lat, coarse[0].lng)
    with pytest.raises(CenterError) as exc:
        correct_location(center_id=coarse[0].pk, actor=None, data=data)
    assert exc.value.code == code
    coarse[0].refresh_from_db()
    assert (coarse[0].lat, coarse[0].lng) == before
    assert not AuditEntry.objects.filter(action="center.location_corrected").exists()


def test_an_import_in_gcj02_is_stored_as_wgs84(regions):
    g_lat, g_lng = geo.gcj02(31.2, 121.43)
    c = make_center("导入站", lat=g_lat, lng=g_lng, datum="gcj02", location_precision="exact")
    assert (c.lat, c.lng) == pytest.approx((31.2, 121.43), abs=2e-6)


def test_reloading_a_source_without_coordinates_keeps_the_corrected_door(mixed):
    from doorstep.centers.services import CenterInput, save_center

    coarse, _ = mixed
    correct_location(
        center_id=coarse[2].pk,
        actor=None,
        data=LocationInput(lat=31.21, lng=121.41, source="现场核实"),
    )
    coarse[2].refresh_from_db()
    again, _ = save_center(
        data=CenterInput(
            external_key=coarse[2].external_key,
            name=coarse[2].name,
            level="subdistrict",
            district="长宁区",
            source="manual",
        )
    )
    assert (again.lat, again.lng, again.location_precision) == (31.21, 121.41, "exact")


def _at(h, m=0, day=3):
    return datetime(2026, 12, day, h, m, tzinfo=SH)  # 2026-12-03 is a Thursday


def _weekly(spec):
    return [(i.weekday, i.open_minute, i.close_minute) for i in parse_weekly(spec)]


def test_until_when_and_next_opening():
    day = _weekly("mon-sun 08:30-21:00")
    st = status(day, {}, _at(20, 0))
    assert st.open and st.until == _at(21, 0)
    st = status(day, {}, _at(23, 0))
    assert not st.open and st.next_open == _at(8, 30, day=4)
    assert status(_weekly("24h"), {}, _at(23, 0)).always_open
    late = status(_weekly("fri 20:00-02:00"), {}, _at(1, 0, day=5))  # Saturday 01:00
    assert late.open and late.until == _at(2, 0, day=5)
    assert not status(_weekly("fri 20:00-02:00"), {}, _at(3, 0, day=5)).open
    st = status(_weekly("thu 20:00-02:00"), {}, _at(23, 30))
    assert st.open and st.until == _at(2, 0, day=4)
    assert not status([], {}, _at(12)).known


def test_the_card_says_until_when(regions, client, daytime):
    make_center(
        "夜间站", hours="mon-sun 07:00-23:00", lat=31.2, lng=121.42, location_precision="exact"
    )
    make_center("全天站", hours="24h", lat=31.2, lng=121.43, location_precision="exact")
    make_center(
        "早关站", hours="mon-sun 06:00-09:00", lat=31.2, lng=121.44, location_precision="exact"
    )
    html = client.get("/centers/", {"lat": 31.2, "lng": 121.42}).content.decode()
    assert "营业至 23:00" in html  # pinned at 10:00 local
    assert "24小时开放" in html
    assert "明天 06:00 开门" in html


def test_an_empty_open_now_result_offers_24_hour_places_and_the_earliest_to_open(regions):
    make_center(
        "晚上关门", hours="mon-sun 08:30-20:30", lat=31.20, lng=121.40, location_precision="exact"
    )
    make_center(
        "早开", hours="mon-sun 06:00-20:00", lat=31.201, lng=121.40, location_precision="exact"
    )
    make_center("远处全天", hours="24h", lat=31.30, lng=121.50, location_precision="exact")
    f = CenterFilters(open_now=True, lat=31.20, lng=121.40, radius_m=2000, at=_at(23, 0))
    assert search_centers(f).count == 0
    alt = when_none_open(f)
    assert [h.center.name for h in alt.open_elsewhere] == ["远处全天"]
    assert [h.center.name for h in alt.opening_soon] == ["早开", "晚上关门"]
    assert alt.opening_soon[0].status.next_open == _at(6, 0, day=4)


from datetime import timedelta  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from doorstep.centers.hours import is_open  # noqa: E402

_interval = st.tuples(st.integers(0, 6), st.integers(0, 1439), st.integers(1, 1440)).map(
    lambda t: (t[0], t[1], t[1] + t[2])
)


@settings(max_examples=200, deadline=None)
@given(
    weekly=st.lists(_interval, max_size=4),
    closed_today=st.booleans(),
    minute=st.integers(0, 7 * 1440 - 1),
)
def test_status_agrees_with_is_open(weekly, closed_today, minute):
    """until/next_open are built from the same rules as the open-now test."""
    at = datetime(2026, 11, 30, tzinfo=SH) + timedelta(minutes=minute)
    exceptions = {at.date(): (True, None, None)} if closed_today else {}
    st_ = status(weekly, exceptions, at)
    assert st_.open == is_open(weekly, exceptions, at)
    if st_.open and st_.until is not None:
        assert st_.until > at and not is_open(weekly, exceptions, st_.until)
    if st_.next_open is not None:
        assert st_.next_open > at and is_open(weekly, exceptions, st_.next_open)


def test_english_names_are_shown_on_english_pages_and_found_by_search(regions, client):
    from doorstep.centers.article import load_article_centers
    from doorstep.centers.models import Center

    load_article_centers()
    gubei = next(c for c in Center.objects.all() if "古北市民中心" in c.aliases)
    assert gubei.name_en_kind == "translation"
    hits = search_centers(CenterFilters(q="gubei civic center")).hits
    assert hits and hits[0].center.pk == gubei.pk
    # Where no English name is known, a pinyin form, marked as such.
    riders = Center.objects.get(name="普陀区万有引力新业态新就业群体党群服务中心")
    assert riders.name_en_kind == "pinyin" and riders.name_en.startswith("Putuoqu")
    client.cookies["django_language"] = "en"
    html = client.get(f"/centers/{riders.pk}/").content.decode()
    assert (
        f"<h1>{riders.name_en}</h1>" in html and "Pinyin (no official English name known)" in html
    )
    client.cookies["django_language"] = "zh-hans"
    assert riders.name_en not in client.get(f"/centers/{riders.pk}/").content.decode()


def test_stations_that_share_a_name_can_be_told_apart(regions, client):
    from doorstep.centers.article import load_article_centers
    from doorstep.centers.models import Center

    load_article_centers()
    stations = Center.objects.filter(name="杨浦滨江党群服务站")
    names = sorted(c.display_name for c in stations)
    assert names == [
        "杨浦滨江党群服务站（人人屋站）",
        "杨浦滨江党群服务站（复兴岛公园站）",
        "杨浦滨江党群服务站（电站辅机厂站）",
    ]
    listed = client.get("/centers/", {"q": "杨浦滨江党群服务站"}).content.decode()
    assert all(n in listed for n in names)
    api = client.get("/api/v1/centers", {"q": "杨浦滨江党群服务站"}).json()
    assert sorted(i["display_name"] for i in api["items"]) == names


def test_the_csv_import_takes_coordinates_in_any_datum(regions):
    from doorstep.centers.importing import import_bytes
    from doorstep.centers.models import Center

    g = geo.gcj02(31.21, 121.44)
    b = geo.bd09(31.22, 121.45)
    csv = (
        "key,name,district,lat,lng,datum,branch,name_en\n"
        f"a,甲站,长宁区,{g[0]},{g[1]},gcj02,东门,East Gate Station\n"
        f"b,乙站,长宁区,{b[0]},{b[1]},BD09,,\n"
        "c,丙站,长宁区,31.23,121.46,,,\n"
    ).encode()
    import_bytes(csv, file_name="list.csv")
    a, b_, c = (Center.objects.get(external_key=f"import:{k}") for k in "abc")
    assert (a.lat, a.lng) == pytest.approx((31.21, 121.44), abs=2e-6)
    assert (b_.lat, b_.lng) == pytest.approx((31.22, 121.45), abs=2e-6)
    assert (c.lat, c.lng) == (31.23, 121.46)  # no datum: WGS84
    assert a.display_name == "甲站（东门）" and a.name_en == "East Gate Station"
    bad = import_bytes(
        "key,name,district,lat,lng,datum\nd,丁站,长宁区,31.2,121.4,mars\n".encode(),
        file_name="bad.csv",
        skip_invalid=True,
    )
    assert not Center.objects.filter(external_key="import:d").exists()
    assert "mars" in str(bad.errors[0])
