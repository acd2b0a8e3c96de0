"""The native requests API: what Open311 cannot carry (owners, holders, the clock, the
timeline), the handlers' queue and moves, figures, and 4xx JSON errors with stable codes."""

import json
from unittest import mock

import pytest
from django.test import Client

from doorstep.accounts.tokens import issue_token
from doorstep.cases.models import ServiceRequest
from tests.cases.conftest import MON, local
from tests.factories import make_account

pytestmark = pytest.mark.django_db

NOW = local(MON, 9)


@pytest.fixture(autouse=True)
def _monday_nine():
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        yield


def api(user):
    c = Client(HTTP_AUTHORIZATION=f"Bearer {issue_token(user)}") if user else Client()

    def call(method, path, body=None):
        kwargs = (
            {"content_type": "application/json", "data": json.dumps(body)}
            if body is not None
            else {}
        )
        answer = getattr(c, method)(f"/api/v1{path}", **kwargs)
        return answer.status_code, answer.json()

    return call


def test_catalogue_says_why_each_field_is_asked(scene):
    status, types = api(None)("get", f"/requests/types?center_id={scene['center'].pk}")
    assert status == 200
    health = next(t for t in types if t["code"] == "health_certificate")
    assert health["handler"] == "partner" and health["partner"] == "合作医院"
    assert health["clock_pauses_while_waiting_for_applicant"] is True
    assert [(f["code"], f["why"]) for f in health["fields"]] == [
        ("company", "医院按公司安排体检"),
        ("employees", "医院据此预留体检名额"),
    ]


def test_file_follow_and_handle_through_the_api(scene):
    company = api(scene["manager"])
    status, created = company(
        "post",
        "/requests",
        {
            "center_id": scene["center"].pk,
            "type_code": "health_certificate",
            "description": "12名员工办理健康证",
            "answers": {"company": "河畔餐饮有限公司", "employees": 12},
            "organization_id": scene["company"].pk,
        },
    )
    assert status == 201, created
    rid = created["id"]
    assert created["holder"] == "center" and created["owner"] is None
    assert created["clock"]["running"] is True and created["clock"]["overdue"] is False
    assert created["organization"] == "河畔餐饮有限公司"
    # The queue of the center's staff, nearest deadline first; the hospital's is empty.
    status, queue = api(scene["staff"])("get", "/requests/queue")
    assert [r["id"] for r in queue] == [rid]
    assert api(scene["nurse"])("get", "/requests/queue") == (200, [])
    status, moved = api(scene["staff"])("post", f"/requests/{rid}/moves", {"action": "accept"})
    assert status == 200 and moved["status"] == "accepted" and moved["owner"]
    status, moved = api(scene["staff"])(
        "post", f"/requests/{rid}/moves", {"action": "hand_over", "note": "请医院安排"}
    )
    assert (moved["holder"], moved["partner"]) == ("partner", "合作医院")
    assert [r["id"] for r in api(scene["nurse"])("get", "/requests/queue")[1]] == [rid]
    status, detail = company("get", f"/requests/{rid}")
    assert [e["kind"] for e in detail["timeline"]] == ["submitted", "accepted", "handed_over"]
    assert detail["answers"] == {"company": "河畔餐饮有限公司", "employees": 12}
    status, msg = company("post", f"/requests/{rid}/messages", {"body": "请安排在周三"})
    assert status == 201 and msg["from_handler"] is False


@pytest.mark.parametrize(
    ("who", "method", "path", "body", "status", "code"),
    [
        (
            None,
            "post",
            "/requests",
            {"center_id": 1, "type_code": "x", "description": "x"},
            401,
            None,
        ),
        (
            "resident",
            "post",
            "/requests",
            {"center_id": 999999, "type_code": "policy_advice", "description": "x"},
            404,
            "invalid",
        ),
        (
            "resident",
            "post",
            "/requests",
            {"center_id": "C", "type_code": "unknown", "description": "x"},
            422,
            None,
        ),
        (
            "resident",
            "post",
            "/requests",
            {"center_id": "C", "type_code": "unknown", "description": "x"},
            404,
            "unknown_type",
        ),
        (
            "resident",
            "post",
            "/requests",
            {"center_id": "C", "type_code": "policy_advice", "description": ""},
            400,
            "required",
        ),
        ("resident", "get", "/requests/R", None, 404, None),
        ("resident", "post", "/requests/R/moves", {"action": "accept"}, 404, None),
        ("staff", "post", "/requests/R/moves", {"action": "fly"}, 400, "invalid_action"),
        (
            "staff",
            "post",
            "/requests/R/moves",
            {"action": "resolve", "note": "x"},
            409,
            "wrong_state",
        ),
        ("manager", "post", "/requests/R/rate", {"score": 7}, 422, None),
        ("manager", "post", "/requests/R/rate", {"score": 5}, 409, "wrong_state"),
        ("manager", "post", "/requests/R/reopen", {"note": "x"}, 409, "wrong_state"),
    ],
)
def test_errors_are_4xx_json_with_codes_and_change_nothing(
    scene, who, method, path, body, status, code
):
    from tests.cases.conftest import file_health

    req = file_health(scene, NOW)
    before = ServiceRequest.objects.values_list("status", "updated_at").get(pk=req.pk)
    user = {"resident": scene["resident"]}.get(who) or (scene.get(who) if who else None)
    if body and body.get("center_id") == "C":
        body = {**body, "center_id": scene["center"].pk}
        if status == 422:
            body["center_id"] = "not a number"
    got_status, got = api(user)(method, path.replace("R", str(req.pk)), body)
    assert got_status == status, got
    assert set(got) >= {"code", "message"}
    if code:
        assert got["code"] == code
    assert ServiceRequest.objects.count() == 1
    assert ServiceRequest.objects.values_list("status", "updated_at").get(pk=req.pk) == before


def test_figures_in_scope_only(scene):
    from doorstep.cases import services
    from tests.cases.conftest import file_health

    req = file_health(scene, local(MON, 8))
    services.move(request_id=req.pk, by=scene["staff"], action="accept", now=local(MON, 8, 30))
    status, rows = api(scene["supervisor"])("get", "/requests/figures?by=partner&days=31")
    assert status == 200 and rows[0]["requests"] == 1 and rows[0]["open_now"] == 1
    status, rows = api(scene["supervisor"])("get", "/requests/figures?by=type")
    assert rows[0]["answered_in_time_share"] == 1.0
    assert api(make_account(name="路人"))("get", "/requests/figures")[1] == []
    assert api(scene["supervisor"])("get", "/requests/figures?by=nothing")[0] == 422
