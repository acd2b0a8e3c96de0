"""The inbox: notify writes once per person, delivery follows each person's choice after
commit, the page and API list and mark notices, and links never leave the site."""

import pytest

from doorstep.accounts.tokens import issue_token
from doorstep.core.errors import InvalidInput
from doorstep.inbox import services
from doorstep.inbox.context_processors import inbox as inbox_context
from doorstep.inbox.models import DeliveryPreference, Notice
from tests.factories import make_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(db):
    return [make_account(name=f"居民{i}") for i in range(3)]


def test_notify_dedupes_and_delivers_after_commit(
    people, memory_sender, django_capture_on_commit_callbacks, daytime
):
    a, b, c = people
    services.set_preference(user=a, by_sms=True, by_email=False, email="")
    services.set_preference(user=b, by_sms=False, by_email=True, email="b@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        n = services.notify(
            [a.pk, b.pk, c.pk, a.pk],
            subject="topic:1",
            kind="topic_status",
            title="议题有新进展",
            body="详情",
            url="/topics/1/",
        )
    assert n == 3 and Notice.objects.count() == 3
    assert {(m.channel, m.to) for m in memory_sender} == {
        ("sms", a.phone),
        ("email", "b@example.org"),
    }
    email = next(m for m in memory_sender if m.channel == "email")
    assert email.subject == "议题有新进展" and "/topics/1/" in email.text


def test_notify_nobody_writes_nothing(memory_sender):
    assert services.notify([], subject="topic:1", kind="k", title="t") == 0
    assert Notice.objects.count() == 0


def test_inactive_accounts_get_no_sms(people, memory_sender, django_capture_on_commit_callbacks):
    a = people[0]
    services.set_preference(user=a, by_sms=True, by_email=False, email="")
    a.is_active = False
    a.save()
    with django_capture_on_commit_callbacks(execute=True):
        services.notify([a.pk], subject="topic:1", kind="k", title="t")
    assert memory_sender == []


def test_preferences_are_checked(people):
    a = people[0]
    with pytest.raises(InvalidInput) as exc:
        services.set_preference(user=a, by_sms=False, by_email=True, email="")
    assert exc.value.code == "no_email"
    with pytest.raises(InvalidInput) as exc:
        services.set_preference(user=a, by_sms=False, by_email=True, email="not-an-email")
    assert exc.value.code == "invalid_email"
    assert not DeliveryPreference.objects.exists()


def test_inbox_page_lists_marks_and_saves_choice(client, people):
    a, b, _c = people
    services.notify([a.pk], subject="topic:1", kind="k", title="<b>进展</b>", url="/topics/1/")
    services.notify([a.pk], subject="topic:2", kind="k", title="外链", url="https://evil.example/")
    services.notify([b.pk], subject="topic:3", kind="k", title="别人的通知")
    client.force_login(a)
    html = client.get("/inbox/").content.decode()
    assert "&lt;b&gt;进展&lt;/b&gt;" in html and "别人的通知" not in html
    assert "2 条未读通知" in html
    mine = Notice.objects.filter(user=a).order_by("id")
    r = client.get(f"/inbox/{mine[0].pk}/open")
    assert r.status_code == 302 and r["Location"] == "/topics/1/"
    r = client.get(f"/inbox/{mine[1].pk}/open")
    assert r["Location"] == "/inbox/"  # never off the site
    other = Notice.objects.get(user=b)
    assert client.get(f"/inbox/{other.pk}/open").status_code == 404
    assert Notice.objects.filter(user=a, read_at__isnull=True).count() == 0
    r = client.post("/inbox/preferences", {"by_email": "on", "email": "bad"}, follow=True)
    assert 'role="alert"' in r.content.decode()
    client.post("/inbox/preferences", {"by_sms": "on"})
    assert DeliveryPreference.objects.get(user=a).by_sms


def test_inbox_needs_sign_in(client):
    assert client.get("/inbox/").status_code == 302


def test_unread_count_context_is_lazy(rf, people, django_assert_num_queries):
    a = people[0]
    services.notify([a.pk], subject="topic:1", kind="k", title="t")
    request = rf.get("/")
    request.user = a
    with django_assert_num_queries(0):
        ctx = inbox_context(request)
    assert int(str(ctx["inbox_unread"])) == 1


def test_api_lists_and_marks_read(client, people):
    a, b, _c = people
    services.notify([a.pk, b.pk], subject="topic:1", kind="k", title="进展")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {issue_token(a)}"}
    r = client.get("/api/v1/me/notices", **headers)
    assert r.status_code == 200 and r.json()["unread"] == 1 and len(r.json()["items"]) == 1
    r = client.post("/api/v1/me/notices/read", {}, content_type="application/json", **headers)
    assert r.json() == {"marked": 1}
    assert Notice.objects.get(user=b).read_at is None
    assert client.get("/api/v1/me/notices").status_code == 401
