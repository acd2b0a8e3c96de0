"""Resident pages for activities: list, detail, registering, my registrations, tickets,
calendar files and the lobby screen. Text is checked in English (the language cookie), so
these tests do not depend on the translations; the default language is still zh-Hans."""

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from unittest import mock

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from doorstep.activities import tickets
from doorstep.activities.models import Activity, Registration
from doorstep.activities.services import register
from doorstep.core import ics
from tests.factories import make_account, make_activity, make_center, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()  # locmem outlives a test: the list caches its center choices


@pytest.fixture
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def center(regions):
    return make_center(
        "东明路街道社区党群服务中心", district="浦东新区", address="浦东新区东明路1号, 近地铁站"
    )


@pytest.fixture
def parent():
    return make_account(name="王芳", children=(("多多", timezone.now().year - 7),))


def text(response) -> str:
    return unescape(response.content.decode())


def ids(account) -> list[int]:
    return list(account.people.values_list("id", flat=True))


def key_in(html: str) -> str:
    return re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1)


def soon(hours: int = 48) -> datetime:
    return timezone.now() + timedelta(hours=hours)


# The list ---------------------------------------------------------------------------------


def test_list_shows_this_week_by_default(english, center):
    make_activity(center, title="本周象棋", starts_at=soon(48))
    make_activity(center, title="下月讲座", starts_at=soon(24 * 20))
    make_activity(center, title="草稿活动", starts_at=soon(30), publish=False)
    r = english.get("/activities/")
    assert r.status_code == 200
    html = text(r)
    assert "本周象棋" in html
    assert "下月讲座" not in html and "草稿活动" not in html
    assert f'href="/centers/{center.pk}/"' in html
    later = (timezone.localdate() + timedelta(days=20)).isoformat()
    r = english.get("/activities/", {"from": later, "to": later})
    assert "下月讲座" in text(r) and "本周象棋" not in text(r)


def test_list_filters(english, center, regions):
    other = make_center("徐汇滨江党群服务中心", district="徐汇区")
    make_activity(center, title="象棋", starts_at=soon(24))
    make_activity(
        center, title="健康讲座", category="health", audience="elderly", starts_at=soon(30)
    )
    make_activity(other, title="滨江绘画", category="painting", starts_at=soon(26))
    full = make_activity(center, title="满员舞蹈", category="dance", capacity=1, starts_at=soon(28))
    Activity.objects.filter(pk=full.pk).update(taken=1)

    def titles(**params) -> list[str]:
        r = english.get("/activities/", params)
        assert r.status_code == 200, text(r)
        return re.findall(r'<h3><a href="/activities/\d+/">([^<]+)</a>', text(r))

    assert titles() == ["象棋", "滨江绘画", "满员舞蹈", "健康讲座"]
    assert titles(center=other.pk) == ["滨江绘画"]
    assert titles(category="health") == ["健康讲座"]
    assert titles(audience="elderly") == ["健康讲座"]
    assert "满员舞蹈" not in titles(has_seats="1")
    # htmx asks for the results only.
    partial = english.get("/activities/", {"category": "health"}, HTTP_HX_REQUEST="true")
    assert "<html" not in text(partial) and "健康讲座" in text(partial)
    # The center filter is a type-ahead (12,600 centers): the chosen one is shown by name, and
    # without JavaScript a typed name is taken as its best match.
    chosen = text(english.get("/activities/", {"center": other.pk}))
    assert f'name="center" id="f-center" value="{other.pk}"' in chosen
    assert f'value="{other.display_name}"' in chosen
    assert titles(center_q=other.name) == ["滨江绘画"]
    r = english.get("/activities/", {"center_q": "不存在的中心名"})
    assert r.status_code == 400 and "No center matches" in text(r)


