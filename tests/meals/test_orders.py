"""Meal orders (docs/meals.md): prices by group and district subsidy band with dates, the
cut-off at the minute, portions, idempotent retries, delivery areas and rounds."""

from datetime import date, timedelta

import pytest

from doorstep.accounts.models import Person
from doorstep.inbox.models import Notice
from doorstep.meals import services
from doorstep.meals.models import Menu, MenuItem, Order, SubsidyBand
from doorstep.meals.services import MealError, place_order
from tests.factories import make_account, make_center, make_staff

from .conftest import local

pytestmark = pytest.mark.django_db


def father_of(account, born=1946, name="王老伯"):
    return Person.objects.create(account=account, name=name, birth_year=born)


def order(kitchen, account, person, *, lines=None, now=None, **kw):
    return place_order(
        account=account,
        menu_id=kitchen["menu"].pk,
        person_id=person.pk,
        lines=[(kitchen["set"].pk, 1)] if lines is None else lines,
        now=now or kitchen["before"],
        **kw,
    )


def code_of(call):
    with pytest.raises(MealError) as caught:
        call()
    return caught.value.code


def test_prices_by_group(kitchen):
    daughter = make_account(name="王芳")
    me = daughter.people.get(is_account_holder=True)
    standard = order(kitchen, daughter, me, lines=[(kitchen["set"].pk, 1), (kitchen["soup"].pk, 2)])
    assert (standard.order.list_fen, standard.order.subsidy_fen, standard.order.due_fen) == (
        2100,
        0,
        2100,
    )
    rider = make_account(name="骑手小李")
    placed = order(kitchen, rider, rider.people.get(), group="rider").order
    assert (placed.list_fen, placed.due_fen) == (1000, 1000)
    # The riders' price is for the rider ordering for themselves.
    assert code_of(lambda: order(kitchen, daughter, father_of(daughter), group="rider")) == (
        "not_eligible"
    )
    staff = make_staff(center=kitchen["center"])
    staff_person = Person.objects.create(account=staff, name="张老师", is_account_holder=True)
    assert order(kitchen, staff, staff_person, group="staff").order.due_fen == 1200
    assert code_of(lambda: order(kitchen, rider, rider.people.get(), group="staff")) == (
        "not_eligible"
    )


def test_the_elderly_price_comes_from_the_districts_band_on_the_day_of_the_meal(kitchen):
    daughter = make_account(name="王芳")
    father = father_of(daughter, born=kitchen["day"].year - 80)  # 80 on the day of the meal
    placed = order(kitchen, daughter, father, group="elderly").order
    assert (placed.list_fen, placed.subsidy_fen, placed.due_fen) == (1500, 500, 1000)
    assert placed.placed_by is None and placed.person_id == father.pk

    # The same band table, a meal on a day when the earlier amount was in force.
    earlier = Menu.objects.create(
        canteen=kitchen["canteen"],
        day=date(2026, 3, 2),
        service="lunch",
        serves_at=local(date(2026, 3, 2), 11),
        cut_off_at=local(date(2026, 3, 2), 9, 30),
        published=True,
    )
    item = MenuItem.objects.create(menu=earlier, dish=kitchen["set"].dish, price_fen=1500)
    q = services.quote(
        account=daughter,
        menu_id=earlier.pk,
        person_id=father.pk,
        lines=[(item.pk, 1)],
        group="elderly",
        now=local(date(2026, 3, 2), 8),
    )
    assert q.subsidy_fen == 400  # 2026-03-02 fell under the band that ended on 2026-06-30

    seventy = father_of(daughter, born=kitchen["day"].year - 72, name="王阿婆")
    assert order(kitchen, daughter, seventy, group="elderly").order.subsidy_fen == 300
    young = father_of(daughter, born=kitchen["day"].year - 50, name="王叔")
    assert code_of(lambda: order(kitchen, daughter, young, group="elderly")) == "not_eligible"
    unknown = father_of(daughter, born=None, name="王伯伯")
    assert code_of(lambda: order(kitchen, daughter, unknown, group="elderly")) == "not_eligible"


def test_another_districts_band_does_not_apply(kitchen):
    SubsidyBand.objects.all().delete()
    daughter = make_account(name="王芳")
    father = father_of(daughter)
    assert code_of(lambda: order(kitchen, daughter, father, group="elderly")) == "not_eligible"


