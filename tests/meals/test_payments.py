"""Online payment through a pluggable provider (meals/payments.py): none is shipped; this
test's provider signs its notices with HMAC as a real gateway would, so a forged or short
notice is refused and a genuine one marks the order paid once."""

import hashlib
import hmac
import json
from unittest import mock
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from doorstep.core.models import AuditEntry
from doorstep.meals import services
from doorstep.meals.models import Order
from tests.factories import make_account

pytestmark = pytest.mark.django_db

SECRET = b"gateway-secret"


class SignedGateway:
    def checkout_url(self, order, return_url):
        return "https://pay.example/checkout?" + urlencode(
            {"order": order.public_id, "amount": order.due_fen, "return": return_url}
        )

    def verify(self, request):
        data = json.loads(request.body)
        body = f"{data['order']}:{data['amount']}".encode()
        expected = hmac.new(SECRET, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, data.get("signature", "")):
            return None
        return data["order"], int(data["amount"])


def notice(order_id: str, amount: int, key: bytes = SECRET) -> str:
    signature = hmac.new(key, f"{order_id}:{amount}".encode(), hashlib.sha256).hexdigest()
    return json.dumps({"order": order_id, "amount": amount, "signature": signature})


def test_without_a_provider_there_is_no_online_payment(client, kitchen):
    a = make_account(name="甲")
    with mock.patch("django.utils.timezone.now", return_value=kitchen["before"]):
        placed = services.place_order(
            account=a,
            menu_id=kitchen["menu"].pk,
            person_id=a.people.get().pk,
            lines=[(kitchen["set"].pk, 1)],
        ).order
    client.force_login(a)
    assert "在线支付" not in client.get(reverse("meals:mine")).content.decode()
    assert client.post(reverse("meals:pay", args=[placed.pk])).status_code == 404
    resp = client.post(
        reverse("meals:payment_notice"),
        notice(placed.public_id, 1500),
        content_type="application/json",
    )
    assert resp.status_code == 404


def test_a_genuine_notice_marks_the_order_paid_once(client, kitchen, settings):
    settings.PAYMENT_PROVIDER = "tests.meals.test_payments.SignedGateway"
    a = make_account(name="甲")
    with mock.patch("django.utils.timezone.now", return_value=kitchen["before"]):
        placed = services.place_order(
            account=a,
            menu_id=kitchen["menu"].pk,
            person_id=a.people.get().pk,
            lines=[(kitchen["set"].pk, 1)],
        ).order
    client.force_login(a)
    assert "在线支付" in client.get(reverse("meals:mine")).content.decode()
    go = client.post(reverse("meals:pay", args=[placed.pk]))
    assert go.status_code == 302 and "amount=1500" in go.url
    url = reverse("meals:payment_notice")
    forged = client.post(
        url, notice(placed.public_id, 1500, key=b"guess"), content_type="application/json"
    )
    short = client.post(url, notice(placed.public_id, 100), content_type="application/json")
    assert forged.status_code == 400 and short.status_code == 400
    assert Order.objects.get(pk=placed.pk).paid_with == ""
    for _ in range(2):
        assert (
            client.post(
                url, notice(placed.public_id, 1500), content_type="application/json"
            ).status_code
            == 200
        )
    assert Order.objects.get(pk=placed.pk).paid_with == "online"
    assert AuditEntry.objects.filter(action="meal_order.paid_online").count() == 1
    assert "已付款：在线支付。" in client.get(reverse("meals:mine")).content.decode()
    assert client.post(reverse("meals:pay", args=[placed.pk])).status_code == 404  # paid
