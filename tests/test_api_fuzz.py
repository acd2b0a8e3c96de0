"""Schemathesis against the API's own OpenAPI schema, in process: no 5xx, and every answer
matches the schema, anonymous and with a resident's or a city staff member's bearer token.

Each operation gets a bounded number of generated requests (EXAMPLES) over a small world
(a center with hours, an activity, a topic, a draft law), so ids in paths sometimes name real
rows. Runs on SQLite and on PostgreSQL like the rest of the suite.
"""

import json
from datetime import timedelta
from urllib.parse import urlencode

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from doorstep.accounts.tokens import issue_token
from doorstep.wsgi import application
from tests.factories import make_account, make_activity, make_center, make_staff

EXAMPLES = 12
# No 5xx; every status, content type and body as the schema documents it.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture
def keep_connection():
    """As Django's test client does: requests must not close the test's connection."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(regions, keep_connection):
    center = make_center("长宁区古北市民中心", subdistrict="虹桥街道", hours="daily 08:30-20:30")
    make_activity(center, audience="everyone", starts_at=timezone.now() + timedelta(days=3))
    resident = make_account(name="李阿姨", children=(("小明", 2016),))
    staff = make_staff(scope="city")
    return {
        "anonymous": {},
        "resident": {"Authorization": f"Bearer {issue_token(resident)}"},
        "staff": {"Authorization": f"Bearer {issue_token(staff)}"},
    }


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["anonymous", "resident", "staff"])
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_never_fails_and_answers_as_documented(case, who, tokens):
    case.call_and_validate(headers=tokens[who], checks=CHECKS)


# A sweep Schemathesis does not make by itself (its generated strings and numbers rarely land
# on these): every parameter and top-level body field of every operation in the schema gets
# each hostile value of its type in turn, the rest of the request kept plain. The audit found
# 500s exactly here (NUL on PostgreSQL, numbers beyond 64 bits, naive and year-1 times).
HOSTILE = {
    "string": ["a\x00b", "\ud800", "\x1b[31m", "x" * 5000],
    "integer": [2**63, -(2**63) - 1, 2**70],
    "number": ["NaN", "Infinity", 1e309],
    "date-time": ["2026-12-01T10:00:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"],
    "date": ["0001-01-01", "9999-12-31"],
}


def _resolve(spec, node):
    while isinstance(node, dict) and "$ref" in node:
        node = spec["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    if isinstance(node, dict) and "anyOf" in node:
        typed = [n for n in node["anyOf"] if _resolve(spec, n).get("type") != "null"]
        return _resolve(spec, typed[0]) if typed else {}
    return node


def _fits_a_url(value) -> bool:
    try:
        urlencode({"v": value}, doseq=True)
    except UnicodeEncodeError:
        return False
    return True


def _kind(schema) -> str:
    if schema.get("format") in ("date-time", "date"):
        return schema["format"]
    return schema.get("type", "string")


def _plain(schema):
    """A simple valid-looking value of the schema's kind."""
    if "enum" in schema:
        return schema["enum"][0]
    return {
        "string": "x",
        "integer": 1,
        "number": 1.0,
        "boolean": True,
        "array": [],
        "object": {},
        "date-time": "2026-12-01T10:00:00+08:00",
        "date": "2026-12-01",
    }.get(_kind(schema), "x")


def hostile_requests(spec):
    """(method, path, query, body, field, value) for every field of every operation."""
    for template, operations in spec["paths"].items():
        for method, op in operations.items():
            params = op.get("parameters", [])
            body_schema = {}
            content = op.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                body_schema = _resolve(spec, content["application/json"]["schema"])
            fields = [("param", p["name"], p["in"], _resolve(spec, p["schema"])) for p in params]
            props = body_schema.get("properties", {})
            fields += [("body", n, "body", _resolve(spec, s)) for n, s in props.items()]
            plain_params = {p["name"]: _plain(_resolve(spec, p["schema"])) for p in params}
            plain_body = {n: _plain(_resolve(spec, s)) for n, s in props.items()}
            for _where, name, location, schema in fields:
                kind = _kind(schema)
                values = HOSTILE.get(kind, [])
                if kind == "array":
                    item = _resolve(spec, schema.get("items", {}))
                    values = [[v] for v in HOSTILE.get(_kind(item), [])]
                if location != "body":
                    # A URL carries UTF-8: a lone surrogate only travels escaped in JSON.
                    values = [v for v in values if _fits_a_url(v)]
                for value in values:
                    query = dict(plain_params)
                    body = dict(plain_body)
                    if location == "body":
                        body[name] = value
                    else:
                        query[name] = value
                    path = template
                    for p in params:
                        if p["in"] == "path":
                            path = path.replace("{" + p["name"] + "}", str(query.pop(p["name"])))
                    query = {
                        k: v
                        for k, v in query.items()
                        if any(p["name"] == k and p["in"] == "query" for p in params)
                    }
                    yield method, path, query, body if content else None, name, value


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["resident", "staff"])
def test_hostile_values_in_every_field_are_clean_4xx(tokens, who):
    client = Client(raise_request_exception=False)  # a 500 is collected, not raised
    spec = client.get("/api/v1/openapi.json").json()
    headers = {"HTTP_AUTHORIZATION": tokens[who]["Authorization"]}
    failures, sent = [], 0
    for method, path, query, body, field, value in hostile_requests(spec):
        kwargs = dict(headers)
        if body is not None:
            kwargs.update(data=json.dumps(body), content_type="application/json")
            if query:
                path = f"{path}?{urlencode(query)}"
        else:
            kwargs["data"] = query
        response = getattr(client, method)(path, **kwargs)
        sent += 1
        ok = response.status_code < 500
        if ok and response.status_code >= 400:
            data = response.json()
            ok = isinstance(data.get("code"), str) and isinstance(data.get("message"), str)
        if not ok:
            failures.append((method.upper(), path, field, repr(value)[:40], response.status_code))
    assert sent > 300  # the sweep covers the schema, not a handful of fields
    assert failures == [], "\n".join(" ".join(map(str, f)) for f in failures)