def test_the_subsidy_never_makes_a_meal_cost_less_than_nothing(kitchen):
    daughter = make_account(name="王芳")
    father = father_of(daughter, born=kitchen["day"].year - 85)
    q = services.quote(
        account=daughter,
        menu_id=kitchen["menu"].pk,
        person_id=father.pk,
        lines=[(kitchen["soup"].pk, 1)],  # 3 yuan of soup, 5 yuan of subsidy
        group="elderly",
        now=kitchen["before"],
    )
    assert (q.list_fen, q.subsidy_fen, q.due_fen) == (300, 300, 0)


def test_the_cut_off_is_at_the_minute(kitchen):
    day = kitchen["day"]
    a, b = make_account(name="甲"), make_account(name="乙")
    placed = order(kitchen, a, a.people.get(), now=local(day, 9, 29, 59)).order
    assert code_of(lambda: order(kitchen, b, b.people.get(), now=local(day, 9, 30))) == (
        "past_cut_off"
    )
    assert code_of(
        lambda: services.cancel_order(order_id=placed.pk, by=a, now=local(day, 9, 30))
    ) == ("past_cut_off")
    cancelled = services.cancel_order(order_id=placed.pk, by=a, now=local(day, 9, 29))
    assert cancelled.status == "cancelled"


def test_limited_portions_sell_out_and_come_back_when_cancelled(kitchen):
    people = [make_account(name=f"居民{i}") for i in range(4)]
    placed = [order(kitchen, a, a.people.get()).order for a in people[:3]]
    assert code_of(lambda: order(kitchen, people[3], people[3].people.get())) == "sold_out"
    kitchen["set"].refresh_from_db()
    assert kitchen["set"].taken == 3
    services.cancel_order(order_id=placed[0].pk, by=people[0], now=kitchen["before"])
    assert order(kitchen, people[3], people[3].people.get()).order.status == "placed"
    # All the dishes of an order or none: the soup is not kept when the set is gone.
    late = make_account(name="晚到")
    soup_before = MenuItem.objects.get(pk=kitchen["soup"].pk).taken
    assert (
        code_of(
            lambda: order(
                kitchen,
                late,
                late.people.get(),
                lines=[(kitchen["soup"].pk, 1), (kitchen["set"].pk, 1)],
            )
        )
        == "sold_out"
    )
    assert MenuItem.objects.get(pk=kitchen["soup"].pk).taken == soup_before
    assert not Order.objects.filter(account=late).exists()


def test_a_retry_with_the_same_key_is_one_order(kitchen):
    a = make_account(name="甲")
    first = order(kitchen, a, a.people.get(), idempotency_key="lunch-1")
    again = order(kitchen, a, a.people.get(), idempotency_key="lunch-1")
    assert again.replayed and again.order.pk == first.order.pk
    assert Order.objects.filter(account=a).count() == 1
    kitchen["set"].refresh_from_db()
    assert kitchen["set"].taken == 1
    other = Menu.objects.create(
        canteen=kitchen["canteen"],
        day=kitchen["day"],
        service="dinner",
        serves_at=local(kitchen["day"], 17),
        cut_off_at=local(kitchen["day"], 15),
        published=True,
    )
    item = MenuItem.objects.create(menu=other, dish=kitchen["set"].dish, price_fen=1500)
    with pytest.raises(MealError) as caught:
        place_order(
            account=a,
            menu_id=other.pk,
            person_id=a.people.get().pk,
            lines=[(item.pk, 1)],
            idempotency_key="lunch-1",
            now=kitchen["before"],
        )
    assert (caught.value.code, caught.value.status) == ("idempotency_key_reused", 409)


def test_one_meal_a_person_a_service_and_only_the_households_own(kitchen):
    a, b = make_account(name="甲"), make_account(name="乙")
    order(kitchen, a, a.people.get())
    assert code_of(lambda: order(kitchen, a, a.people.get())) == "already_ordered"
    assert code_of(lambda: order(kitchen, a, b.people.get())) == "not_in_household"
    assert code_of(lambda: order(kitchen, a, a.people.get(), lines=[(kitchen["set"].pk, 9)])) == (
        "invalid_quantity"
    )
    assert code_of(lambda: order(kitchen, a, a.people.get(), lines=[])) == "no_items"


