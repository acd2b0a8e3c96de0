"""The fixed, translatable vocabularies of the center directory.

Codes are stable API values; labels are UI strings. Facility and theme bits are stored in
integer masks for fast filtering, so a code's bit never changes: append new codes at the end.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Theme(models.TextChoices):
    # The article's seven "codes" (密码) of centers that draw people in.
    DELIBERATION = "deliberation", _("Deliberation and democracy")
    RED_HERITAGE = "red_heritage", _("Red heritage education")
    PARENT_CHILD = "parent_child", _("Parent and child")
    ELDERLY = "elderly", _("Elderly care and leisure")
    NEW_EMPLOYMENT = "new_employment", _("Riders and couriers")
    BUSINESS = "business", _("Business services")
    BETTER_LIFE = "better_life", _("Riverside better life")


THEME_SHORT = {
    Theme.DELIBERATION: _("Deliberation"),
    Theme.RED_HERITAGE: _("Red heritage"),
    Theme.PARENT_CHILD: _("Parent & child"),
    Theme.ELDERLY: _("Elderly"),
    Theme.NEW_EMPLOYMENT: _("Riders & couriers"),
    Theme.BUSINESS: _("Business"),
    Theme.BETTER_LIFE: _("Better life"),
}


class Facility(models.TextChoices):
    CANTEEN = "canteen", _("Canteen / meal point")
    READING_ROOM = "reading_room", _("Reading room / library branch")
    ELDERLY_FITNESS = "elderly_fitness", _("Elderly fitness")
    HEALTH_STATION = "health_station", _("Health station / free blood pressure")
    RESTROOM = "restroom", _("Restroom")
    MOTHER_BABY_ROOM = "mother_baby_room", _("Mother-and-baby room")
    ACCESSIBLE_TOILET = "accessible_toilet", _("Accessible toilet")
    LOCKERS = "lockers", _("Lockers")
    DRINKING_WATER = "drinking_water", _("Drinking water")
    SHOWERS = "showers", _("Showers")
    AIR_CONDITIONED_REST = "air_conditioned_rest", _("Air-conditioned rest area")
    BATTERY_CHARGING = "battery_charging", _("Battery swap / charging")
    CAPSULE_APARTMENT = "capsule_apartment", _("Capsule apartment")
    MEETING_ROOMS = "meeting_rooms", _("Meeting rooms")
    GOV_SERVICE_TERMINAL = "gov_service_terminal", _("One-Netcom government service terminal")
    OPEN_24H = "open_24h", _("Open 24 hours")
    EXHIBITION = "exhibition", _("Exhibition")
    LECTURE_HALL = "lecture_hall", _("Lecture hall")
    CHILDREN_AREA = "children_area", _("Children's activity area")
    MEDICAL_ROOM = "medical_room", _("Clinic / first aid")
    UMBRELLAS = "umbrellas", _("Umbrellas to borrow")
    SPORTS_COURT = "sports_court", _("Sports court")
    CAFE = "cafe", _("Café / tea")


class Level(models.TextChoices):
    DISTRICT = "district", _("District-level center")
    SUBDISTRICT = "subdistrict", _("Subdistrict or town-level")
    RESIDENTIAL = "residential", _("Residential / village")
    OFFICE_PARK = "office_park", _("Office tower / park")
    RIVERSIDE = "riverside", _("Riverside")
    OTHER = "other", _("Other")


class Kind(models.TextChoices):
    CENTER = "center", _("Center")
    STATION = "station", _("Station")
    POINT = "point", _("Point")


class Precision(models.TextChoices):
    EXACT = "exact", _("Exact")
    STREET = "street", _("Street")
    SUBDISTRICT = "subdistrict", _("Subdistrict")
    DISTRICT = "district", _("District")


class NameKind(models.TextChoices):
    """Where an English name comes from, shown beside it."""

    OFFICIAL = "official", _("Official English name")
    TRANSLATION = "translation", _("Translated by doorstep (not official)")
    PINYIN = "pinyin", _("Pinyin (no official English name known)")


class Datum(models.TextChoices):
    """The coordinate systems people bring (see geo.py)."""

    WGS84 = "wgs84", _("WGS84 (GPS)")
    GCJ02 = "gcj02", _("GCJ-02 (Amap, Tencent Maps)")
    BD09 = "bd09", _("BD-09 (Baidu Maps)")


class Source(models.TextChoices):
    ARTICLE = "article", _("Newspaper feature")
    IMPORT = "import", _("Imported list")
    MANUAL = "manual", _("Entered by staff")
    SYNTHETIC = "synthetic", _("Synthetic (generated, not real)")


def _bits(choices: type[models.TextChoices]) -> dict[str, int]:
    return {code: 1 << i for i, code in enumerate(choices.values)}


THEME_BITS = _bits(Theme)
FACILITY_BITS = _bits(Facility)


def mask(codes: list[str] | tuple[str, ...], bits: dict[str, int]) -> int:
    value = 0
    for code in codes:
        value |= bits[code]
    return value


def display_name(name: str, branch: str) -> str:
    """The name people can tell apart: 杨浦滨江党群服务站（电站辅机厂站）."""
    return f"{name}（{branch}）" if branch else name
