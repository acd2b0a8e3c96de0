"""In-app notices: every status change a resident follows lands here (and, by choice, by
email or SMS through a pluggable sender)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Notice(models.Model):
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="notices")
    # What it is about, e.g. "topic:12" or "opinion:40"; lets a page group and dedupe.
    subject = models.CharField(max_length=40)
    kind = models.CharField(max_length=30)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True, default="")
    url = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at", "created_at"], name="notice_user")]

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