def test_delivery_needs_an_address_inside_the_area_and_tells_how_the_round_stands(kitchen):
    daughter = make_account(name="王芳")
    father = father_of(daughter)
    assert code_of(lambda: order(kitchen, daughter, father, mode="delivery")) == "no_address"
    services.set_address(account=daughter, estate="徐汇新村", detail="5号楼301")
    assert code_of(lambda: order(kitchen, daughter, father, mode="delivery")) == (
        "outside_delivery_area"
    )
    services.set_address(account=daughter, estate="汇站小区", detail="5号楼301")
    result = order(kitchen, daughter, father, mode="delivery", group="elderly")
    assert result.order.due_fen == 1500 - 500 + 300
    assert (result.round.orders, result.round.minimum, result.round.confirmed) == (1, 3, False)
    assert result.order.estate == "汇站小区" and result.order.address == "5号楼301"


def test_at_the_cut_off_a_short_round_becomes_pickup_and_the_household_is_told(kitchen):
    day = kitchen["day"]
    kitchen["set"].portions = None
    kitchen["set"].save()
    households = []
    for i, estate in enumerate(["汇站小区"] * 3 + ["南丹小区"]):
        a = make_account(name=f"住户{i}")
        services.set_address(account=a, estate=estate, detail=f"{i}号楼")
        households.append(order(kitchen, a, a.people.get(), mode="delivery").order)
    assert services.close_rounds(now=local(day, 9, 31)) == 1
    assert services.close_rounds(now=local(day, 9, 32)) == 0  # once
    short = Order.objects.get(pk=households[3].pk)
    assert (short.mode, short.delivery_fee_fen, short.due_fen) == ("pickup", 0, 1500)
    assert Order.objects.filter(mode="delivery", estate="汇站小区").count() == 3
    told = Notice.objects.filter(user_id=short.account_id, kind="meal_to_pickup")
    assert told.count() == 1


def test_the_order_is_confirmed_in_the_households_language(kitchen):
    a = make_account(name="甲", language="en")
    placed = order(kitchen, a, a.people.get()).order
    notice = Notice.objects.get(user=a, kind="meal_placed")
    assert "Meal ordered" in notice.title and "15.00 yuan" in notice.body
    assert placed.due_fen == 1500
    b = make_account(name="乙")
    order(kitchen, b, b.people.get())
    assert "已订餐" in Notice.objects.get(user=b, kind="meal_placed").title


def test_staff_cancel_with_a_reason_only_at_their_center(kitchen):
    a = make_account(name="甲")
    placed = order(kitchen, a, a.people.get()).order
    elsewhere = make_staff(center=make_center("东明路街道社区党群服务中心", district="浦东新区"))
    assert (
        code_of(
            lambda: services.cancel_order(
                order_id=placed.pk,
                by=elsewhere,
                as_staff=True,
                reason="售罄",
                now=kitchen["before"],
            )
        )
        == "not_found"
    )
    staff = make_staff(center=kitchen["center"])
    assert (
        code_of(
            lambda: services.cancel_order(
                order_id=placed.pk, by=staff, as_staff=True, now=kitchen["before"]
            )
        )
        == "reason_required"
    )
    after = kitchen["menu"].cut_off_at + timedelta(minutes=10)
    done = services.cancel_order(
        order_id=placed.pk, by=staff, as_staff=True, reason="食材不足", now=after
    )
    assert done.status == "cancelled"
    told = Notice.objects.get(user=a, kind="meal_cancelled")
    assert "食材不足" in told.body


def test_the_worker_closes_short_rounds(kitchen):
    from unittest import mock

    from django.core.management import call_command

    a = make_account(name="独居老人")
    services.set_address(account=a, estate="南丹小区", detail="1号楼")
    placed = order(kitchen, a, a.people.get(), mode="delivery").order
    after = kitchen["menu"].cut_off_at + timedelta(minutes=1)
    with mock.patch("django.utils.timezone.now", return_value=after):
        call_command("worker", "--once")
    assert Order.objects.get(pk=placed.pk).mode == "pickup"


