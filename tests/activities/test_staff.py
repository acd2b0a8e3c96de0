import csv
import io
import json
import zipfile
from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from doorstep.accounts.models import Person, User, mask_phone
from doorstep.activities import tickets
from doorstep.activities.models import Activity, CheckIn, Registration, Series
from doorstep.activities.services import register
from tests.factories import make_account, make_activity, make_center, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(regions):
    a = make_center("虹桥街道社区党群服务中心", district="长宁区")
    c = make_center("仙霞新村街道社区党群服务中心", district="长宁区")
    b = make_center("徐家汇街道社区党群服务中心", district="徐汇区")
    return {"a": a, "b": b, "c": c, "staff_a": make_staff(center=a)}


@pytest.fixture
def en(client):
    """Pages in English, so messages can be matched whatever has been translated."""
    client.cookies["django_language"] = "en"
    return client


def people(account):
    return list(account.people.values_list("id", flat=True))


def signed_up(activity, n, **kw):
    """n households of one person each, registered through the real service."""
    regs = []
    for i in range(n):
        account = make_account(name=f"居民{i}")
        result = register(
            account=account, activity_id=activity.pk, person_ids=people(account), **kw
        )
        regs.extend(result.registrations)
    return regs


def local(d: date, t: time) -> datetime:
    return datetime.combine(d, t, tzinfo=timezone.get_current_timezone())


def fmt(dt: datetime) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


def activity_post(**overrides):
    now = timezone.now()
    starts = now + timedelta(days=10)
    data = {
        "title": "剪纸课",
        "description": "非遗剪纸入门",
        "category": "heritage_craft",
        "audience": "everyone",
        "room": "201",
        "starts_at": fmt(starts),
        "ends_at": fmt(starts + timedelta(hours=2)),
        "capacity": "20",
        "registration_opens_at": fmt(now + timedelta(days=1)),
        "registration_closes_at": fmt(starts - timedelta(hours=2)),
        "cancel_deadline": "",
        "allocation": "first_come",
        "places_per_household": "2",
        "weekly_limit_per_person": "",
        "waitlist_enabled": "on",
        "offer_hours": "",
        "local_share_percent": "0",
        "first_timer_share_percent": "0",
    }
    data.update(overrides)
    return data


# Who may see what ----------------------------------------------------------------------------


def test_non_staff_go_to_the_staff_sign_in(client, world):
    r = client.get("/staff/activities/1/roster?x=1")
    assert r.status_code == 302
    assert r["Location"] == "/account/staff-sign-in?next=/staff/activities/1/roster%3Fx%3D1"
    client.force_login(make_account())
    r = client.get("/staff/")
    assert r.status_code == 302 and r["Location"].startswith("/account/staff-sign-in?next=")


def test_other_centers_activities_answer_404_like_missing_ones(client, world):
    theirs = make_activity(world["b"], allocation="lottery")
    reg = signed_up(theirs, 1)[0]
    client.force_login(world["staff_a"])
    missing = Activity.objects.order_by("-pk").first().pk + 1000
    for pk in (theirs.pk, missing):
        for suffix in ("", "/edit", "/roster", "/roster.csv", "/roster.xlsx", "/checkin", "/draw"):
            assert client.get(f"/staff/activities/{pk}{suffix}").status_code == 404, suffix
        assert client.get(f"/staff/activities/{pk}/checkin/counts").status_code == 404
        for suffix, data in (
            ("/publish", {}),
            ("/cancel", {"reason": "x"}),
            ("/walk-ins", {"count": "1"}),
            ("/draw", {}),
            ("/edit", activity_post()),
            (f"/registrations/{reg.pk}/cancel", {"reason": "x"}),
        ):
            assert client.post(f"/staff/activities/{pk}{suffix}", data).status_code == 404, suffix
    assert client.get(f"/staff/activities/new?center={world['b'].pk}").status_code == 404
    assert (
        client.post(f"/staff/activities/new?center={world['b'].pk}", activity_post()).status_code
        == 404
    )
    theirs.refresh_from_db()
    reg.refresh_from_db()
    assert theirs.status == "published" and theirs.walk_ins == 0 and reg.status == "applied"
    # Nor can a registration of theirs be cancelled through one of our activities.
    ours = make_activity(world["a"])
    r = client.post(f"/staff/activities/{ours.pk}/registrations/{reg.pk}/cancel", {"reason": "x"})
    assert r.status_code == 404