def test_list_shows_an_honest_state_for_each_activity(english, center):
    now = timezone.now()
    day = soon(30)
    make_activity(center, title="A-open", capacity=5, starts_at=day)
    make_activity(
        center, title="B-not-open", starts_at=day, registration_opens_at=now + timedelta(hours=5)
    )
    waitlisted = make_activity(center, title="C-waitlist", capacity=1, starts_at=day)
    Activity.objects.filter(pk=waitlisted.pk).update(taken=1)
    full = make_activity(center, title="D-full", capacity=1, waitlist_enabled=False, starts_at=day)
    Activity.objects.filter(pk=full.pk).update(taken=1)
    make_activity(center, title="E-lottery", allocation="lottery", starts_at=day)
    make_activity(
        center,
        title="F-drawing",
        allocation="lottery",
        starts_at=day,
        registration_opens_at=now - timedelta(days=2),
        registration_closes_at=now - timedelta(hours=1),
    )
    gone = make_activity(center, title="G-cancelled", starts_at=day)
    Activity.objects.filter(pk=gone.pk).update(status="cancelled", cancel_reason="老师生病")
    make_activity(
        center,
        title="H-closed",
        starts_at=day,
        registration_opens_at=now - timedelta(days=2),
        registration_closes_at=now - timedelta(hours=1),
    )
    html = text(english.get("/activities/"))
    items = dict(
        re.findall(
            r'<h3><a href="/activities/\d+/">([^<]+)</a>.*?<span class="state state-([a-z_]+)">',
            html,
            re.S,
        )
    )
    assert items == {
        "A-open": "open",
        "B-not-open": "not_open",
        "C-waitlist": "waitlist",
        "D-full": "full",
        "E-lottery": "lottery_open",
        "F-drawing": "drawing",
        "G-cancelled": "cancelled",
        "H-closed": "closed",
    }
    assert "Open: 5 places left" in html
    assert "Full: join the waiting list" in html
    assert "Cancelled: 老师生病" in html
    # The countdown: a time without JavaScript, the seconds left for activities.js.
    opens = timezone.localtime(now + timedelta(hours=5))
    assert "Registration opens <time datetime=" in html and opens.strftime("%H:%M") in html
    left = int(re.search(r'data-countdown="(\d+)"', html).group(1))
    assert 5 * 3600 - 60 <= left <= 5 * 3600
    assert 'id="countdown-text"' in html and "activities.js" in html


def test_finished_activities_say_so(english, center):
    now = timezone.now()
    make_activity(
        center,
        title="已结束",
        starts_at=now - timedelta(hours=3),
        registration_opens_at=now - timedelta(days=3),
        registration_closes_at=now - timedelta(days=1),
    )
    day = timezone.localdate(now - timedelta(hours=3)).isoformat()
    html = text(english.get("/activities/", {"from": day, "to": day}))
    assert 'class="state state-finished"' in html and "Finished" in html


@pytest.mark.parametrize(
    "params",
    [
        {"from": "yesterday"},
        {"to": "2025-13-45"},
        {"center": "abc"},
        {"center": "99999999999999999999999"},
        {"category": "karaoke"},
        {"audience": "robots"},
        {"from": "2030-01-10", "to": "2030-01-01"},
        {"from": "2030-01-01", "to": "2032-01-01"},
        {"page": "-1"},
        {"page": "x"},
        {"from": "0001-01-01"},
        {"to": "9999-12-31"},
    ],
)
def test_bad_query_parameters_are_a_message_not_a_500(english, center, params):
    r = english.get("/activities/", params)
    assert r.status_code == 400
    assert 'class="error" role="alert"' in text(r)
    # htmx only swaps in 2xx answers, so its fragment carries the message with a 200.
    partial = english.get("/activities/", params, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200 and 'class="error" role="alert"' in text(partial)


text_input = st.text(max_size=40)


@hypothesis_settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    center_id=st.one_of(st.just(""), st.integers(-(10**20), 10**20).map(str), text_input),
    date_from=st.one_of(st.just(""), st.dates().map(str), text_input),
    date_to=st.one_of(st.just(""), st.dates().map(str), text_input),
    category=st.one_of(st.just(""), st.sampled_from(["chess", "x"]), text_input),
    audience=st.one_of(st.just(""), st.sampled_from(["elderly", "x"]), text_input),
    page=st.one_of(st.just(""), st.integers(-(10**20), 10**20).map(str), text_input),
    has_seats=st.one_of(st.just(""), st.just("1"), text_input),
)
def test_no_query_makes_a_500(
    client, center, center_id, date_from, date_to, category, audience, page, has_seats
):
    if not center.activities.exists():
        make_activity(center, starts_at=soon(30))
    params = {
        "center": center_id or center.pk,
        "from": date_from,
        "to": date_to,
        "category": category,
        "audience": audience,
        "page": page,
        "has_seats": has_seats,
    }
    r = client.get("/activities/", {k: v for k, v in params.items() if v != ""})
    assert r.status_code in (200, 400)


