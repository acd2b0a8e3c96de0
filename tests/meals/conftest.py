from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from doorstep.centers.models import Region
from doorstep.meals.models import Canteen, Dish, Menu, MenuItem, SubsidyBand
from tests.factories import make_center


def local(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute, second)))


@pytest.fixture
def kitchen(regions):
    return make_kitchen()


def make_kitchen():
    """徐家汇's canteen with tomorrow's lunch (served 11:00, orders close 09:30): a limited
    set meal and an unlimited soup; the district's subsidy bands (synthetic)."""
    center = make_center("徐家汇街道社区党群服务中心", district="徐汇区")
    canteen = Canteen.objects.create(
        center=center,
        name="食尚书斋",
        source="synthetic",
        delivers=True,
        delivery_fee_fen=300,
        delivery_min_orders=3,
        delivery_estates=["汇站小区", "南丹小区"],
    )
    day = timezone.localdate() + timedelta(days=1)
    menu = Menu.objects.create(
        canteen=canteen,
        day=day,
        service="lunch",
        serves_at=local(day, 11),
        cut_off_at=local(day, 9, 30),
        published=True,
    )
    set_meal = Dish.objects.create(canteen=canteen, name="一荤两素一汤", is_set=True, tags=["soft"])
    soup = Dish.objects.create(canteen=canteen, name="番茄蛋汤")
    limited = MenuItem.objects.create(
        menu=menu,
        dish=set_meal,
        price_fen=1500,
        rider_price_fen=1000,
        staff_price_fen=1200,
        portions=3,
    )
    unlimited = MenuItem.objects.create(menu=menu, dish=soup, price_fen=300)
    xuhui = Region.objects.get(name="徐汇区")
    # Synthetic bands: 60-69 nothing off, 70-79 3 yuan, 80+ 4 yuan until mid-year, then 5.
    for age_min, age_max, fen, start, end in [
        (60, 69, 0, date(2025, 1, 1), None),
        (70, 79, 300, date(2025, 1, 1), None),
        (80, None, 400, date(2025, 1, 1), date(2026, 6, 30)),
        (80, None, 500, date(2026, 7, 1), None),
    ]:
        SubsidyBand.objects.create(
            district=xuhui,
            age_min=age_min,
            age_max=age_max,
            amount_fen=fen,
            effective_from=start,
            effective_to=end,
            source="synthetic",
        )
    return {
        "center": center,
        "canteen": canteen,
        "menu": menu,
        "day": day,
        "set": limited,
        "soup": unlimited,
        "before": local(day, 9, 0),
    }
