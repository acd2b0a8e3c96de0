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


class AuditEntry(models.Model):
    """One staff write or export (core/audit.py): who, what, which object, when, from where,
    and for edits the fields before and after. Written in the change's own transaction;
    never updated (a database trigger refuses it) and not editable anywhere."""

    at = models.DateTimeField()
    # A plain id, not a foreign key, and the name as it was: an entry outlives the account.
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_label = models.CharField(max_length=150, blank=True, default="")
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64, blank=True, default="")
    object_id = models.CharField(max_length=64, blank=True, default="")
    object_label = models.CharField(max_length=200, blank=True, default="")
    # Whose back office sees it: the center's staff and those above them (accounts.scopes);
    # entries with no center belong to a region (a role for a district), or to the city.
    center_id = models.BigIntegerField(null=True, blank=True)
    region_code = models.CharField(max_length=12, blank=True, default="")
    ip = models.GenericIPAddressField(null=True, blank=True)
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["-at"], name="audit_newest"),
            models.Index(fields=["center_id", "-at"], name="audit_center"),
            models.Index(fields=["region_code", "-at"], name="audit_region"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_label}"