def test_list_query_count_is_bounded(
    english, center, parent, regions, django_assert_max_num_queries
):
    others = [make_center(f"测试中心{i}", district="徐汇区") for i in range(3)]
    for i in range(18):
        a = make_activity((others + [center])[i % 4], title=f"活动{i}", starts_at=soon(24 + i))
        if i % 3 == 0:
            register(account=parent, activity_id=a.pk, person_ids=ids(parent))
    english.force_login(parent)
    english.get("/activities/")  # warm the centers cache
    with django_assert_max_num_queries(6):
        r = english.get("/activities/")
    assert r.status_code == 200
    assert text(r).count('class="act-item') == 18
    assert text(r).count("You are registered") == 6


# One activity ----------------------------------------------------------------------------


def test_detail_for_anonymous_asks_to_sign_in(english, center):
    a = make_activity(center, title="象棋课", room="301 活动室", age_min=5, age_max=10)
    r = english.get(f"/activities/{a.pk}/")
    assert r.status_code == 200
    html = text(r)
    assert "301 活动室" in html and "ages 5–10" in html
    assert f'href="/centers/{center.pk}/"' in html
    assert f'href="/account/sign-in?next=/activities/{a.pk}/"' in html
    assert "idempotency_key" not in html
    assert "First come, first served." in html


def test_detail_of_a_draft_or_missing_activity_is_404(client, center):
    draft = make_activity(center, publish=False)
    assert client.get(f"/activities/{draft.pk}/").status_code == 404
    assert client.get("/activities/999999/").status_code == 404


def test_register_via_the_form_is_idempotent(english, center, parent):
    a = make_activity(center, capacity=5)
    english.force_login(parent)
    html = text(english.get(f"/activities/{a.pk}/"))
    for name in ("王芳", "多多"):
        assert name in html
    key = key_in(html)
    assert key != key_in(text(english.get(f"/activities/{a.pk}/")))  # fresh per render
    form = {"person": ids(parent), "idempotency_key": key}
    r = english.post(f"/activities/{a.pk}/register", form)
    assert r.status_code == 302 and r["Location"] == f"/activities/{a.pk}/"
    page = text(english.get(r["Location"]))
    assert "Confirmed: 王芳、多多" in page
    assert "Your registrations for this activity" in page
    assert page.count("Ticket for") == 2
    # A double click or a refresh that re-posts the form: the same answer, no second place.
    again = english.post(f"/activities/{a.pk}/register", form, follow=True)
    assert again.status_code == 200
    assert "nothing was taken twice" in text(again)
    a.refresh_from_db()
    assert a.taken == 2
    assert Registration.objects.filter(activity=a).count() == 2
    # Everyone is registered now: no form, a sentence instead.
    assert "Everyone in your household is registered" in text(again)
    assert 'name="idempotency_key"' not in text(again)