def test_district_staff_manage_every_center_in_their_district(client, world):
    district = make_staff(scope="district", region=world["a"].district)
    at_a, at_c, at_b = (make_activity(world[k], title=f"活动{k}") for k in "acb")
    client.force_login(district)
    page = client.get("/staff/").content.decode()
    assert world["a"].name in page and world["c"].name in page
    assert world["b"].name not in page and "活动b" not in page
    assert client.get(f"/staff/activities/{at_a.pk}").status_code == 200
    assert client.get(f"/staff/activities/{at_c.pk}/roster").status_code == 200
    assert client.get(f"/staff/activities/{at_b.pk}").status_code == 404


def test_dashboard_lists_coming_activities_with_counts(en, world, django_assert_max_num_queries):
    now = timezone.now()
    later = make_activity(
        world["a"], title="下周讲座", capacity=1, starts_at=now + timedelta(days=7)
    )
    signed_up(later, 3)
    make_activity(world["a"], title="草稿活动", publish=False)
    make_activity(
        world["a"],
        title="上周活动",
        starts_at=now - timedelta(days=7),
        registration_opens_at=now - timedelta(days=9),
    )
    for i in range(5):
        make_activity(world["c"], title=f"仙霞{i}")
    en.force_login(make_staff(scope="district", region=world["a"].district))
    with django_assert_max_num_queries(8):
        r = en.get("/staff/")
    page = r.content.decode()
    assert r.status_code == 200
    assert "下周讲座" in page and "草稿活动" in page and "上周活动" not in page
    assert "1 / 1" in page  # places taken / capacity
    row = page[page.index("下周讲座") :].split("</tr>")[0]
    assert ">2<" in row  # two on the waiting list
    assert "Full: waiting list open" in row
    assert "Draft" in page[page.index("草稿活动") :].split("</tr>")[0]


# Creating and editing --------------------------------------------------------------------


def test_create_shows_every_problem_and_saves_nothing(en, world):
    en.force_login(world["staff_a"])
    url = f"/staff/activities/new?center={world['a'].pk}"
    assert en.get(url).status_code == 200
    now = timezone.now()
    starts = now + timedelta(days=5)
    r = en.post(
        url,
        activity_post(
            starts_at=fmt(starts),
            ends_at=fmt(starts - timedelta(hours=1)),
            registration_closes_at=fmt(starts + timedelta(hours=1)),
            local_share_percent="30",
        ),
    )
    assert r.status_code == 400
    page = r.content.decode()
    assert "The end must be after the start." in page
    assert "Registration must close before the activity starts." in page
    assert "Reserved shares apply only when places are drawn by lot." in page
    r = en.post(url, activity_post(capacity="0", first_timer_share_percent="150"))
    assert r.status_code == 400
    page = r.content.decode()
    assert "Ensure this value is greater than or equal to 1." in page
    assert "Ensure this value is less than or equal to 100." in page
    r = en.post(url, activity_post(capacity="10001"))
    assert r.status_code == 400 and "less than or equal to 10000" in r.content.decode()
    assert not Activity.objects.exists()


def test_create_draft_then_publish_and_lottery_gets_a_commitment(en, world):
    en.force_login(world["staff_a"])
    url = f"/staff/activities/new?center={world['a'].pk}"
    r = en.post(url, activity_post(title="周末剪纸"))
    assert r.status_code == 302
    draft = Activity.objects.get(title="周末剪纸")
    assert draft.status == "draft" and draft.center == world["a"] and draft.capacity == 20
    assert r["Location"] == f"/staff/activities/{draft.pk}"
    assert en.post(f"/staff/activities/{draft.pk}/publish").status_code == 302
    draft.refresh_from_db()
    assert draft.status == "published"

    r = en.post(
        url,
        activity_post(
            title="暑托班抽签", allocation="lottery", local_share_percent="50", publish="1"
        ),
    )
    assert r.status_code == 302
    lottery = Activity.objects.get(title="暑托班抽签")
    assert lottery.status == "published" and len(lottery.lottery_commitment) == 64
    assert lottery.local_share_percent == 50


