"""Open311 GeoReport v2 as a real client sees it: the `georeport` library (PyPI) reads the
catalogue, a definition and requests in JSON and XML from a live server; filing is an
x-www-form-urlencoded POST as the spec has it. Field names are checked against the spec."""

import pytest
import requests
import xmltodict
from georeport import GeoReport

from doorstep.accounts.tokens import issue_token
from doorstep.cases import services
from doorstep.cases.models import ServiceRequest
from tests.cases.conftest import make_scene

pytestmark = pytest.mark.django_db(transaction=True)

SERVICE_FIELDS = {
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
}
ATTRIBUTE_FIELDS = {
    "variable",
    "code",
    "datatype",
    "required",
    "datatype_description",
    "order",
    "description",
    "values",
}
REQUEST_FIELDS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}


@pytest.fixture
def world(regions):
    return make_scene()


def _post(base, **data):
    return requests.post(f"{base}/requests.json", data=data, timeout=30)


def _file(base, scene, **extra):
    data = {
        "api_key": issue_token(scene["manager"]),
        "service_code": "health_certificate",
        "address_id": str(scene["center"].pk),
        "attribute[company]": "河畔餐饮有限公司",
        "attribute[employees]": "12",
        "description": "餐厅员工需要办理健康证",
        "first_name": "先生",
        "last_name": "王",
        "phone": "139-1234-5678",
        **extra,
    }
    return _post(base, **data)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_client_reads_the_catalogue_and_a_definition(live_server, world, fmt):
    client = GeoReport(f"{live_server.url}/open311/v2", output_format=fmt)
    listed = client.get_service_list()
    if fmt == "xml":
        listed = listed["services"]["service"] if "services" in listed else listed
    listed = listed if isinstance(listed, list) else [listed]
    by_code = {s["service_code"]: s for s in listed}
    assert set(by_code) == {"health_certificate", "policy_advice"}
    assert set(by_code["health_certificate"]) == SERVICE_FIELDS
    assert by_code["health_certificate"]["service_name"] == "健康证办理"
    assert str(by_code["policy_advice"]["metadata"]).lower() == "true"
    assert by_code["policy_advice"]["type"] == "realtime"
    definition = client.get_service_definition("health_certificate")
    attributes = definition["attributes"]
    attributes = attributes["attribute"] if fmt == "xml" else attributes
    assert [a["code"] for a in attributes] == ["company", "employees"]
    assert all(
        set(a) >= ATTRIBUTE_FIELDS - ({"values"} if fmt == "xml" else set()) for a in attributes
    )
    employees = attributes[1]
    assert employees["datatype"] == "number"
    assert str(employees["required"]).lower() == "true"
    assert employees["datatype_description"] == "医院据此预留体检名额"


def test_filing_and_following_a_request(live_server, world):
    base = f"{live_server.url}/open311/v2"
    answer = _file(base, world)
    assert answer.status_code == 200, answer.text
    [created] = answer.json()
    assert set(created) == {"service_request_id", "service_notice", "account_id"}
    req = ServiceRequest.objects.get(pk=int(created["service_request_id"]))
    assert (req.via, req.applicant, req.contact_name, req.contact_phone) == (
        "open311",
        world["manager"],
        "王 先生",
        "13912345678",
    )
    assert req.answers == {"company": "河畔餐饮有限公司", "employees": 12}
    client = GeoReport(base)
    seen = client.get_service_request(created["service_request_id"])
    assert set(seen) == REQUEST_FIELDS
    assert seen["status"] == "open" and seen["service_code"] == "health_certificate"
    # The public sees the status, not what the applicant wrote.
    assert seen["description"] == ""
    assert seen["expected_datetime"].startswith(
        req.resolution_due.astimezone().date().isoformat()[:4]
    )
    assert seen["agency_responsible"] == "苏河湾楼宇党群服务中心"
    # The account that filed it, with its api_key, reads its own text back.
    own = requests.get(
        f"{base}/requests/{req.pk}.json",
        params={"api_key": issue_token(world["manager"])},
        timeout=30,
    ).json()[0]
    assert own["description"] == "餐厅员工需要办理健康证"
    # Lists: open now, then closed after the center declines it.
    assert [r["service_request_id"] for r in client.get_service_requests(status="open")] == [
        str(req.pk)
    ]
    services.move(
        request_id=req.pk,
        by=world["staff"],
        action="decline",
        note="本中心暂不受理，请到区卫生服务中心办理",
    )
    xml = GeoReport(base, output_format="xml").get_service_requests(status="closed")
    assert xml["service_request_id"] == str(req.pk) and xml["status"] == "closed"
    assert xml["status_notes"] == "本中心暂不受理，请到区卫生服务中心办理"


def test_lat_long_files_at_the_nearest_center_that_takes_it(live_server, world):
    center = world["center"]
    answer = _file(
        f"{live_server.url}/open311/v2",
        world,
        address_id="",
        lat=str(center.lat + 0.001),
        long=str(center.lng),
    )
    assert answer.status_code == 200, answer.text
    assert ServiceRequest.objects.get().center == center


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"api_key": ""}, 403),
        ({"api_key": "not-a-key"}, 403),
        ({"service_code": "no_such_service"}, 404),
        ({"address_id": "99999999"}, 404),
        ({"address_id": "", "lat": "north", "long": "121"}, 400),
        ({"attribute[employees]": "很多"}, 400),
        ({"description": "身份证 31010519491231002X"}, 400),
        ({"jurisdiction_id": "elsewhere.example"}, 404),
    ],
)
def test_bad_posts_get_the_specs_errors_and_store_nothing(live_server, world, changes, status):
    answer = _file(f"{live_server.url}/open311/v2", world, **changes)
    assert answer.status_code == status
    errors = answer.json()
    assert isinstance(errors, list) and set(errors[0]) == {"code", "description"}
    assert errors[0]["code"] == status and errors[0]["description"]
    assert ServiceRequest.objects.count() == 0


def test_errors_in_xml_and_bad_queries(live_server, world):
    base = f"{live_server.url}/open311/v2"
    answer = requests.get(f"{base}/services/nothing.xml", timeout=30)
    assert answer.status_code == 404
    assert answer.headers["Content-Type"].startswith("text/xml")
    parsed = xmltodict.parse(answer.content)
    assert parsed["errors"]["error"]["code"] == "404"
    for params in (
        {"status": "pending"},
        {"start_date": "yesterday"},
        {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-12-01T00:00:00Z"},
    ):
        bad = requests.get(f"{base}/requests.json", params=params, timeout=30)
        assert bad.status_code == 400, params
        assert bad.json()[0]["code"] == 400
    assert requests.get(f"{base}/requests/abc.json", timeout=30).status_code == 404
    assert requests.get(f"{base}/services.csv", timeout=30).status_code == 404
    discovery = requests.get(f"{live_server.url}/open311/discovery.xml", timeout=30)
    assert xmltodict.parse(discovery.content)["discovery"]["endpoints"]["endpoint"]["specification"]
