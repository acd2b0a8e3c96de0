"""The heritage sites the article names (`doorstep load-demo`), with the article as source.

The article: 黄浦区党建服务中心 at 黄陂南路575号 "紧邻又新印刷所旧址，距中共一大纪念馆也咫尺之遥".
The article gives neither site's address, so both are placed at the center's location with
"street" precision and say so; nothing else is claimed about them.
"""

from __future__ import annotations

from doorstep.centers.models import Center

from .models import Kind, Source
from .services import save_site

ARTICLE = "《党群服务中心：走得进 坐得下 还想来》"
SITES = [
    (
        "article:site:youxin-printing-house",
        "又新印刷所旧址",
        "Former site of the Youxin printing house",
        Kind.FORMER_SITE,
        "紧邻又新印刷所旧址",
    ),
    (
        "article:site:first-congress-memorial",
        "中共一大纪念馆",
        "Memorial of the First National Congress of the CPC",
        Kind.MEMORIAL,
        "距中共一大纪念馆也咫尺之遥",
    ),
]


def load_demo_sites() -> dict[str, int]:
    center = Center.objects.filter(external_key="article:huangpu-district-party-building").first()
    if center is None:
        return {"sites": 0}
    made = 0
    for key, name, name_en, kind, quote in SITES:
        _site, created = save_site(
            {
                "external_key": key,
                "name": name,
                "name_en": name_en,
                "kind": kind,
                "district": center.district,
                "address": "",
                "lat": center.lat,
                "lng": center.lng,
                "location_precision": "street",
                "location_note": (
                    f"{ARTICLE}：位于黄浦区党建服务中心（黄陂南路575号）附近，未给出门牌"
                ),
                "hours": "",
                "history": "",
                "history_en": "",
                "source": Source.ARTICLE,
                "source_detail": f"{ARTICLE}：黄浦区党建服务中心“{quote}”",
            }
        )
        made += created
    return {"sites": made}