def test_edit_guards_places_and_allocation_and_gives_new_places_to_those_waiting(en, world):
    activity = make_activity(world["a"], capacity=2, audience="everyone")
    regs = signed_up(activity, 4)
    assert [r.status for r in regs] == ["confirmed", "confirmed", "waitlisted", "waitlisted"]
    en.force_login(world["staff_a"])
    url = f"/staff/activities/{activity.pk}/edit"
    page = en.get(url).content.decode()
    assert 'value="象棋课"' in page
    fields = {
        "title": activity.title,
        "category": activity.category,
        "audience": activity.audience,
        "starts_at": fmt(activity.starts_at),
        "ends_at": fmt(activity.ends_at),
        "registration_opens_at": fmt(activity.registration_opens_at),
        "registration_closes_at": fmt(activity.registration_closes_at),
    }
    r = en.post(url, activity_post(**fields, capacity="1"))
    assert r.status_code == 400
    assert "2 places are already taken; places cannot go below that." in r.content.decode()
    r = en.post(url, activity_post(**fields, allocation="lottery"))
    assert r.status_code == 400
    assert "how places are given cannot change" in r.content.decode()
    activity.refresh_from_db()
    assert activity.capacity == 2 and activity.allocation == "first_come"

    r = en.post(url, activity_post(**{**fields, "capacity": "3", "title": "象棋课（加开）"}))
    assert r.status_code == 302
    activity.refresh_from_db()
    assert activity.capacity == 3 and activity.taken == 3 and activity.title == "象棋课（加开）"
    statuses = list(
        Registration.objects.filter(pk__in=[r.pk for r in regs])
        .order_by("id")
        .values_list("status", flat=True)
    )
    assert statuses == ["confirmed", "confirmed", "confirmed", "waitlisted"]


def test_cancel_needs_a_reason_and_cancels_every_registration(en, world):
    activity = make_activity(world["a"], capacity=2, audience="everyone")
    regs = signed_up(activity, 3)
    en.force_login(world["staff_a"])
    url = f"/staff/activities/{activity.pk}/cancel"
    r = en.post(url, {"reason": "   "})
    assert r.status_code == 400 and "Give a reason: residents will see it." in r.content.decode()
    activity.refresh_from_db()
    assert activity.status == "published"

    r = en.post(url, {"reason": "场地维修"})
    assert r.status_code == 302
    activity.refresh_from_db()
    assert activity.status == "cancelled" and activity.cancel_reason == "场地维修"
    assert activity.taken == 0
    for reg in regs:
        reg.refresh_from_db()
        assert reg.status == "cancelled" and reg.cancel_reason == "场地维修" and reg.cancelled_at
    # Cancelled is final: no editing, no cancelling twice.
    assert en.get(f"/staff/activities/{activity.pk}/edit").status_code == 302
    assert en.post(url, {"reason": "again"}).status_code == 400


# Weekly series ---------------------------------------------------------------------------