def test_register_errors_are_messages_with_a_4xx_status(english, center, parent):
    ages = make_activity(center, title="少儿象棋", age_min=5, age_max=10)
    english.force_login(parent)
    holder = parent.people.get(is_account_holder=True).pk
    r = english.post(
        f"/activities/{ages.pk}/register",
        {"person": [holder], "idempotency_key": "k" * 20},
    )
    assert r.status_code == 400
    assert "is not in this activity's age range" in text(r)
    assert 'role="alert"' in text(r)
    # Nobody chosen, then a person from another household.
    r = english.post(f"/activities/{ages.pk}/register", {"idempotency_key": "m" * 20})
    assert r.status_code == 400 and "Choose who will attend." in text(r)
    stranger = make_account().people.get().pk
    r = english.post(f"/activities/{ages.pk}/register", {"person": [stranger]})
    assert r.status_code == 400 and "not in your household" in text(r)
    r = english.post(f"/activities/{ages.pk}/register", {"person": ["abc"]})
    assert r.status_code == 400
    # The same key for another activity is a conflict.
    other = make_activity(center, title="另一个")
    english.post(
        f"/activities/{other.pk}/register", {"person": ids(parent), "idempotency_key": "z" * 20}
    )
    r = english.post(
        f"/activities/{ages.pk}/register", {"person": ids(parent), "idempotency_key": "z" * 20}
    )
    assert r.status_code == 409
    # Full without a waiting list.
    full = make_activity(center, capacity=1, waitlist_enabled=False)
    r = english.post(f"/activities/{full.pk}/register", {"person": ids(parent)})
    assert r.status_code == 400 and "All places are taken." in text(r)
    assert Registration.objects.filter(activity__in=[ages, full]).count() == 0


def test_register_when_not_open_shows_the_time_in_chinese(client, center, parent):
    a = make_activity(center, registration_opens_at=timezone.now() + timedelta(hours=2))
    client.force_login(parent)
    page = text(client.get(f"/activities/{a.pk}/"))
    assert 'lang="zh-Hans"' in page
    assert 'name="idempotency_key"' not in page  # no form before it opens
    r = client.post(f"/activities/{a.pk}/register", {"person": ids(parent)})
    assert r.status_code == 400
    assert "报名" in text(r) or "Registration opens" in text(r)


def test_anonymous_post_goes_to_sign_in(client, center):
    a = make_activity(center)
    r = client.post(f"/activities/{a.pk}/register", {"person": ["1"]})
    assert r.status_code == 302 and r["Location"].startswith("/account/sign-in?next=")


def test_waiting_list_position_is_shown(english, center, parent):
    a = make_activity(center, capacity=1, audience="everyone")
    first = make_account()
    register(account=first, activity_id=a.pk, person_ids=ids(first))
    second = make_account()
    register(account=second, activity_id=a.pk, person_ids=ids(second))
    english.force_login(parent)
    holder = parent.people.get(is_account_holder=True).pk
    page = text(english.get(f"/activities/{a.pk}/"))
    assert "Join the waiting list" in page
    r = english.post(
        f"/activities/{a.pk}/register",
        {"person": [holder], "idempotency_key": key_in(page)},
        follow=True,
    )
    assert "on the waiting list at position 2" in text(r)
    assert "On the waiting list, position 2" in text(r)
    # The child can still be added; the parent's box says they are registered.
    assert re.search(r"disabled> 王芳 · already registered", text(r))
    assert 'name="idempotency_key"' in text(r)


def test_lottery_application_then_the_revealed_draw(english, center, parent):
    a = make_activity(center, allocation="lottery", capacity=10)
    english.force_login(parent)
    page = text(english.get(f"/activities/{a.pk}/"))
    assert a.lottery_commitment in page
    assert a.lottery_seed not in page
    assert "Apply for the lottery" in page
    r = english.post(
        f"/activities/{a.pk}/register",
        {"person": ids(parent), "idempotency_key": key_in(page)},
        follow=True,
    )
    assert "Lottery application received for 王芳、多多" in text(r)
    # After the window closes, reading the page draws (settle) and reveals the seed.
    Activity.objects.filter(pk=a.pk).update(
        registration_closes_at=timezone.now() - timedelta(minutes=1)
    )
    page = text(english.get(f"/activities/{a.pk}/"))
    a.refresh_from_db()
    assert a.drawn_at is not None
    assert a.lottery_seed in page and a.lottery_commitment in page
    assert f'href="/api/v1/activities/{a.pk}/draw"' in page
    assert "doorstep verify-draw --file record.json" in page
    assert page.count("Ticket for") == 2


# My registrations, cancel, offers ---------------------------------------------------------


