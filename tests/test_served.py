"""`make run` serves doorstep.served: the lean entries in front of the whole site."""

import io
import json
import sys

import pytest
from django.core import signals
from django.db import close_old_connections

from tests.factories import make_center

pytestmark = pytest.mark.django_db


def test_the_served_application_is_the_lean_chain_and_reaches_django(regions):
    from doorstep import served
    from doorstep.visits import fastwsgi

    assert served.application is fastwsgi.application
    make_center("长宁区虹桥街道社区党群服务中心", aliases=["古北市民中心"])
    # A request that is not a lean path reaches Django unchanged, through both entries.
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/api/v1/centers",
        "QUERY_STRING": "q=gubei",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    seen: dict[str, str] = {}

    def start_response(status, headers, exc_info=None):
        seen["status"] = status

    # As Django's test client does: keep the test's database connection open.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        body = b"".join(served.application(environ, start_response))
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    assert seen["status"].startswith("200")
    assert [c["name"] for c in json.loads(body)["items"]] == ["长宁区虹桥街道社区党群服务中心"]