def test_series_generation_is_idempotent(en, world):
    en.force_login(world["staff_a"])
    first = timezone.localdate() + timedelta(days=3)
    data = {
        "center": world["a"].pk,
        "title": "周三书法",
        "category": "painting",
        "audience": "elderly",
        "room": "活动室",
        "capacity": "15",
        "allocation": "first_come",
        "places_per_household": "1",
        "waitlist_enabled": "on",
        "local_share_percent": "0",
        "first_timer_share_percent": "0",
        "weekday": "2",
        "start_time": "14:00",
        "duration_minutes": "90",
        "first_date": first.isoformat(),
        "last_date": (first + timedelta(days=27)).isoformat(),
        "opens_days_before": "7",
        "opens_at": "09:00",
        "closes_hours_before": "2",
        "cancel_hours_before": "24",
        "publish": "on",
    }
    assert en.get(f"/staff/series/new?center={world['a'].pk}").status_code == 200
    r = en.post("/staff/series/new", data)
    assert r.status_code == 302, r.content.decode()
    sessions = list(Activity.objects.filter(title="周三书法").order_by("starts_at"))
    assert len(sessions) == 4
    assert Series.objects.count() == 1
    for s in sessions:
        day = timezone.localtime(s.starts_at).date()
        assert day.weekday() == 2 and first <= day <= first + timedelta(days=27)
        assert s.starts_at == local(day, time(14, 0))
        assert s.ends_at == s.starts_at + timedelta(minutes=90)
        assert s.registration_opens_at == local(day - timedelta(days=7), time(9, 0))
        assert s.registration_closes_at == s.starts_at - timedelta(hours=2)
        assert s.cancel_deadline == s.starts_at - timedelta(hours=24)
        assert s.status == "published" and s.capacity == 15 and s.series_id is not None

    assert en.post("/staff/series/new", data).status_code == 302
    assert Activity.objects.filter(title="周三书法").count() == 4
    data["last_date"] = (first + timedelta(days=34)).isoformat()
    assert en.post("/staff/series/new", data).status_code == 302
    assert Activity.objects.filter(title="周三书法").count() == 5
    assert Series.objects.count() == 1

    bad = {**data, "closes_hours_before": "400", "center": world["b"].pk}
    r = en.post("/staff/series/new", bad)
    assert r.status_code == 400
    assert Activity.objects.filter(title="周三书法").count() == 5


def test_series_window_problems_show_on_the_form(en, world):
    en.force_login(world["staff_a"])
    first = timezone.localdate() + timedelta(days=3)
    r = en.post(
        "/staff/series/new",
        {
            "center": world["a"].pk,
            "title": "瑜伽",
            "category": "fitness",
            "audience": "everyone",
            "capacity": "10",
            "allocation": "first_come",
            "places_per_household": "1",
            "local_share_percent": "0",
            "first_timer_share_percent": "0",
            "weekday": "4",
            "start_time": "10:00",
            "duration_minutes": "60",
            "first_date": first.isoformat(),
            "last_date": (first + timedelta(days=14)).isoformat(),
            "opens_days_before": "0",
            "opens_at": "09:00",
            "closes_hours_before": "2",
        },
    )
    assert r.status_code == 400
    assert "Registration must close after it opens." in r.content.decode()
    assert not Activity.objects.exists()


# Roster and exports ----------------------------------------------------------------------


@pytest.fixture
def roster(world):
    activity = make_activity(world["a"], capacity=1, audience="everyone")
    known = User.objects.create(phone="+8613812340001", display_name="张阿姨")
    Person.objects.create(account=known, name="张阿姨", is_account_holder=True, birth_year=1950)
    register(account=known, activity_id=activity.pk, person_ids=people(known))
    sly = make_account(name="=HYPERLINK(1)")
    register(account=sly, activity_id=activity.pk, person_ids=people(sly))
    return {"activity": activity, "known": known, "sly": sly}


def test_roster_page_masks_phones_and_shows_the_waiting_line(client, world, roster):
    client.force_login(world["staff_a"])
    r = client.get(f"/staff/activities/{roster['activity'].pk}/roster")
    page = r.content.decode()
    assert r.status_code == 200
    assert "张阿姨" in page and "138****0001" in page and "13812340001" not in page
    assert mask_phone(roster["sly"].phone) in page and roster["sly"].phone[3:] not in page