def test_my_registrations_upcoming_first(english, center, parent):
    later = make_activity(center, title="后来的", starts_at=soon(24 * 10))
    sooner = make_activity(center, title="先来的", starts_at=soon(24 * 2))
    register(account=parent, activity_id=later.pk, person_ids=ids(parent))
    register(account=parent, activity_id=sooner.pk, person_ids=ids(parent)[:1])
    english.force_login(parent)
    r = english.get("/me/registrations/")
    assert r.status_code == 200
    html = text(r)
    assert html.index("先来的") < html.index("后来的")
    assert html.count("Ticket for") == 3
    assert english.get("/me/registrations/").status_code == 200


def test_my_registrations_needs_sign_in(client):
    r = client.get("/me/registrations/")
    assert r.status_code == 302 and "/account/sign-in" in r["Location"]


def test_cancel_with_a_confirm_step(english, center, parent):
    a = make_activity(center, capacity=2)
    reg = register(account=parent, activity_id=a.pk, person_ids=ids(parent)[:1]).registrations[0]
    english.force_login(parent)
    confirm = english.get(f"/me/registrations/{reg.pk}/cancel")
    assert confirm.status_code == 200
    assert "Yes, cancel 王芳's place" in text(confirm)
    reg.refresh_from_db()
    assert reg.status == "confirmed"  # a GET changes nothing
    r = english.post(f"/me/registrations/{reg.pk}/cancel", follow=True)
    assert r.status_code == 200
    assert "is cancelled" in text(r)
    reg.refresh_from_db()
    assert reg.status == "cancelled"
    # Again: a message, not a 500.
    r = english.post(f"/me/registrations/{reg.pk}/cancel")
    assert r.status_code == 400 and "no longer active" in text(r)
    # Somebody else's registration does not exist for me.
    other = make_account()
    english.force_login(other)
    assert english.get(f"/me/registrations/{reg.pk}/cancel").status_code == 404
    assert english.post(f"/me/registrations/{reg.pk}/cancel").status_code == 404


def test_accept_an_offered_place(english, center, parent):
    a = make_activity(center, capacity=1, offer_hours=12, audience="everyone")
    first = make_account()
    r1 = register(account=first, activity_id=a.pk, person_ids=ids(first)).registrations[0]
    holder = parent.people.get(is_account_holder=True).pk
    mine = register(account=parent, activity_id=a.pk, person_ids=[holder]).registrations[0]
    english.force_login(parent)
    assert "On the waiting list, position 1" in text(english.get("/me/registrations/"))
    english.force_login(first)
    english.post(f"/me/registrations/{r1.pk}/cancel")
    english.force_login(parent)
    page = text(english.get("/me/registrations/"))
    assert "A place has become free for you." in page and "Accept it before" in page
    r = english.post(f"/me/registrations/{mine.pk}/accept", follow=True)
    assert "Accepted: 王芳 has a place" in text(r)
    mine.refresh_from_db()
    assert mine.status == "confirmed"
    r = english.post(f"/me/registrations/{mine.pk}/accept")
    assert r.status_code == 400 and "There is no open offer." in text(r)


# Tickets and calendars ---------------------------------------------------------------------


def test_ticket_for_my_confirmed_place_only(english, center, parent):
    a = make_activity(center, capacity=1, audience="everyone")
    regs = register(account=parent, activity_id=a.pk, person_ids=ids(parent)[:1]).registrations
    english.force_login(parent)
    r = english.get(f"/me/registrations/{regs[0].pk}/ticket/")
    assert r.status_code == 200
    html = text(r)
    token = tickets.token_for(Registration.objects.select_related("activity").get(pk=regs[0].pk))
    assert 'viewBox="0 0' in html and 'role="img"' in html
    code = re.search(r"data-short-code>([^<]+)<", html).group(1)
    stored = Registration.objects.get(pk=regs[0].pk).short_code
    assert code == stored and len(code) == 6
    # The same code every time the ticket is shown.
    assert f"data-short-code>{code}<" in text(
        english.get(f"/me/registrations/{regs[0].pk}/ticket/")
    )
    assert "王芳" in html and "data-print" in html
    # The QR opens the ticket's page; for the holder, their ticket.
    r = english.get(tickets.path_for(token))
    assert r.status_code == 302 and r["Location"] == f"/me/registrations/{regs[0].pk}/ticket/"
    # Someone else's ticket, or a place that is not confirmed: not found.
    stranger = make_account()
    english.force_login(stranger)
    assert english.get(f"/me/registrations/{regs[0].pk}/ticket/").status_code == 404
    # Anyone else opening the QR sees the activity it admits to, not the holder's name.
    shown = text(english.get(tickets.path_for(token)))
    assert a.title in shown and "王芳" not in shown and "Show it at the door" in shown
    assert english.get("/t/not-a-ticket").status_code == 404
    waiting = register(account=stranger, activity_id=a.pk, person_ids=ids(stranger))
    assert (
        english.get(f"/me/registrations/{waiting.registrations[0].pk}/ticket/").status_code == 404
    )


