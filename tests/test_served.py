"""`make run` serves doorstep.served: the lean entries in front of the whole site."""

import json

import pytest

from tests.factories import make_center
from tests.wsgi_call import wsgi_call

pytestmark = pytest.mark.django_db


def test_the_served_application_is_the_lean_chain_and_reaches_django(regions):
    from doorstep import served
    from doorstep.visits import fastwsgi

    assert served.application is fastwsgi.application
    make_center("长宁区虹桥街道社区党群服务中心", aliases=["古北市民中心"])
    # A request that is not a lean path reaches Django unchanged, through both entries.
    status, _headers, body = wsgi_call(
        served.application, "/api/v1/centers", method="GET", query="q=gubei"
    )
    assert status == 200
    assert [c["name"] for c in json.loads(body)["items"]] == ["长宁区虹桥街道社区党群服务中心"]
