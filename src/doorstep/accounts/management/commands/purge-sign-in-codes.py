"""doorstep purge-sign-in-codes: delete sign-in codes older than a day (run it daily)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from doorstep.accounts.services import purge_codes


class Command(BaseCommand):
    help = "Delete sign-in code records (hashes and requesting IPs) older than a day."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"deleted {purge_codes()} sign-in codes")
