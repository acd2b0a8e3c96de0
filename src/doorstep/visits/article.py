"""The article's seven themed "一起打卡" lists, as routes (source "article").

Each of the feature's seven "codes" (密码) features one center and then lists more to visit
together. centers/data/article_centers.json records, for every center, which code it belongs
to and whether it is the featured one (its `source_detail`); the route keeps the article's
order with the featured center first.
"""

from __future__ import annotations

import re

from django.db import transaction

from doorstep.centers.article import article_entries
from doorstep.centers.models import Center

from .models import Route, RouteSource, RouteStop

# (code number, theme, title, English title): the article's headings.
CODES = [
    (1, "deliberation", "密码1：初心践地", "Code 1: Where it began (deliberation)"),
    (2, "red_heritage", "密码2：红色引力场", "Code 2: Red heritage"),
    (3, "parent_child", "密码3：亲子欢乐园", "Code 3: Parent and child"),
    (4, "elderly", "密码4：老有所乐家", "Code 4: A happy home for the elderly"),
    (5, "new_employment", "密码5：就业服务圈", "Code 5: Riders and new jobs"),
    (6, "business", "密码6：营商加油站", "Code 6: Business services"),
    (7, "better_life", "密码7：美好生活集", "Code 7: Better life by the river"),
]
_CODE = re.compile(r"密码(\d)")
ARTICLE = "《党群服务中心：走得进 坐得下 还想来》"


def article_route_keys() -> dict[int, list[str]]:
    """Code number -> center external keys, featured first, then in the article's order."""
    out: dict[int, list[tuple[int, str]]] = {}
    for position, entry in enumerate(article_entries()):
        detail = entry.get("source_detail", "")
        found = _CODE.search(detail)
        if not found:
            continue
        featured = "（重点介绍）" in detail
        out.setdefault(int(found.group(1)), []).append(
            (-1 if featured else position, entry["external_key"])
        )
    return {n: [k for _p, k in sorted(items)] for n, items in out.items()}


@transaction.atomic
def load_article_routes() -> dict[str, int]:
    """Create or refresh the seven article routes; needs the article's centers loaded."""
    keys = article_route_keys()
    centers = dict(
        Center.objects.filter(external_key__in=[k for ks in keys.values() for k in ks]).values_list(
            "external_key", "pk"
        )
    )
    counts = {"created": 0, "updated": 0, "unchanged": 0, "skipped": 0}
    for number, theme, title, title_en in CODES:
        ids = [centers[k] for k in keys.get(number, []) if k in centers]
        if len(ids) < 2:
            counts["skipped"] += 1
            continue
        featured = Center.objects.filter(pk=ids[0]).values_list("name", flat=True).first()
        defaults = {
            "title": title,
            "title_en": title_en,
            "theme": theme,
            "story": (
                f"{ARTICLE}「{title}」：先到{featured}，再一起打卡同主题的"
                f"{len(ids) - 1}处党群服务阵地。"
            ),
            "story_en": (
                f"From the feature {ARTICLE}, “{title_en}”: start at the featured "
                f"center, then visit the {len(ids) - 1} others the article lists "
                "under the same theme."
            ),
            "source": RouteSource.ARTICLE,
            "source_detail": f"{ARTICLE} {title}（一起打卡）",
            "public": True,
        }
        key = f"article:code-{number}"
        route = Route.objects.filter(external_key=key).first()
        created = route is None
        changed = created or any(getattr(route, k) != v for k, v in defaults.items())
        if route is None or changed:
            route, _ = Route.objects.update_or_create(external_key=key, defaults=defaults)
        current = list(route.stops.order_by("order").values_list("center_id", flat=True))
        if current != ids:
            changed = True
            route.stops.all().delete()
            RouteStop.objects.bulk_create(
                RouteStop(route=route, center_id=c, order=i) for i, c in enumerate(ids, start=1)
            )
        counts["created" if created else "updated" if changed else "unchanged"] += 1
    return counts
