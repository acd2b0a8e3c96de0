"""The article's canteens (facts with the article as their source) and a synthetic week of
menus and subsidy bands around them, labelled synthetic (`doorstep load-demo`).

From the article: 徐家汇街道's community canteen 食尚书斋 on the center's ground floor (a queue at
11:00); 万有引力's community canteen and its 10-yuan set "一荤两素一汤" for riders; the elderly
meal point on the third floor of 虹桥街道's center (古北), whose meals are bought centrally and
delivered by a caterer, with 1-yuan tea and a 5-yuan cake. Everything else here (the menus,
the other prices, the portions, the subsidy bands, the delivery estates) is made up.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from doorstep.centers.models import Center

from .models import Canteen, Dish, Menu, MenuItem, Service, Source, SubsidyBand

ARTICLE = "《党群服务中心：走得进 坐得下 还想来》"

CANTEENS = [
    {
        "key": "article:canteen:xujiahui",
        "center": "article:xujiahui-subdistrict",
        "name": "食尚书斋",
        "name_en": "Shishang Shuzhai community canteen",
        "kind": Canteen.Kind.KITCHEN,
        "detail": f"{ARTICLE}：徐家汇街道社区食堂在党群服务中心一楼，名为食尚书斋",
        "delivers": True,
        "estates": ["汇站小区（示例）", "南丹小区（示例）"],
        "dishes": [("红烧肉套餐", True, ["soft"], 1500), ("清蒸鱼套餐", True, ["low_salt"], 1600)],
    },
    {
        "key": "article:canteen:wanyouyinli",
        "center": "article:wanyouyinli",
        "name": "万有引力社区食堂",
        "name_en": "Wanyouyinli community canteen",
        "kind": Canteen.Kind.KITCHEN,
        "detail": f"{ARTICLE}：社区食堂为骑手推出 10 元套餐，一荤两素一汤",
        "delivers": False,
        "estates": [],
        # The article's riders' set: 10 yuan for one meat, two vegetables and a soup.
        "dishes": [("一荤两素一汤", True, [], 1500, 1000)],
    },
    {
        "key": "article:canteen:gubei",
        "center": "article:gubei-civic-center",
        "name": "虹桥街道老年助餐点",
        "name_en": "Hongqiao elderly meal point",
        "kind": Canteen.Kind.MEAL_POINT,
        "caterer": "送餐公司（示例）",
        "detail": f"{ARTICLE}：中心三楼的老年助餐点，统一采购，由送餐公司集中配送；"
        "1 元一杯红茶，5 元一份小蛋糕",
        "delivers": True,
        "estates": ["古北一小区（示例）", "古北二小区（示例）"],
        "dishes": [
            ("两荤一素套餐", True, ["soft", "low_sugar"], 1800),
            ("红茶", False, [], 100),
            ("小蛋糕", False, [], 500),
        ],
    },
]

# Synthetic bands (the real amounts vary by district and year): 60–69, 70–79, 80+.
BANDS = [(60, 69, 0), (70, 79, 300), (80, None, 500)]


@transaction.atomic
def load_demo_meals(days: int = 7) -> dict[str, int]:
    made = {"canteens": 0, "menus": 0, "subsidy bands": 0}
    today = timezone.localdate()
    for spec in CANTEENS:
        center = Center.objects.filter(external_key=spec["center"]).first()
        if center is None:
            continue
        canteen, created = Canteen.objects.update_or_create(
            external_key=spec["key"],
            defaults={
                "center": center,
                "name": spec["name"],
                "name_en": spec["name_en"],
                "kind": spec["kind"],
                "caterer": spec.get("caterer", ""),
                "delivers": spec["delivers"],
                "delivery_fee_fen": 300 if spec["delivers"] else 0,
                "delivery_min_orders": 3,
                "delivery_estates": spec["estates"],
                "source": Source.ARTICLE,
                "source_detail": spec["detail"],
            },
        )
        made["canteens"] += created
        if (
            center.district_id
            and not SubsidyBand.objects.filter(
                district_id=center.district_id, source=Source.SYNTHETIC
            ).exists()
        ):
            for age_min, age_max, fen in BANDS:
                SubsidyBand.objects.create(
                    district_id=center.district_id,
                    age_min=age_min,
                    age_max=age_max,
                    amount_fen=fen,
                    effective_from=date(today.year, 1, 1),
                    source=Source.SYNTHETIC,
                    source_detail="示例补贴档（合成数据）",
                )
                made["subsidy bands"] += 1
        for offset in range(days):
            day = today + timedelta(days=offset)
            made["menus"] += _menu(canteen, day, Service.LUNCH, 11, spec["dishes"])
    return made


def _menu(canteen: Canteen, day: date, service: str, hour: int, dishes: list) -> int:
    serves = timezone.make_aware(datetime.combine(day, time(hour, 0)))
    menu, created = Menu.objects.get_or_create(
        canteen=canteen,
        day=day,
        service=service,
        defaults={
            "serves_at": serves,
            "cut_off_at": serves - timedelta(minutes=canteen.cut_off_minutes),
            "published": True,
            "synthetic": True,
        },
    )
    if not created:
        return 0
    for spec in dishes:
        name, is_set, tags, price = spec[:4]
        dish, _new = Dish.objects.get_or_create(
            canteen=canteen, name=name, defaults={"is_set": is_set, "tags": tags, "synthetic": True}
        )
        MenuItem.objects.create(
            menu=menu,
            dish=dish,
            price_fen=price,
            rider_price_fen=spec[4] if len(spec) > 4 else None,
            portions=60 if is_set else None,
        )
    return 1
