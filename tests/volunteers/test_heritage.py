"""Heritage sites: the import with row-level errors; routes mixing centers and sites with
stamps from each kind of poster; walking lessons (guide, notes, scope); the map's filters."""

import re
from datetime import timedelta
from unittest import mock

import pytest
from django.test import Client

from doorstep.activities.models import Activity
from doorstep.heritage.models import HeritageSite
from doorstep.heritage.services import import_sites
from doorstep.visits import codes, selectors
from doorstep.visits import services as visits
from doorstep.visits.models import Visit
from doorstep.visits.services import RouteInput, VisitError
from doorstep.volunteers import selectors as volunteer_selectors
from doorstep.volunteers import services
from tests.factories import make_account, make_activity, make_center, make_staff

from .conftest import MON, NOW, SAT, local

pytestmark = pytest.mark.django_db

HEADER = (
    "key,name,name_en,kind,district,address,lat,lng,datum,precision,hours,history,history_en,"
    "source\n"
)


def _site(name="又新印刷所旧址", hours="", key="t1"):
    from doorstep.centers.models import Region

    return HeritageSite.objects.create(
        name=name,
        kind="former_site",
        district=Region.objects.get(name="黄浦区"),
        lat=31.2165,
        lng=121.4705,
        location_precision="street",
        hours=hours,
        source="import",
        source_detail="测试清单",
        external_key=key,
    )


def test_import_reports_each_bad_row_and_stores_nothing(regions, tmp_path):
    good = "1,又新印刷所旧址,,former_site,黄浦区,,31.2165,121.4705,wgs84,street,,,,区文旅局名录\n"
    bad_rows = (
        "2,某旧址,,castle,黄浦区,,31.22,121.47,wgs84,street,,,,名录\n"
        "3,某旧址,,plaque,火星区,,31.22,121.47,wgs84,street,,,,名录\n"
        "4,某旧址,,plaque,黄浦区,,39.9,116.4,wgs84,street,,,,名录\n"
        "1,重复,,plaque,黄浦区,,31.22,121.47,wgs84,street,,,,名录\n"
        "5,某旧址,,plaque,黄浦区,,31.22,121.47,wgs84,street,,,,\n"
        "6,某旧址,,plaque,黄浦区,,31.22,121.47,wgs84,street,nonsense,,,名录\n"
    )
    path = tmp_path / "sites.csv"
    path.write_text(HEADER + good + bad_rows, encoding="utf-8")
    result = import_sites(path)
    assert not result.committed and HeritageSite.objects.count() == 0
    assert [int(re.search(r"\d+", e).group()) for e in result.errors] == [3, 4, 5, 6, 7, 8]
    result = import_sites(path, skip_invalid=True)
    assert result.committed and result.created == 1
    site = HeritageSite.objects.get()
    assert (site.name, site.source, site.source_detail) == (
        "又新印刷所旧址",
        "import",
        "区文旅局名录",
    )
    gcj = tmp_path / "gcj.csv"
    gcj.write_text(
        HEADER
        + "9,中共一大纪念馆,,memorial,黄浦区,,31.2200,121.4750,gcj02,exact,"
        + "tue-sun 09:00-17:00,,,名录\n",
        encoding="utf-8",
    )
    assert import_sites(gcj).committed
    moved = HeritageSite.objects.get(external_key="import:9")
    assert moved.lat != 31.2200 and abs(moved.lat - 31.2200) < 0.01  # GCJ-02 → WGS84


def test_a_route_mixes_centers_and_sites_and_both_kinds_of_stamp_count(regions):
    a = make_center("黄浦区党建服务中心", district="黄浦区")
    b = make_center("南京东路街道党群服务中心", district="黄浦区")
    site = _site()
    staff = make_staff(scope="city")
    route = visits.create_route(
        staff=staff,
        data=RouteInput(title="红色一平方公里", stops=[str(a.pk), f"s{site.pk}", str(b.pk)]),
    )
    assert visits.stop_tokens(route) == [str(a.pk), f"s{site.pk}", str(b.pk)]
    with pytest.raises(VisitError) as e:
        visits.create_route(staff=staff, data=RouteInput(title="x", stops=[str(a.pk), "s999999"]))
    assert e.value.code == "unknown_site"
    walker = make_account(name="走读者")
    Visit.objects.create(center=a, user=walker, channel="qr", arrived_at=NOW, day=MON)
    # A site's code is not a center's: the center's code of the same number is refused.
    for bad in ("ABCDEFGHIJ", codes.code_for(site.pk, MON)):
        with pytest.raises(VisitError) as e:
            visits.stamp_site(user=walker, site_id=site.pk, code=bad, now=NOW)
        assert e.value.code == "code_invalid"
    good = codes.code_for(codes.site_subject(site.pk), MON)
    assert visits.stamp_site(user=walker, site_id=site.pk, code=good, now=NOW)[1] is True
    assert visits.stamp_site(user=walker, site_id=site.pk, code=good, now=NOW)[1] is False
    stops = selectors.stop_views(walker, selectors.route_stops(route))
    assert [(s.kind, s.stamped) for s in stops] == [
        ("center", True),
        ("site", True),
        ("center", False),
    ]
    assert selectors.progress_by_route(walker, [route])[route.pk].stamped == 2
    page = Client()
    page.force_login(walker)
    html = page.get(f"/routes/{route.pk}/").content.decode()
    assert "又新印刷所旧址" in html and f"/heritage/sites/{site.pk}/" in html
    api = page.get(f"/api/v1/routes/{route.pk}").json()
    assert [s["kind"] for s in api["stop_list"]] == ["center", "site", "center"]


