"""Coordinates: the datums Chinese map apps use, and links that open a center in them.

doorstep stores WGS84 (what GPS, the outlines and the browser's geolocation give). 高德 and
腾讯 use GCJ-02, 百度 uses BD-09; most coordinates people copy from a Chinese map app are
GCJ-02. The conversions are PRCoords (PyPI `prcoords`, public domain), with its precise
iterative inverse for input ("bored" functions: < 1 m), never a hand-written formula.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode

import prcoords

from .vocab import Precision

WGS84 = "wgs84"
GCJ02 = "gcj02"
BD09 = "bd09"
DATUMS = (WGS84, GCJ02, BD09)

# Only these say where the door is; anything coarser is a representative point of an area.
PRECISE = (Precision.EXACT.value, Precision.STREET.value)


def is_precise(precision: str) -> bool:
    return precision in PRECISE


def to_wgs84(lat: float, lng: float, datum: str) -> tuple[float, float]:
    """A point given in `datum` as WGS84 (outside China the offsets are zero)."""
    if datum == WGS84:
        return lat, lng
    if datum == GCJ02:
        c = prcoords.gcj_wgs_bored(prcoords.Coords(lat, lng))
    elif datum == BD09:
        c = prcoords.bd_wgs_bored(prcoords.Coords(lat, lng))
    else:
        raise ValueError(f"unknown datum {datum!r}")
    return round(c.lat, 7), round(c.lon, 7)


def gcj02(lat: float, lng: float) -> tuple[float, float]:
    c = prcoords.wgs_gcj(prcoords.Coords(lat, lng))
    return round(c.lat, 6), round(c.lon, 6)


def bd09(lat: float, lng: float) -> tuple[float, float]:
    c = prcoords.wgs_bd(prcoords.Coords(lat, lng))
    return round(c.lat, 6), round(c.lon, 6)


@dataclass(frozen=True)
class NavLink:
    app: str  # "amap" | "baidu" | "tencent"
    url: str


def nav_links(*, lat: float, lng: float, name: str, address: str = "") -> list[NavLink]:
    """Open the point in 高德, 百度 and 腾讯 maps: their public web URIs, which open the app
    where it is installed and the web map where not (iOS and WeChat ignore `geo:`)."""
    g_lat, g_lng = gcj02(lat, lng)
    b_lat, b_lng = bd09(lat, lng)
    amap = "https://uri.amap.com/marker?" + urlencode(
        {
            "position": f"{g_lng},{g_lat}",
            "name": name,
            "src": "doorstep",
            "coordinate": "gaode",
            "callnative": "1",
        },
        quote_via=quote,
    )
    baidu = "https://api.map.baidu.com/marker?" + urlencode(
        {
            "location": f"{b_lat},{b_lng}",
            "title": name,
            "content": address or name,
            "coord_type": "bd09ll",
            "output": "html",
            "src": "doorstep",
        },
        quote_via=quote,
    )
    # Tencent's marker takes `coord:lat,lng;title:…;addr:…` in one parameter.
    marker = f"coord:{g_lat},{g_lng};title:{name}" + (f";addr:{address}" if address else "")
    tencent = "https://apis.map.qq.com/uri/v1/marker?" + urlencode(
        {"marker": marker, "referer": "doorstep"}, quote_via=quote
    )
    return [NavLink("amap", amap), NavLink("baidu", baidu), NavLink("tencent", tencent)]
