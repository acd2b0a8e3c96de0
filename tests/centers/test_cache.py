"""The directory API's answer cache: same question, same minute, same version -> no work;
any change to the directory (service, admin, import, regions) -> a fresh answer."""

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory

from doorstep.centers.cache import bump_directory_version, directory_version
from doorstep.centers.models import Center
from tests.factories import make_center

pytestmark = pytest.mark.django_db


@pytest.fixture
def cached(settings):
    settings.DIRECTORY_CACHE_SECONDS = 90


def test_repeat_question_is_answered_from_the_cache(
    client, regions, cached, django_assert_num_queries
):
    make_center("古北市民中心", hours="24h")
    first = client.get("/api/v1/centers", {"q": "古北"})
    assert first.json()["count"] == 1
    with django_assert_num_queries(1):  # only the version lookup
        again = client.get("/api/v1/centers", {"q": "古北"})
    assert again.content == first.content
    assert again["Content-Type"].startswith("application/json")


def test_a_change_through_the_service_is_seen_at_once(client, regions, cached):
    make_center("古北市民中心", hours="24h")
    assert client.get("/api/v1/centers", {"q": "古北"}).json()["count"] == 1
    before = directory_version()
    make_center("古北第二服务站", hours="24h")
    assert directory_version() != before
    assert client.get("/api/v1/centers", {"q": "古北"}).json()["count"] == 2


def test_an_unchanged_save_keeps_the_version(regions):
    make_center("古北市民中心", external_key="k1", hours="24h")
    v = directory_version()
    make_center("古北市民中心", external_key="k1", hours="24h")
    assert directory_version() == v


def test_an_admin_delete_is_seen_at_once(client, regions, cached, admin_user):
    c = make_center("古北市民中心", hours="24h")
    assert client.get("/api/v1/centers", {"q": "古北"}).json()["count"] == 1
    request = RequestFactory().post("/admin/")
    request.user = admin_user
    site._registry[Center].delete_model(request, c)
    assert client.get("/api/v1/centers", {"q": "古北"}).json()["count"] == 0


def test_different_questions_get_different_answers(client, regions, cached):
    make_center("古北市民中心", hours="24h")
    make_center("徐汇滨江党群服务中心", district="徐汇区", hours="24h")
    assert client.get("/api/v1/centers", {"q": "古北"}).json()["count"] == 1
    assert client.get("/api/v1/centers", {"q": "徐汇"}).json()["count"] == 1
    assert client.get("/api/v1/centers", {"district": "徐汇区"}).json()["count"] == 1
    assert client.get("/api/v1/centers", {"district": "长宁区"}).json()["count"] == 1
    assert client.get("/api/v1/centers").json()["count"] == 2


def test_bad_input_is_refused_not_cached(client, regions, cached):
    r = client.get("/api/v1/centers", {"theme": "nope"})
    assert r.status_code == 400 and r.json()["code"] == "unknown_theme"
    r = client.get("/api/v1/centers", {"theme": "nope"})
    assert r.status_code == 400


def test_cache_can_be_turned_off(client, regions, settings, django_assert_max_num_queries):
    settings.DIRECTORY_CACHE_SECONDS = 0
    make_center("古北市民中心", hours="24h")
    client.get("/api/v1/centers", {"q": "古北"})
    with django_assert_max_num_queries(3) as ctx:
        client.get("/api/v1/centers", {"q": "古北"})
    assert len(ctx.captured_queries) >= 2  # answered again from the database


def test_bump_creates_the_row_when_missing(db):
    from doorstep.centers.models import DirectoryVersion

    DirectoryVersion.objects.all().delete()
    assert directory_version() == 0
    bump_directory_version()
    first = directory_version()
    assert first != 0
    bump_directory_version()
    assert directory_version() not in (0, first)


def test_a_rolled_back_version_is_not_handed_out_again(db):
    from django.db import transaction

    before = directory_version()
    seen = set()
    for _ in range(5):
        with transaction.atomic():
            bump_directory_version()
            seen.add(directory_version())
            transaction.set_rollback(True)
        assert directory_version() == before
    assert len(seen) == 5 and before not in seen


def test_new_region_names_are_known_after_a_region_change(client, regions, cached):
    from doorstep.centers.models import Region

    r = client.get("/api/v1/centers", {"district": "新区"})
    assert r.status_code == 400
    Region.objects.create(code="310199", name="新区", level="district", parent_id="310000")
    bump_directory_version()
    assert client.get("/api/v1/centers", {"district": "新区"}).status_code == 200


def test_a_district_search_reads_the_version_once(client, regions, cached):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_center("古北市民中心", hours="24h")
    client.get("/api/v1/centers", {"district": "长宁区"})  # loads the region map
    with CaptureQueriesContext(connection) as ctx:
        r = client.get("/api/v1/centers", {"district": "长宁区", "q": "古北"})
    assert r.json()["count"] == 1
    reads = [q for q in ctx.captured_queries if "centers_directoryversion" in q["sql"]]
    assert len(reads) == 1