def test_the_site_poster_and_its_stamp_page(regions):
    site = _site()
    staff = make_staff(center=make_center("黄浦区党建服务中心", district="黄浦区"))
    elsewhere = make_staff(center=make_center("徐汇某中心", district="徐汇区"))
    c = Client()
    c.force_login(staff)
    poster = c.get(f"/staff/visits/sites/{site.pk}/poster").content.decode()
    code = codes.today_code(codes.site_subject(site.pk))
    assert code in poster and "<svg" in poster
    c.force_login(elsewhere)
    assert c.get(f"/staff/visits/sites/{site.pk}/poster").status_code == 404
    walker = make_account(name="走读者")
    c.force_login(walker)
    assert c.post(f"/s/{site.pk}/{code}").status_code == 200
    assert selectors.stamped_site_ids(walker, [site.pk]) == {site.pk}
    assert c.post(f"/s/{site.pk}/WRONGCODE1").status_code == 400


def test_a_walking_lesson_has_a_cleared_guide_and_notes(hall):
    site = _site()
    route = visits.create_route(
        staff=make_staff(scope="city"),
        data=RouteInput(title="红色一平方公里", stops=[str(hall["center"].pk), f"s{site.pk}"]),
    )
    activity = make_activity(hall["center"], title="行走党课", now=NOW, starts_at=local(SAT, 14))
    stranger = make_account(name="路人")
    with pytest.raises(services.VolunteerError) as e:
        services.make_lesson(
            by=hall["staff"], activity_id=activity.pk, route_id=route.pk, guide_id=stranger.pk
        )
    assert e.value.code == "guide_not_cleared"
    with pytest.raises(services.VolunteerError) as e:
        services.make_lesson(
            by=hall["staff"],
            activity_id=activity.pk,
            route_id=route.pk,
            guide_id=None,
            notes={9: "x"},
        )
    assert e.value.code == "invalid"
    other = make_staff(center=make_center("徐汇某中心", district="徐汇区"))
    with pytest.raises(services.VolunteerError) as e:
        services.make_lesson(by=other, activity_id=activity.pk, route_id=route.pk, guide_id=None)
    assert e.value.code == "not_found"
    lesson = services.make_lesson(
        by=hall["staff"],
        activity_id=activity.pk,
        route_id=route.pk,
        guide_id=hall["vol"].pk,
        notes={1: "讲《共产党宣言》首部中文译本", 2: "又新印刷所的故事"},
    )
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        html = Client().get(f"/heritage/lessons/{lesson.pk}/").content.decode()
        assert "又新印刷所的故事" in html and "志愿者甲" in html and "route-points" in html
        listed = volunteer_selectors.upcoming_lessons(NOW)
    assert listed == [lesson]
    Activity.objects.filter(pk=activity.pk).update(status="draft")
    assert Client().get(f"/heritage/lessons/{lesson.pk}/").status_code == 404


def test_the_maps_filters(hall):
    open_site = _site("中共一大纪念馆", hours="mon-sun 09:00-17:00", key="t2")
    unknown = _site("又新印刷所旧址", key="t3")
    ten, night = local(MON, 10), local(MON, 20)
    names = lambda places: {p.name for p in places}  # noqa: E731
    assert {"中共一大纪念馆", "又新印刷所旧址"} <= names(volunteer_selectors.heritage_map(now=ten))
    assert "中共一大纪念馆" in names(volunteer_selectors.heritage_map(open_now=True, now=ten))
    assert "中共一大纪念馆" not in names(volunteer_selectors.heritage_map(open_now=True, now=night))
    assert "又新印刷所旧址" not in names(volunteer_selectors.heritage_map(open_now=True, now=ten))
    # An explainer serving at the site today.
    opp = services.create_opportunity(
        by=hall["staff"], center_id=hall["center"].pk, role="explainer", title="纪念馆讲解", now=NOW
    )
    opp.site = open_site
    opp.save()
    (shift,) = services.add_shifts(
        by=hall["staff"],
        opportunity_id=opp.pk,
        starts_at=local(SAT, 9),
        ends_at=local(SAT, 11),
        places=2,
        now=NOW,
    )
    services.sign_up(user=hall["vol"], shift_id=shift.pk, now=NOW)
    saturday = local(SAT, 8)
    assert names(volunteer_selectors.heritage_map(explainer_today=True, now=saturday)) == {
        "中共一大纪念馆"
    }
    assert (
        volunteer_selectors.heritage_map(explainer_today=True, now=saturday + timedelta(days=1))
        == []
    )
    assert unknown.pk
    assert Client().get("/heritage/?open=1&explainer=1&district=nonsense").status_code == 200
