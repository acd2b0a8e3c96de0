"""Tables every app shares: rate-limit counters (limits.py)."""

from django.db import models


class LimitCounter(models.Model):
    """One rate-limit window's count (the database store of the "limits" cache)."""

    cache_key = models.CharField(max_length=255, primary_key=True)
    value = models.BigIntegerField(default=0)
    expires = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "doorstep_limits"

    def __str__(self) -> str:
        return f"{self.cache_key}={self.value}"
