"""synth-city --visits, rebuild-figures and refresh-figures, and the worker's refresh."""

from __future__ import annotations

import io

from django.core.management import call_command

from doorstep.figures.models import AreaDay, CenterDay
from doorstep.visits.models import Visit

from .test_rollup_property import snapshot


def test_synth_city_with_visits_then_rebuild_agrees(regions):
    out = io.StringIO()
    call_command(
        "synth-city", "--centers", "6", "--visits", "--year", "2025", "--days", "10",
        "--scale", "5", "--workers", "1", stdout=out,
    )  # fmt: skip
    assert "synthetic visits" in out.getvalue()
    n = Visit.objects.count()
    assert n > 0 and Visit.objects.filter(synthetic=True).count() == n
    assert sum(CenterDay.objects.values_list("visits", flat=True)) == n
    assert sum(AreaDay.objects.exclude(subdistrict="*").values_list("visits", flat=True)) == n
    rolled = snapshot()
    call_command("rebuild-figures", "--from", "2025-01-01", "--to", "2025-01-10", stdout=out)
    assert snapshot() == rolled
    call_command("refresh-figures", stdout=out)
    assert snapshot() == rolled
    # More visits for the same synthetic city, as the same command with --centers 0 adds them.
    call_command(
        "synth-city", "--centers", "0", "--visits", "--year", "2025", "--days", "2",
        "--scale", "5", "--seed", "2", stdout=out,
    )  # fmt: skip
    assert sum(CenterDay.objects.values_list("visits", flat=True)) == Visit.objects.count() > n


def test_worker_refreshes_figures(two_centers):
    from datetime import date

    from .conftest import add_visit

    add_visit(two_centers[0], date(2026, 3, 2))
    out = io.StringIO()
    call_command("worker", "--once", stdout=out)
    assert "figures: 1" in out.getvalue()
    assert CenterDay.objects.get().visits == 1
