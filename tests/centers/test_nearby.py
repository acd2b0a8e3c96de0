import pytest

from doorstep.centers.selectors import (
    CenterFilters,
    distance_m,
    search_centers,
    walking_minutes,
)
from tests.factories import make_center

pytestmark = pytest.mark.django_db

# A point near 古北 (Hongqiao subdistrict, Changning).
HERE = (31.1990, 121.4010)


@pytest.fixture
def ring(regions):
    """Centers at known offsets from HERE: ~111 m per 0.001 degree of latitude."""
    made = {}
    for name, dlat, dlng in [
        ("北边一公里", 0.009, 0.0),
        ("东边五百米", 0.0, 0.00525),
        ("南边三公里", -0.027, 0.0),
        ("隔壁", 0.0009, 0.0),
    ]:
        made[name] = make_center(
            name,
            lat=HERE[0] + dlat,
            lng=HERE[1] + dlng,
            location_precision="exact",
            themes=["elderly"] if name != "隔壁" else [],
        )
    return made


def test_sorted_by_distance_with_metres_and_minutes(ring):
    page = search_centers(CenterFilters(lat=HERE[0], lng=HERE[1]))
    assert [h.center.name for h in page.hits] == ["隔壁", "东边五百米", "北边一公里", "南边三公里"]
    for h in page.hits:
        expect = distance_m(HERE[0], HERE[1], h.center.lat, h.center.lng)
        assert h.distance_m == pytest.approx(expect, abs=0.1)
        assert h.walking_minutes == walking_minutes(h.distance_m)
    assert page.hits[0].distance_m == pytest.approx(100, rel=0.01)
    assert page.hits[2].distance_m == pytest.approx(1000, rel=0.01)


def test_radius_limits_and_combines_with_filters(ring):
    within = search_centers(CenterFilters(lat=HERE[0], lng=HERE[1], radius_m=1100))
    assert {h.center.name for h in within.hits} == {"隔壁", "东边五百米", "北边一公里"}
    assert within.count == 3
    themed = search_centers(
        CenterFilters(lat=HERE[0], lng=HERE[1], radius_m=1100, themes=["elderly"])
    )
    assert [h.center.name for h in themed.hits] == ["东边五百米", "北边一公里"]
    searched = search_centers(CenterFilters(q="边", lat=HERE[0], lng=HERE[1], radius_m=5000))
    assert [h.center.name for h in searched.hits] == ["东边五百米", "北边一公里", "南边三公里"]


def test_walking_minutes_estimate():
    # 1 km straight line -> 1.3 km of streets at 80 m/min -> 17 minutes (rounded up).
    assert walking_minutes(1000) == 17
    assert walking_minutes(1) == 1


def test_haversine_reference():
    # 0.0096° north and 0.0163° east at 31.2°N: 1.07 km and 1.55 km, about 1.88 km apart.
    assert distance_m(31.2304, 121.4737, 31.2400, 121.4900) == pytest.approx(1890, rel=0.05)