def test_served_orders_are_counted_once_in_the_ledger(kitchen):
    from doorstep.visits.models import ServiceRecord

    staff = make_staff(center=kitchen["center"])
    a, b = make_account(name="甲"), make_account(name="乙")
    services.set_address(account=b, estate="汇站小区", detail="7号楼")
    pickup = order(kitchen, a, a.people.get()).order
    delivery = order(kitchen, b, b.people.get(), mode="delivery").order
    at = local(kitchen["day"], 11, 40)

    def ledger():
        return sorted(
            ServiceRecord.objects.filter(center=kitchen["center"]).values_list("service", "count")
        )

    services.serve(order_id=pickup.pk, staff=staff, outcome="collected", paid_with="cash", now=at)
    services.serve(order_id=pickup.pk, staff=staff, outcome="collected", now=at)  # marked twice
    assert code_of(
        lambda: services.serve(order_id=pickup.pk, staff=staff, outcome="delivered", now=at)
    ) == ("not_delivery")
    services.serve(order_id=delivery.pk, staff=staff, outcome="not_home", now=at)
    assert ledger() == [("canteen_meal", 1)]
    assert Notice.objects.filter(user=b, kind="meal_not_home").count() == 1
    done = services.serve(order_id=delivery.pk, staff=staff, outcome="delivered", now=at)
    assert ledger() == [("canteen_meal", 1), ("meal_delivery", 1)]
    assert done.address == "" and done.estate == "汇站小区"  # the room is erased once delivered
    services.serve(order_id=delivery.pk, staff=staff, outcome="refused", now=at)
    assert ledger() == [("canteen_meal", 1)]
    paid = Order.objects.get(pk=pickup.pk)
    assert (paid.status, paid.paid_with, paid.served_by_id) == ("collected", "cash", staff.pk)
    elsewhere = make_staff(center=make_center("东明路街道社区党群服务中心", district="浦东新区"))
    assert code_of(
        lambda: services.serve(order_id=pickup.pk, staff=elsewhere, outcome="collected", now=at)
    ) == ("not_found")


def test_a_known_sold_out_dish_is_answered_without_reading_and_a_cancellation_clears_it(
    kitchen, django_assert_max_num_queries
):
    from doorstep.meals.services import orders

    orders._sold_out.clear()
    people = [make_account(name=f"居民{i}") for i in range(5)]
    placed = [
        order(kitchen, a, a.people.get(), idempotency_key=f"k{i}").order
        for i, a in enumerate(people[:3])
    ]
    assert code_of(lambda: order(kitchen, people[3], people[3].people.get())) == "sold_out"
    last, first = people[4].people.get(), people[0].people.get()
    with django_assert_max_num_queries(0):
        assert code_of(lambda: order(kitchen, people[4], last)) == "sold_out"
    # A retry of an order that was placed still gets its order back (one look-up).
    with django_assert_max_num_queries(1):
        again = order(kitchen, people[0], first, idempotency_key="k0")
    assert again.replayed and again.order.pk == placed[0].pk
    services.cancel_order(order_id=placed[0].pk, by=people[0], now=kitchen["before"])
    assert order(kitchen, people[4], people[4].people.get()).order.status == "placed"


