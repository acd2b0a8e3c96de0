"""The synthetic city: doorstep synth-city --centers N [--seed S] [--replace]."""

from __future__ import annotations

import io
import json
import random
from collections import Counter

import pytest
import shapely
from django.core.management import CommandError, call_command
from django.utils import translation
from shapely.geometry import shape

from doorstep.centers import synth
from doorstep.centers.hours import DAY
from doorstep.centers.models import Center, OpeningException, OpeningHours, Region
from doorstep.centers.services import CenterInput, save_center
from doorstep.centers.vocab import (
    FACILITY_BITS,
    THEME_BITS,
    Facility,
    Kind,
    Level,
    Precision,
    Source,
    mask,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """The assertions below read messages in English; the default language is zh-hans."""
    with translation.override("en"):
        yield


N = 300


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("synth-city", *args, stdout=out)
    return out.getvalue()


def fingerprint() -> list[tuple]:
    centers = list(
        Center.objects.filter(source=Source.SYNTHETIC)
        .order_by("external_key")
        .values_list(
            "external_key",
            "name",
            "level",
            "district",
            "subdistrict",
            "lat",
            "lng",
            "themes",
            "facilities",
            "address",
            "aliases",
            "opened_on",
            "search_name",
        )
    )
    hours = sorted(
        OpeningHours.objects.values_list(
            "center__external_key", "weekday", "open_minute", "close_minute"
        )
    )
    exceptions = sorted(
        OpeningException.objects.values_list("center__external_key", "date", "closed")
    )
    return [*centers, *hours, *exceptions]


@pytest.fixture
def city(regions) -> list[Center]:
    output = run("--centers", str(N), "--seed", "1")
    assert str(N) in output
    return list(Center.objects.select_related("district", "subdistrict"))


def test_count_and_every_center_is_marked_synthetic(city):
    assert len(city) == N
    for c in city:
        assert c.source == Source.SYNTHETIC and c.is_synthetic
        assert "合成" in c.source_detail and "synthetic" in c.source_detail
        assert c.external_key.startswith("synthetic:")
        assert "synthetic" in c.location_source
        assert c.location_precision == Precision.EXACT
        assert c.name and len(c.name) <= 120
        assert c.level in Level.values and c.kind in Kind.values
    assert len({c.external_key for c in city}) == N
    assert len({c.name for c in city}) == N


def test_every_district_and_subdistrict_is_covered(city, regions):
    districts = set(regions.filter(level="district").values_list("code", flat=True))
    subdistricts = set(regions.filter(level="subdistrict").values_list("code", flat=True))
    assert {c.district_id for c in city} == districts
    assert {c.subdistrict_id for c in city if c.subdistrict_id} == subdistricts
    levels = Counter(c.level for c in city)
    assert levels[Level.DISTRICT] == len(districts)
    assert levels[Level.SUBDISTRICT] == len(subdistricts)
    assert levels[Level.RESIDENTIAL] > levels[Level.OFFICE_PARK] > 0
    for c in city:
        if c.subdistrict is not None:
            assert c.subdistrict.parent_id == c.district_id


def test_themes_facilities_and_masks_are_valid(city):
    for c in city:
        assert 1 <= len(c.themes) <= 2
        assert set(c.themes) <= set(THEME_BITS)
        assert set(c.facilities) <= set(FACILITY_BITS)
        assert c.theme_mask == mask(c.themes, THEME_BITS)
        assert c.facility_mask == mask(c.facilities, FACILITY_BITS)
        assert c.search_name and c.name_pinyin  # derived by services.refresh_derived
    facilities = Counter(f for c in city for f in c.facilities)
    assert facilities[Facility.RESTROOM] > facilities[Facility.SHOWERS]


def test_hours_and_exceptions_are_stored(city):
    with_hours = set(OpeningHours.objects.values_list("center_id", flat=True))
    assert with_hours == {c.pk for c in city}
    for c in city:
        weekly = list(c.hours.values_list("close_minute", "open_minute"))
        is_24h = sum(close - open_ for close, open_ in weekly) == 7 * DAY
        assert is_24h == (Facility.OPEN_24H in c.facilities)
    assert OpeningException.objects.filter(center__source=Source.SYNTHETIC).exists()


def test_every_location_is_inside_its_district(city, regions):
    outlines = {r.code: shape(json.loads(r.outline)) for r in regions.filter(level="district")}
    for c in city:
        assert shapely.contains_xy(outlines[c.district_id], c.lng, c.lat), c.name


def test_same_seed_same_city_other_seed_other_city(regions):
    run("--centers", "120", "--seed", "7")
    first = fingerprint()
    run("--centers", "120", "--seed", "7", "--replace")
    assert fingerprint() == first
    run("--centers", "120", "--seed", "8", "--replace")
    assert fingerprint() != first


def test_refuses_without_replace(city):
    with pytest.raises(CommandError, match="--replace"):
        run("--centers", "10")
    assert Center.objects.count() == N


def test_replace_keeps_other_centers(regions):
    real, _ = save_center(
        data=CenterInput(
            external_key="manual:1",
            name="长宁区虹桥街道社区党群服务中心",
            level=Level.SUBDISTRICT,
            district="长宁区",
            subdistrict="虹桥街道",
            source=Source.MANUAL,
            hours="daily 09:00-17:00",
        )
    )
    before = Center.objects.filter(pk=real.pk).values().get()
    run("--centers", "50")
    run("--centers", "40", "--replace")

    assert Center.objects.filter(source=Source.SYNTHETIC).count() == 40
    assert Center.objects.filter(pk=real.pk).values().get() == before
    assert real.hours.count() == 7


def test_refuses_without_regions(db):
    assert not Region.objects.exists()
    with pytest.raises(CommandError, match="load-regions"):
        run("--centers", "10")


def test_full_size_plan_has_the_real_network_s_proportions(regions):
    districts = synth._load_districts()
    plans = synth._plan(12600, districts, random.Random(1))
    levels = Counter(p.level for p in plans)
    n_subdistricts = regions.filter(level="subdistrict").count()

    assert len(plans) == 12600
    assert levels[Level.DISTRICT] == 16
    assert levels[Level.SUBDISTRICT] == n_subdistricts
    assert 0.78 <= levels[Level.RESIDENTIAL] / 12600 <= 0.82
    assert 0.07 <= levels[Level.OFFICE_PARK] / 12600 <= 0.09
    assert 0.015 <= levels[Level.RIVERSIDE] / 12600 <= 0.025
    riverside = {p.district.short for p in plans if p.level == Level.RIVERSIDE}
    assert riverside <= set(synth.RIVERSIDE_DISTRICTS)
    per_district = Counter(p.district.region.code for p in plans)
    assert len(per_district) == 16
    pudong = next(d.region.code for d in districts if d.short == "浦东")
    assert per_district.most_common(1)[0][0] == pudong


def test_worker_processes_give_the_same_city(regions, monkeypatch):
    synth.synth_city(120, seed=3, workers=1)
    serial = fingerprint()
    monkeypatch.setattr(synth, "DERIVE_CHUNK", 25)  # several chunks, so workers are used

    synth.synth_city(120, seed=3, replace=True, workers=2)

    assert fingerprint() == serial
