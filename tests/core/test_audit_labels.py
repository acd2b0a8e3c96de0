"""The audit trail names recorded details in the reader's language (a model field's verbose
name, or the service's own label) and shows yes/no as ✓/✗: no stored key shows through."""

import pytest
from django.test import Client

from doorstep.visits.services import RouteInput, create_route
from tests.factories import make_center, make_staff

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("lang", "expected", "absent"),
    [
        ("zh-hans", ["公开", "站点", "✓"], ["public", "stops", "True"]),
        ("en", ["public", "stops", "✓"], ["True"]),
    ],
)
def test_change_keys_and_values_are_labelled(regions, lang, expected, absent):
    a, b = make_center("甲中心", district="黄浦区"), make_center("乙中心", district="黄浦区")
    staff = make_staff(scope="city")
    create_route(staff=staff, data=RouteInput(title="红色一平方公里", center_ids=[a.pk, b.pk]))
    c = Client()
    c.cookies["django_language"] = lang
    c.force_login(staff)
    html = c.get("/staff/audit/").content.decode()
    cell = html[html.index("红色一平方公里") :]
    for text in expected:
        assert text in cell, text
    for text in absent:
        assert f"<strong>{text}</strong>" not in cell and f"→ {text}<" not in cell, text