def test_roster_shows_who_brings_each_child_their_age_and_arrivals_live(en, world):
    activity = make_activity(
        world["a"], audience="children_with_parent", age_min=5, age_max=10, title="亲子象棋"
    )
    year = timezone.localtime(activity.starts_at).year
    parent = make_account(name="王芳", children=(("多多", year - 7),))
    register(account=parent, activity_id=activity.pk, person_ids=people(parent))
    Registration.objects.filter(person__name="多多").update(checked_in_at=activity.starts_at)
    en.force_login(world["staff_a"])
    page = en.get(f"/staff/activities/{activity.pk}/roster").content.decode()
    assert "Comes with" in page and "Age" in page
    row = page.split('<th scope="row">多多</th>')[1].split("</tr>")[0]
    assert "王芳" in row and ">7<" in row and "Here" in row
    assert 'hx-trigger="every 15s"' in page  # the check-in state refreshes itself
    plain = make_activity(world["a"], audience="everyone")
    page = en.get(f"/staff/activities/{plain.pk}/roster").content.decode()
    assert "Comes with" not in page and ">Age<" not in page


def test_csv_export_has_bom_header_and_masked_phones(en, world, roster):
    en.force_login(world["staff_a"])
    r = en.get(f"/staff/activities/{roster['activity'].pk}/roster.csv")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    assert "attachment" in r["Content-Disposition"]
    raw = r.content
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:4] == ["No.", "Name", "Mobile number", "Status"]
    assert rows[1][1:5] == ["张阿姨", "138****0001", "Confirmed", ""]
    assert rows[2][1] == "'=HYPERLINK(1)" and rows[2][4] == "1"
    text = raw.decode("utf-8-sig")
    for account in (roster["known"], roster["sly"]):
        assert account.phone not in text and account.phone[3:] not in text