def test_never_collected_meals_and_the_monthly_report(kitchen, client):
    import csv
    import io

    from doorstep.meals import selectors

    staff = make_staff(center=kitchen["center"])
    a, b, c = make_account(name="甲"), make_account(name="乙"), make_account(name="丙")
    father = father_of(c, born=kitchen["day"].year - 80)
    services.set_address(account=c, estate="汇站小区", detail="1号楼")
    kitchen["set"].portions = None
    kitchen["set"].save()
    collected = order(kitchen, a, a.people.get()).order
    never = order(kitchen, b, b.people.get()).order
    delivered = order(kitchen, c, father, group="elderly", mode="delivery").order
    holder = c.people.get(is_account_holder=True)
    cancelled = order(kitchen, c, holder).order  # cancelled: left out of the report
    services.cancel_order(order_id=cancelled.pk, by=c, now=kitchen["before"])
    lunch = local(kitchen["day"], 11, 30)
    services.serve(order_id=collected.pk, staff=staff, outcome="collected", now=lunch)
    services.serve(order_id=delivered.pk, staff=staff, outcome="delivered", now=lunch)
    assert services.mark_no_shows(now=local(kitchen["day"], 13, 59)) == 0  # not yet
    assert services.mark_no_shows(now=local(kitchen["day"], 14, 0)) == 1
    assert Order.objects.get(pk=never.pk).status == "no_show"

    first = kitchen["day"].replace(day=1)
    rows = selectors.monthly_report(staff, first, kitchen["day"])
    (total,) = selectors.report_totals(rows)
    assert (total["orders"], total["elderly"], total["served"], total["no_show"]) == (3, 1, 2, 1)
    assert (total["pickup"], total["delivery"], total["subsidy_fen"]) == (2, 1, 500)
    assert total["due_fen"] == 1500 + 1500 + (1500 - 500 + 300)
    assert total["elderly_pct"] == 33

    client.force_login(staff)
    month = kitchen["day"].strftime("%Y-%m")
    page = client.get("/staff/meals/report", {"month": month}).content.decode()
    assert "食尚书斋" in page and "33%" in page and "5.00" in page and "全部食堂" in page
    exported = client.get("/staff/meals/report", {"month": month, "format": "csv"})
    lines = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert lines[0][:3] == ["canteen", "day", "orders"]
    assert lines[1][:3] == ["食尚书斋", kitchen["day"].isoformat(), "3"]
    # Someone else's centers: nothing.
    elsewhere = make_staff(center=make_center("东明路街道社区党群服务中心", district="浦东新区"))
    assert selectors.monthly_report(elsewhere, first, kitchen["day"]) == []


def test_a_change_until_the_cut_off_swaps_the_portions_or_leaves_the_order_as_it_was(kitchen):
    daughter = make_account(name="王芳")
    father = father_of(daughter)
    placed = order(kitchen, daughter, father, lines=[(kitchen["soup"].pk, 1)]).order
    others = [make_account(name=f"居民{i}") for i in range(2)]
    for a in others:
        order(kitchen, a, a.people.get())
    changed = services.change_order(
        order_id=placed.pk,
        by=daughter,
        lines=[(kitchen["set"].pk, 1)],
        group="elderly",
        now=kitchen["before"],
    ).order
    assert (changed.pk, changed.list_fen, changed.subsidy_fen, changed.due_fen) == (
        placed.pk,
        1500,
        500,
        1000,
    )
    assert MenuItem.objects.get(pk=kitchen["soup"].pk).taken == 0
    assert MenuItem.objects.get(pk=kitchen["set"].pk).taken == 3
    # The set is gone now: a change of another order to it leaves that order as it was.
    other = Order.objects.get(account=others[0])
    assert (
        code_of(
            lambda: services.change_order(
                order_id=other.pk,
                by=others[0],
                lines=[(kitchen["set"].pk, 2)],
                now=kitchen["before"],
            )
        )
        == "sold_out"
    )
    assert [
        (line.item_id, line.quantity) for line in Order.objects.get(pk=other.pk).lines.all()
    ] == [(kitchen["set"].pk, 1)]
    assert MenuItem.objects.get(pk=kitchen["set"].pk).taken == 3
    after = kitchen["menu"].cut_off_at
    assert (
        code_of(
            lambda: services.change_order(
                order_id=placed.pk, by=daughter, lines=[(kitchen["soup"].pk, 1)], now=after
            )
        )
        == "past_cut_off"
    )
    assert (
        code_of(
            lambda: services.change_order(
                order_id=placed.pk,
                by=others[1],
                lines=[(kitchen["soup"].pk, 1)],
                now=kitchen["before"],
            )
        )
        == "not_found"
    )


def test_too_few_left_for_two_is_not_sold_out_for_one(kitchen):
    from doorstep.meals.services import orders

    orders._sold_out.clear()
    a, b, c = (make_account(name=n) for n in ("甲", "乙", "丙"))
    order(kitchen, a, a.people.get(), lines=[(kitchen["set"].pk, 2)])  # one portion left
    assert code_of(lambda: order(kitchen, b, b.people.get(), lines=[(kitchen["set"].pk, 2)])) == (
        "sold_out"
    )
    assert order(kitchen, c, c.people.get()).order.status == "placed"  # the last one
