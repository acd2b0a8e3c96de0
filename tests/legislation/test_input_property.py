"""Whatever a person types, the API answers 201 or a 4xx with a code, never a 500, and what it
stores is exactly the cleaned text."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from doorstep.accounts.tokens import issue_token
from doorstep.core.inputs import FORBIDDEN_TEXT
from doorstep.legislation.models import Opinion

pytestmark = pytest.mark.django_db


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=2100) | st.sampled_from(["<script>", "a<b", "\x00", " ", "é" * 2001]))
def test_any_text_gets_a_clean_answer(world, client, text):
    token = issue_token(world["alice"])
    r = client.post(
        f"/api/v1/legislation/drafts/{world['draft'].pk}/opinions",
        data=json.dumps({"article_id": world["articles"][1].pk, "text": text}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    body = r.json()
    if FORBIDDEN_TEXT.search(text):
        # The API's input rule refuses control characters before the service (tests/core).
        assert r.status_code == 422 and body["code"] == "invalid_parameter", r.content
        return
    assert r.status_code in (201, 400, 409, 429), r.content
    if r.status_code == 201:
        stored = Opinion.objects.get(pk=body["id"])
        assert stored.text == body["text"] and stored.text.strip() == stored.text
        assert "\x00" not in stored.text and 0 < len(stored.text) <= 2000
    else:
        assert body["code"] in {"empty", "too_long", "markup", "repeated", "too_many"}
