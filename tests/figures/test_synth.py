"""The synthetic year: flagged, deterministic, shaped, and rolled up like real data."""

from __future__ import annotations

from datetime import date

from django.db.models import Count, Sum

from doorstep.figures.models import CenterDay
from doorstep.figures.selectors import Scope, figures_for
from doorstep.figures.services import refresh_figures
from doorstep.figures.synth import delete_synthetic, synth_visits
from doorstep.visits.models import ServiceRecord, Visit

START = date(2026, 3, 2)


def signature():
    return (
        list(
            Visit.objects.values_list(
                "center_id", "user_id", "group", "arrived_at", "left_at"
            ).order_by("center_id", "arrived_at", "group", "user_id")
        ),
        list(
            ServiceRecord.objects.values_list("center_id", "service", "count").order_by(
                "center_id", "service", "day"
            )
        ),
    )


def test_synthetic_visits_are_flagged_deterministic_and_shaped(two_centers):
    centers = list(two_centers)
    r = synth_visits(centers=centers, start=START, days=28, per_center_per_day=40, seed=3)
    assert r.visits == Visit.objects.count() > 1500
    assert not Visit.objects.filter(synthetic=False).exists()
    assert not ServiceRecord.objects.exclude(source="synthetic").exists()
    assert set(Visit.objects.values_list("day", flat=True)) == {
        date.fromordinal(START.toordinal() + k) for k in range(28)
    }
    # Local days and times agree (arrivals lie on their stated local day).
    refresh_figures()
    assert CenterDay.objects.aggregate(n=Sum("visits"))["n"] == r.visits
    scope = Scope(kind="center", name="甲", center=centers[0])
    f = figures_for(scope, START, date(2026, 3, 29), today=date(2026, 6, 1))
    assert f.has_synthetic
    elderly_morning = f.totals["h08"] + f.totals["h09"] + f.totals["h10"]
    assert elderly_morning > f.totals["h03"] * 5
    # Regulars come back: a real cohort with a return rate strictly between 0 and 1.
    assert f.unique_visitors > 10 and 0 < f.return_rate < 1
    per_user = Visit.objects.exclude(user=None).values("user").annotate(n=Count("id"))
    assert max(row["n"] for row in per_user) >= 5
    first = signature()
    delete_synthetic()
    synth_visits(centers=centers, start=START, days=28, per_center_per_day=40, seed=3)
    assert signature() == first


def test_demo_figures_at_the_article_centers_once(regions):
    from doorstep.centers.article import load_article_centers
    from doorstep.centers.models import Center
    from doorstep.figures.synth import load_demo_figures

    load_article_centers()
    first = load_demo_figures(days=3)
    assert first.visits > 0
    article = Center.objects.filter(source="article")
    assert Visit.objects.filter(center__in=article, synthetic=True).count() == first.visits
    assert CenterDay.objects.aggregate(n=Sum("visits"))["n"] == first.visits
    assert load_demo_figures(days=3).visits == 0  # already there: nothing added
    assert Visit.objects.count() == first.visits


def test_synthetic_visits_come_only_while_the_center_is_open(regions):
    from django.utils import timezone

    from tests.factories import make_center

    day_only = make_center("白天站", hours="mon-fri 09:00-17:00")
    late = make_center("夜间站", hours="mon-sun 20:00-02:00")
    synth_visits(centers=[day_only, late], start=START, days=14, per_center_per_day=60, seed=5)
    days = Visit.objects.filter(center=day_only)
    assert days.count() > 300
    for v in days:
        local = timezone.localtime(v.arrived_at)
        assert local.weekday() < 5 and 9 <= local.hour < 17, local
    nights = Visit.objects.filter(center=late)
    assert nights.count() > 50  # riders at night: the late station is where they go
    assert all(timezone.localtime(v.arrived_at).hour in (20, 21, 22, 23, 0, 1) for v in nights)
