"""In-app notices: every change to what a resident holds or follows lands here (and, by
choice, by email or SMS through a pluggable sender, from the Delivery outbox)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Notice(models.Model):
    # Looked up through the notice_user index, which starts with it: no index of its own.
    user = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="notices", db_index=False
    )
    # What it is about, e.g. "topic:12" or "opinion:40"; lets a page group and dedupe.
    subject = models.CharField(max_length=40)
    kind = models.CharField(max_length=30)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True, default="")
    url = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # One notice per event and person: the event's key (e.g. "reg:12:confirmed"), so a retry
    # or a second worker writing the same event adds nothing.
    event_key = models.CharField(max_length=120, blank=True, default="")
    # The center it is about, so its staff can see what failed to reach people.
    center_id = models.BigIntegerField(null=True, blank=True)
    # The language it was written in (the recipient's).
    language = models.CharField(max_length=10, blank=True, default="")

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at", "created_at"], name="notice_user")]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "event_key"],
                condition=~models.Q(event_key=""),
                name="notice_once_per_event",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.title}"


class DeliveryPreference(models.Model):
    """How a resident wants notices besides the inbox. Off unless they turn it on."""

    user = models.OneToOneField(
        "accounts.User", on_delete=models.CASCADE, related_name="notice_preference"
    )
    by_sms = models.BooleanField(_("also by SMS to my mobile number"), default=False)
    email = models.EmailField(_("email address (optional)"), blank=True)
    by_email = models.BooleanField(_("also by email"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("notice preference")
        verbose_name_plural = _("notice preferences")

    def __str__(self) -> str:
        return f"{self.user_id} sms={self.by_sms} email={self.by_email}"


class Delivery(models.Model):
    """One notice to send by one channel: the outbox. Written in the notice's transaction,
    sent after it commits (small events at once, the rest by the worker), retried on failure;
    what finally failed is shown to the center's staff."""

    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        EMAIL = "email", _("email")

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting to be sent")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # Not before this time: the next try, or the end of quiet hours for an SMS.
    not_before = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(fields=["notice", "channel"], name="delivery_once_per_channel")
        ]
        indexes = [
            models.Index(
                fields=["not_before"],
                condition=models.Q(status="pending"),
                name="delivery_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.notice_id} {self.channel} {self.status}"
