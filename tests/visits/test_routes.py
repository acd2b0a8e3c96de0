import pytest
from django.urls import reverse

from doorstep.centers.article import load_article_centers
from doorstep.centers.models import Center
from doorstep.visits import codes, services
from doorstep.visits.demo import load_demo_routes
from doorstep.visits.models import Route, Visit
from doorstep.visits.services import RouteInput, VisitError
from tests.factories import make_account, make_center, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def article(regions):
    load_article_centers()
    load_demo_routes()
    return Route.objects.filter(source="article")


def test_seven_article_routes_featured_first_and_reload_is_stable(article):
    assert article.count() == 7
    red = article.get(external_key="article:code-2")
    stops = list(red.stops.order_by("order").select_related("center"))
    assert stops[0].center.external_key == "article:huangpu-district-party-building"
    assert len(stops) == 9
    elderly = article.get(external_key="article:code-4")
    assert elderly.stops.order_by("order").first().center.external_key == (
        "article:xujiahui-subdistrict"
    )
    before = list(red.stops.values_list("pk", flat=True))
    assert load_demo_routes()["created"] == 0
    assert list(red.stops.values_list("pk", flat=True)) == before
    assert Route.objects.count() == 7


def test_stamps_come_from_real_check_ins_and_complete_the_route(client, regions):
    staff = make_staff(scope="city")
    a = make_center("甲中心", district="徐汇区")
    b = make_center("乙中心", district="徐汇区")
    route = services.create_route(
        staff=staff, data=RouteInput(title="红色微党课", center_ids=[a.pk, b.pk], story="走一走")
    )
    walker = make_account(name="李同学")
    client.force_login(walker)
    url = reverse("visits:route", args=[route.pk])
    assert 'value="0"' in client.get(url).content.decode()
    services.check_in(center_id=a.pk, code=codes.today_code(a.pk), user=walker)
    # A staff tally is anonymous: it never stamps anyone's route.
    services.tally(center_id=b.pk, staff=staff, group="adult")
    page = client.get(url).content.decode()
    assert 'value="1"' in page
    services.check_in(center_id=b.pk, code=codes.today_code(b.pk), user=walker)
    page = client.get(url).content.decode()
    assert 'value="2"' in page and "route-complete" in page
    listing = client.get(reverse("visits:routes")).content.decode()
    assert "红色微党课" in listing and "route-done" in listing
    api = client.get(f"/api/v1/routes/{route.pk}").json()
    assert api["complete"] is True and [s["stamped"] for s in api["stop_list"]] == [True, True]
    assert Visit.objects.filter(user=walker).count() == 2


def test_route_list_queries_do_not_grow(client, article, django_assert_max_num_queries):
    walker = make_account()
    client.force_login(walker)
    with django_assert_max_num_queries(8):
        assert client.get(reverse("visits:routes")).status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get(reverse("visits:route", args=[article.first().pk])).status_code == 200


def test_staff_create_and_edit_routes(client, article):
    staff = make_staff(scope="city")
    client.force_login(staff)
    ids = list(Center.objects.order_by("pk").values_list("pk", flat=True)[:3])
    r = client.post(
        reverse("visits:route_new"),
        {
            "title": "红色步行微党课",
            "story": "从一大会址出发",
            "centers": ", ".join(map(str, ids)),
            "public": "1",
        },
    )
    assert r.status_code == 302
    route = Route.objects.get(title="红色步行微党课")
    assert route.source == "staff" and route.created_by == staff
    assert list(route.stops.order_by("order").values_list("center_id", flat=True)) == ids
    edit = reverse("visits:route_edit", args=[route.pk])
    r = client.post(edit, {"title": "红色步行微党课", "centers": f"{ids[2]},{ids[0]}"})
    assert r.status_code == 302
    route.refresh_from_db()
    assert not route.public
    assert list(route.stops.order_by("order").values_list("center_id", flat=True)) == [
        ids[2],
        ids[0],
    ]
    bad = client.post(edit, {"title": "x", "centers": f"{ids[0]}"})
    assert bad.status_code == 400
    assert client.post(edit, {"title": "x", "centers": "abc"}).status_code == 400
    # Article routes and other people's routes are not editable by ordinary staff.
    other = make_staff(scope="city")
    client.force_login(other)
    assert client.get(edit).status_code == 404
    assert client.get(reverse("visits:route_edit", args=[article.first().pk])).status_code == 404
    # Private routes are hidden from others.
    assert client.get(reverse("visits:route", args=[route.pk])).status_code == 404


def test_route_validation(regions):
    staff = make_staff(scope="city")
    with pytest.raises(VisitError) as err:
        services.create_route(staff=staff, data=RouteInput(title="", center_ids=[1, 2]))
    assert err.value.code == "invalid_title"
    with pytest.raises(VisitError) as err:
        services.create_route(staff=staff, data=RouteInput(title="t", center_ids=[99998, 99999]))
    assert err.value.code == "unknown_center"
    resident = make_account()
    with pytest.raises(VisitError) as err:
        services.create_route(staff=resident, data=RouteInput(title="t", center_ids=[1, 2]))
    assert err.value.code == "forbidden"
