"""Rollups of visits and services (还想来), maintained from the fact tables in `visits`.

`CenterDay` holds one center's counters for one local day; `AreaDay` sums them per
subdistrict (or per district, for centers without one) so a city-wide year adds up some
85,000 rows instead of 4.6 million. `Presence` keeps one row per signed-in person, center and
day: the only per-person data. `PeopleDay` rolls Presence up per scope and day by the
previous day each person was present there, so unique visitors and the return rate of any
period sum rows whose number does not grow with the people. Everything here can be thrown
away and recomputed (`doorstep rebuild-figures`); docs/figures.md.
"""

from __future__ import annotations

from django.db import models

from doorstep.visits.vocab import Group, Service

GROUPS: tuple[str, ...] = tuple(g.value for g in Group)
SERVICES: tuple[str, ...] = tuple(s.value for s in Service)
# Upper edges (minutes) of the dwell-time histogram; the last bucket is open-ended.
DWELL_EDGES: tuple[int, ...] = (5, 15, 30, 60, 120, 240)

GROUP_FIELDS = tuple(f"g_{g}" for g in GROUPS)
HOUR_FIELDS = tuple(f"h{h:02d}" for h in range(24))
DWELL_FIELDS = tuple(f"d{i}" for i in range(len(DWELL_EDGES) + 1))
SERVICE_FIELDS = tuple(f"s_{s}" for s in SERVICES)
BASE_FIELDS = ("visits", "known_visits", "synthetic", "dwell_n", "dwell_estimated", "suspect")
# Every summable counter, in a fixed order (dwell_seconds is a BigIntegerField, summed too).
COUNTER_FIELDS: tuple[str, ...] = (
    BASE_FIELDS + ("dwell_seconds",) + GROUP_FIELDS + HOUR_FIELDS + DWELL_FIELDS + SERVICE_FIELDS
)


class Counters(models.Model):
    """The counters shared by every rollup level: plain integer columns, summable by SQL."""

    visits = models.PositiveIntegerField(default=0)
    # Visits by a signed-in person (the rest are anonymous: counted, never followed).
    known_visits = models.PositiveIntegerField(default=0)
    # Rows (visits and service records) flagged synthetic: pages label such figures.
    synthetic = models.PositiveIntegerField(default=0)
    dwell_n = models.PositiveIntegerField(default=0)
    dwell_estimated = models.PositiveIntegerField(default=0)
    dwell_seconds = models.BigIntegerField(default=0)
    # Anonymous check-ins in a suspicious burst (visits.Visit.suspect): counted here only,
    # left out of every other counter.
    suspect = models.PositiveIntegerField(default=0)
    for _name in GROUP_FIELDS + HOUR_FIELDS + DWELL_FIELDS + SERVICE_FIELDS:
        locals()[_name] = models.PositiveIntegerField(default=0)
    del _name

    class Meta:
        abstract = True


class CenterDay(Counters):
    center = models.ForeignKey("centers.Center", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["center", "day"], name="figures_center_day_once")
        ]
        indexes = [models.Index(fields=["day"], name="figures_centerday_day")]

    def __str__(self) -> str:
        return f"{self.center_id} {self.day}: {self.visits}"


class AreaDay(Counters):
    """The sum of CenterDay over the centers of one subdistrict ('' = none) of a district;
    subdistrict "*" is the whole district, district and subdistrict "*" the whole city."""

    district = models.CharField(max_length=12)
    subdistrict = models.CharField(max_length=12, blank=True, default="")
    day = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["district", "subdistrict", "day"], name="figures_area_day_once"
            )
        ]
        indexes = [
            models.Index(fields=["day"], name="figures_areaday_day"),
            models.Index(fields=["subdistrict", "day"], name="figures_areaday_sub"),
        ]

    def __str__(self) -> str:
        return f"{self.district}/{self.subdistrict} {self.day}: {self.visits}"


class Presence(models.Model):
    """A signed-in person was at a center on a day (however many visits). Deleted with them."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    center = models.ForeignKey("centers.Center", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    # The center's region codes when computed, so region figures need no join.
    district = models.CharField(max_length=12)
    subdistrict = models.CharField(max_length=12, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["center", "day", "user"], name="figures_presence_once")
        ]
        indexes = [
            models.Index(fields=["district", "day"], name="figures_presence_district"),
            models.Index(fields=["subdistrict", "day"], name="figures_presence_sub"),
            models.Index(fields=["day", "user"], name="figures_presence_day"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.center_id} {self.day}"


# How far back PeopleDay remembers the previous day present: any longer gap (or none) is
# stored as `since = day - PEOPLE_HORIZON`. A period of at most PEOPLE_HORIZON days (three
# years, the longest the pages accept) then still sees every such person as "first visit in
# the period", and the rows per scope and day stay at most PEOPLE_HORIZON.
PEOPLE_HORIZON = 366 * 3
# Came back within this many days after a day present (days d+1 ... d+RETURN_DAYS).
RETURN_DAYS = 30


def scope_key(kind: str, code: str | int = "") -> str:
    """PeopleDay.scope for a center (its id), a subdistrict or district (its code), the city."""
    if kind == "city":
        return "*"
    return f"{kind[0]}:{code}"


class PeopleDay(models.Model):
    """Signed-in people present in a scope on a day, by the previous day they were present in
    that scope (`since`), and how many of them were present there again within RETURN_DAYS.

    A person counts once per scope and day, however many centers of the scope they visited.
    The people of a period [a, b] whose first day there in the period is `day` are the rows
    with a <= day <= b and since < a; docs/figures.md ("Rollups").
    """

    # "c:<center id>", "s:<subdistrict code>", "d:<district code>" or "*" (the city).
    scope = models.CharField(max_length=24)
    day = models.DateField()
    # The previous day present in the scope, or day - PEOPLE_HORIZON (never, or longer ago).
    since = models.DateField()
    people = models.PositiveIntegerField(default=0)
    returned = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "day", "since"], name="figures_people_day_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.day} since {self.since}: {self.people}"


class RefreshState(models.Model):
    """The incremental refresh's watermark: rows updated before it are already rolled up."""

    name = models.CharField(max_length=20, primary_key=True)
    watermark = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name}: {self.watermark}"
