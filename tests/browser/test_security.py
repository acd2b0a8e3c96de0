"""The Content-Security-Policy holds on the pages a person (and an administrator) opens: every
page carries it, and nothing on them needs an inline script, an inline style or eval (the
`page` fixture fails a test on any violation)."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.factories import make_center

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(regions):
    center = make_center("长宁区虹桥街道社区党群服务中心", subdistrict="虹桥街道", hours="24h")
    admin = get_user_model().objects.create(username="admin", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    return {"center": center, "session": client.cookies["sessionid"].value}


PUBLIC = ["/", "/centers/?q=古北", "/centers/?view=map", "/activities/", "/topics/", "/routes/"]


def test_public_pages_pass_the_policy(live_server, page, world):
    for path in [*PUBLIC, f"/centers/{world['center'].pk}/", "/account/sign-in"]:
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "style-src 'self'" in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        page.wait_for_load_state("networkidle")


def test_the_api_docs_and_the_admin_pass_the_policy(live_server, page, world):
    page.goto(live_server.url + "/admin/login/")
    page.context.add_cookies(
        [{"name": "sessionid", "value": world["session"], "url": live_server.url}]
    )
    for path in [
        "/admin/",
        "/admin/centers/center/",
        f"/admin/centers/center/{world['center'].pk}/change/",
        "/admin/axes/accessattempt/",
        "/staff/",
    ]:
        assert page.goto(live_server.url + path).status == 200, path
        page.wait_for_load_state("networkidle")
    page.goto(live_server.url + "/api/v1/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=20000)  # the UI rendered itself