def unfold(body: str) -> list[str]:
    """RFC 5545 3.1: CRLF followed by one space or tab continues the line."""
    assert "\n" not in body.replace("\r\n", "")
    return re.sub(r"\r\n[ \t]", "", body).split("\r\n")[:-1]


def fields(lines: list[str]) -> list[dict[str, str]]:
    """Each VEVENT's properties; its VALARMs as a list of dicts under "alarms"."""
    events, current, alarm = [], None, None
    for line in lines:
        if line == "BEGIN:VEVENT":
            current = {"alarms": []}
        elif line == "END:VEVENT":
            events.append(current)
            current = None
        elif line == "BEGIN:VALARM":
            alarm = {}
        elif line == "END:VALARM":
            current["alarms"].append(alarm)
            alarm = None
        elif current is not None:
            name, value = line.split(":", 1)
            (alarm if alarm is not None else current)[name] = value
    return events


def ics_unescape(value: str) -> str:
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def test_registration_ics(client, center, parent):
    a = make_activity(
        center,
        title="象棋课; 初级, 第一讲",
        description="带上棋盘\n家长陪同 \\ 免费" + "很长的说明" * 30,
        room="301",
    )
    reg = register(account=parent, activity_id=a.pk, person_ids=ids(parent)[:1]).registrations[0]
    client.force_login(parent)
    r = client.get(f"/me/registrations/{reg.pk}.ics")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/calendar")
    body = r.content.decode()
    assert body.startswith("BEGIN:VCALENDAR\r\n") and body.endswith("END:VCALENDAR\r\n")
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
    lines = unfold(body)
    assert "VERSION:2.0" in lines and any(line.startswith("PRODID:") for line in lines)
    (event,) = fields(lines)
    assert event["UID"] == f"registration-{reg.public_id}@doorstep"
    assert re.fullmatch(r"\d{8}T\d{6}Z", event["DTSTAMP"])
    start = datetime.strptime(event["DTSTART"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert start == a.starts_at.replace(microsecond=0)
    end = datetime.strptime(event["DTEND"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert end == a.ends_at.replace(microsecond=0)
    assert ics_unescape(event["SUMMARY"]) == "象棋课; 初级, 第一讲 (王芳)"
    assert event["SUMMARY"].startswith("象棋课\\; 初级\\, 第一讲")
    assert (
        ics_unescape(event["LOCATION"])
        == "东明路街道社区党群服务中心, 浦东新区东明路1号, 近地铁站, 301"
    )
    assert ics_unescape(event["DESCRIPTION"]).startswith("带上棋盘\n家长陪同 \\ 免费")
    assert event["STATUS"] == "CONFIRMED" and event["SEQUENCE"] == "0"
    # The activity's reminders, as alarms: the day before and two hours before.
    assert [(x["ACTION"], x["TRIGGER"]) for x in event["alarms"]] == [
        ("DISPLAY", "-PT1440M"),
        ("DISPLAY", "-PT120M"),
    ]
    # Moved: same UID, a higher SEQUENCE; cancelled: STATUS:CANCELLED, higher again, no alarms.
    from doorstep.activities.services import ActivityInput, cancel_activity, update_activity

    staff = make_staff(center=center)
    data = {f: getattr(a, f) for f in ActivityInput.__dataclass_fields__}
    data.update(room="302")
    update_activity(activity_id=a.pk, by=staff, data=ActivityInput(**data))
    (moved,) = fields(unfold(client.get(f"/me/registrations/{reg.pk}.ics").content.decode()))
    assert moved["UID"] == event["UID"] and moved["SEQUENCE"] == "1"
    assert ics_unescape(moved["LOCATION"]).endswith("302")
    cancel_activity(activity_id=a.pk, by=staff, reason="场地维修")
    (gone,) = fields(unfold(client.get(f"/me/registrations/{reg.pk}.ics").content.decode()))
    assert gone["STATUS"] == "CANCELLED" and int(gone["SEQUENCE"]) > 1 and gone["alarms"] == []
    # Not mine: not found.
    client.force_login(make_account())
    assert client.get(f"/me/registrations/{reg.pk}.ics").status_code == 404


def test_center_schedule_ics(client, center):
    a = make_activity(center, title="下周象棋", starts_at=soon(24 * 6))
    make_activity(center, title="两个月后", starts_at=soon(24 * 70))
    make_activity(center, title="草稿", starts_at=soon(24 * 3), publish=False)
    gone = make_activity(center, title="取消了", starts_at=soon(24 * 4))
    Activity.objects.filter(pk=gone.pk).update(status="cancelled", cancel_reason="场地维修")
    r = client.get(f"/centers/{center.pk}/schedule.ics")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/calendar")
    events = fields(unfold(r.content.decode()))
    by_title = {ics_unescape(e["SUMMARY"]): e for e in events}
    assert set(by_title) == {"下周象棋", "取消了"}
    assert by_title["下周象棋"]["UID"] == f"activity-{a.pk}@doorstep"
    assert by_title["下周象棋"]["URL"] == f"http://testserver/activities/{a.pk}/"
    assert by_title["取消了"]["STATUS"] == "CANCELLED"
    assert "场地维修" in ics_unescape(by_title["取消了"]["DESCRIPTION"])
    assert client.get("/centers/999999/schedule.ics").status_code == 404


def test_ics_folding_never_splits_a_character():
    line = "DESCRIPTION:" + "党群服务中心" * 40 + "abc" * 7
    folded = ics.fold(line)
    pieces = folded.split("\r\n")
    assert len(pieces) > 3
    assert all(len(p.encode("utf-8")) <= 75 for p in pieces)
    assert all(p.startswith(" ") for p in pieces[1:])
    assert "".join([pieces[0]] + [p[1:] for p in pieces[1:]]) == line
    assert ics.escape_text("a,b;c\\d\r\ne") == "a\\,b\\;c\\\\d\\ne"


# Lobby screen -----------------------------------------------------------------------------


def test_lobby_screen(english, center):
    # The screen reads the clock itself: pin it at 10:00 local time today, so "in 30 minutes"
    # is still today whatever hour the suite runs at.
    now = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0)
    today = now.date()
    make_activity(
        center,
        title="今日书法",
        capacity=12,
        starts_at=now + timedelta(minutes=30),
        registration_closes_at=now + timedelta(minutes=20),
        now=now,
    )
    with mock.patch("django.utils.timezone.now", return_value=now):
        r = english.get(f"/centers/{center.pk}/lobby/")
    assert r.status_code == 200
    html = text(r)
    assert "site-header" not in html  # no chrome on the big screen
    assert 'hx-trigger="every 60s"' in html and 'http-equiv="refresh"' in html
    assert html.count('class="lobby-day') == 7
    today_section = html.split("lobby-today")[1].split("</section>")[0]
    assert f"lobby-{today:%Y%m%d}" in today_section
    assert "今日书法" in today_section and "12 places left" in today_section
    # Its QR opens the center's schedule on a phone: the page holds the QR of that URL.
    from doorstep.activities.api import qr_svg

    expected = qr_svg(f"http://testserver/activities/?center={center.pk}")
    path = re.search(r"<path[^>]*/>", expected).group(0)
    assert path in html.split('class="lobby-qr">')[1] and "Scan to see this week" in html
    partial = english.get(f"/centers/{center.pk}/lobby/", HTTP_HX_REQUEST="true")
    assert "<html" not in text(partial) and center.name in text(partial)
    assert english.get("/centers/999999/lobby/").status_code == 404