def test_xlsx_export_masks_phones_everywhere(en, world, roster):
    en.force_login(world["staff_a"])
    r = en.get(f"/staff/activities/{roster['activity'].pk}/roster.xlsx")
    assert r.status_code == 200
    assert r["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(r.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][:3] == ["No.", "Name", "Mobile number"]
    assert values[1][1:3] == ["张阿姨", "138****0001"]
    # A name that looks like a formula stays text.
    assert sheet.cell(row=3, column=2).data_type == "s"
    assert values[2][1] == "=HYPERLINK(1)"
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        blob = b"".join(z.read(name) for name in z.namelist())
    for account in (roster["known"], roster["sly"]):
        assert account.phone[3:].encode() not in blob


def test_staff_cancel_a_registration_with_a_reason(en, world, roster):
    activity = roster["activity"]
    first = Registration.objects.get(account=roster["known"])
    en.force_login(world["staff_a"])
    url = f"/staff/activities/{activity.pk}/registrations/{first.pk}/cancel"
    r = en.post(url, {"reason": ""})
    assert r.status_code == 400 and "Staff must give a reason." in r.content.decode()
    assert en.post(url, {"reason": "本人电话告知不来"}).status_code == 302
    first.refresh_from_db()
    assert first.status == "cancelled" and first.cancel_reason == "本人电话告知不来"
    # The place passed to the next in line.
    assert Registration.objects.get(account=roster["sly"]).status == "confirmed"


# Door check-in ---------------------------------------------------------------------------


@pytest.fixture
def door(world):
    """An activity starting now (so its tickets are for today), with one confirmed place."""
    now = timezone.now()
    activity = make_activity(
        world["a"],
        audience="everyone",
        capacity=3,
        starts_at=now,
        registration_opens_at=now - timedelta(hours=3),
        registration_closes_at=now - timedelta(hours=1),
    )
    reg = signed_up(activity, 1, now=now - timedelta(hours=2))[0]
    return {"activity": activity, "reg": reg, "token": tickets.token_for(reg)}


def test_checkin_page_welcomes_then_says_already(en, world, door):
    en.force_login(world["staff_a"])
    url = f"/staff/activities/{door['activity'].pk}/checkin"
    page = en.get(url).content.decode()
    assert 'name="nonce"' in page and 'id="camera-start" hidden' in page
    assert "doorstep/checkin.js" in page

    r = en.post(url, {"token": door["token"], "nonce": "scan-0001"})
    page = r.content.decode()
    assert r.status_code == 200 and "result-welcome" in page and "居民0" in page
    door["reg"].refresh_from_db()
    arrived = door["reg"].checked_in_at
    assert arrived is not None
    # The same submission again (a reload) gets the same answer and records nothing new.
    again = en.post(url, {"token": door["token"], "nonce": "scan-0001"}).content.decode()
    assert "result-welcome" in again and CheckIn.objects.filter(nonce="scan-0001").count() == 1
    # A new scan of the same ticket says when they came, as a fragment for checkin.js.
    r = en.post(url, {"token": door["token"], "nonce": "scan-0002"}, HTTP_HX_REQUEST="true")
    fragment = r.content.decode()
    assert "<html" not in fragment and "result-already_checked_in" in fragment
    assert f"Checked in at {timezone.localtime(arrived):%H:%M}." in fragment
    assert 'data-count="checked_in">1<' in fragment
    assert (
        "result-invalid_ticket" in en.post(url, {"token": "nope", "nonce": "n3"}).content.decode()
    )


def test_checkin_refuses_a_ticket_for_another_activity(en, world, door):
    other = make_activity(world["a"], title="别的活动")
    en.force_login(world["staff_a"])
    r = en.post(
        f"/staff/activities/{other.pk}/checkin", {"token": door["token"], "nonce": "scan-x"}
    )
    assert "result-other_activity" in r.content.decode()
    door["reg"].refresh_from_db()
    assert door["reg"].checked_in_at is None and not CheckIn.objects.exists()


def test_walk_ins_fill_empty_places_only(en, world, door):
    en.force_login(world["staff_a"])
    activity = door["activity"]
    url = f"/staff/activities/{activity.pk}/walk-ins"
    r = en.post(url, {"count": "2"}, follow=True)
    assert "2 walk-ins have been given a place." in r.content.decode()
    activity.refresh_from_db()
    assert activity.walk_ins == 2 and activity.taken == 3
    r = en.post(url, {"count": "1"}, follow=True)
    page = r.content.decode()
    assert "There are not that many empty places." in page
    assert "Every place is taken: no more walk-ins." in page
    activity.refresh_from_db()
    assert activity.walk_ins == 2
    counts = en.get(f"/staff/activities/{activity.pk}/checkin/counts").json()
    assert counts["walk_ins"] == 2 and counts["confirmed"] == 1 and counts["empty"] == 0


# Lottery draw ----------------------------------------------------------------------------


def test_draw_report_before_and_after_the_draw(en, world):
    now = timezone.now()
    activity = make_activity(
        world["a"],
        allocation="lottery",
        audience="everyone",
        capacity=2,
        registration_opens_at=now - timedelta(hours=3),
        registration_closes_at=now + timedelta(hours=1),
    )
    regs = signed_up(activity, 3, now=now - timedelta(hours=2))
    en.force_login(world["staff_a"])
    url = f"/staff/activities/{activity.pk}/draw"
    page = en.get(url).content.decode()
    assert activity.lottery_commitment in page and activity.lottery_seed not in page
    assert "data-entries>3<" in page
    assert "Run the draw now</button>" in page and " disabled " in page
    en.post(url)
    activity.refresh_from_db()
    assert activity.drawn_at is None

    Activity.objects.filter(pk=activity.pk).update(
        registration_closes_at=now - timedelta(minutes=1)
    )
    page = en.get(url).content.decode()
    assert " disabled " not in page.split("Run the draw now")[0].rsplit("<button", 1)[1]
    assert en.post(url).status_code == 302
    activity.refresh_from_db()
    assert activity.drawn_at is not None
    page = en.get(url).content.decode()
    assert activity.lottery_seed in page
    chosen = page.split("Chosen")[1].split("Waiting list, in order")[0]
    waiting = page.split("Waiting list, in order")[1]
    for reg in regs:
        reg.refresh_from_db()
        where = chosen if reg.status == "confirmed" else waiting
        assert reg.party in where and reg.person.name in where
    assert chosen.count("<li>") == 2 and waiting.count("<li>") == 1
    # A first-come activity has no draw page.
    assert en.get(f"/staff/activities/{make_activity(world['a']).pk}/draw").status_code == 404


# Admin -----------------------------------------------------------------------------------


def test_admin_lists_activities_registrations_and_check_ins(client, world, roster):
    admin = User.objects.create_superuser(username="root", password="x" * 12)
    client.force_login(admin)
    for model in ("activity", "series", "registration", "noshowpolicy", "checkin"):
        assert client.get(f"/admin/activities/{model}/").status_code == 200, model
    page = client.get("/admin/activities/registration/").content.decode()
    assert "138****0001" in page and "13812340001" not in page
    reg = Registration.objects.get(account=roster["known"])
    assert client.get(f"/admin/activities/registration/{reg.pk}/change/").status_code == 200
    activity_page = client.get(
        f"/admin/activities/activity/{roster['activity'].pk}/change/"
    ).content.decode()
    assert roster["activity"].title in activity_page


# The door phone, in a real browser -------------------------------------------------------


@pytest.fixture
def chromium_page(browser):
    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    # A fake camera, so the scanning path can run headless.
    fake_camera = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
    camera = browser.browser_type.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + fake_camera)
    context = camera.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    camera.close()
    assert errors == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_door_phone_signs_in_and_checks_tickets_in_without_reloading(
    live_server, chromium_page, world, door
):
    from tests.browser.conftest import assert_accessible

    page = chromium_page
    staff = world["staff_a"]
    staff.set_password("door-phone-2024")
    staff.save()
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    url = f"{live_server.url}/staff/activities/{door['activity'].pk}/checkin"
    page.goto(url)
    assert "/account/staff-sign-in?next=" in page.url
    page.get_by_label("Username").fill(staff.username)
    page.get_by_label("Password").fill("door-phone-2024")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(url)
    # Headless Chromium on Linux has no BarcodeDetector; the page's own ZXing reader stands
    # in, so the camera button shows wherever the browser can film.
    assert not page.evaluate("'BarcodeDetector' in window")
    assert page.locator("#camera-start").is_visible()
    assert_accessible(page)

    panel = page.locator("#checkin-result")
    code = page.get_by_label("Ticket code")
    code.fill(door["token"])
    code.press("Enter")
    page.wait_for_selector("#checkin-result.result-welcome")
    assert "Welcome!" in panel.inner_text() and "居民0" in panel.inner_text()
    assert page.locator('[data-count="checked_in"]').inner_text() == "1"
    code.fill(door["token"])
    page.get_by_role("button", name="Check in").click()
    page.wait_for_selector("#checkin-result.result-already_checked_in")
    assert page.url == url
    nonces = set(CheckIn.objects.values_list("nonce", flat=True))
    assert len(nonces) == 2
    assert_accessible(page)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_camera_scan_where_the_browser_reads_qr_codes(
    live_server, chromium_page, client, world, door
):
    page = chromium_page
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    # Stand in for BarcodeDetector (Chromium has it on Android and macOS, not on Linux): it
    # "sees" the ticket in every frame, as a phone held up to a QR code would.
    page.add_init_script(
        """
        window.BarcodeDetector = class {
          static getSupportedFormats() { return Promise.resolve(["qr_code"]); }
          constructor(options) { this.formats = options.formats; }
          detect() { return Promise.resolve([{ rawValue: TOKEN }]); }
        };
        """.replace("TOKEN", json.dumps(door["token"]))
    )
    client.force_login(world["staff_a"])
    session = client.cookies["sessionid"].value
    page.context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    page.goto(f"{live_server.url}/staff/activities/{door['activity'].pk}/checkin")
    page.get_by_role("button", name="Scan with the camera").click()
    page.wait_for_selector("#checkin-result.result-welcome")
    assert page.locator("#camera").is_visible()
    # The same code in front of the camera for a while is one scan, not one per frame.
    page.wait_for_timeout(1500)
    assert CheckIn.objects.count() == 1
    page.get_by_role("button", name="Stop the camera").click()
    assert page.locator("#camera").is_hidden()


def test_a_resident_opening_the_back_office_sees_the_staff_sign_in(client, regions):
    from tests.factories import make_account

    client.force_login(make_account())
    r = client.get("/staff/", follow=True)
    assert r.status_code == 200
    assert len(r.redirect_chain) == 1
    assert "/account/staff-sign-in" in r.redirect_chain[0][0]
