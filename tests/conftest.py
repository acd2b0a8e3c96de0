import os
import uuid

import pytest
from django.db.models import QuerySet

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _fast_and_local(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.LANGUAGE_CODE = "zh-hans"
    # Each test starts with an empty per-process cache (cached choices, directory answers)
    from django.core.cache import cache

    cache.clear()
    # and no token verified by an earlier test (the per-process token cache).
    from doorstep.accounts.tokens import clear_cache
    from doorstep.activities import facts

    clear_cache()
    facts.forget()  # and no activity facts (ids are reused between tests on SQLite)
    # and rate-limit counters of its own: the shared store (the database, or Redis when
    # REDIS_URL is set) is the real one, so each test counts under a fresh prefix.
    settings.LIMITS_KEY_PREFIX = f"rl:test:{uuid.uuid4().hex}"
    # Retention counts months back from the real clock; tests pin their own dates (2020 in
    # some), so it is off unless a test turns it on (tests/visits/test_partitions.py).
    settings.VISIT_RETENTION_MONTHS = 0


@pytest.fixture
def regions(db: None) -> QuerySet:
    """Shanghai's regions in the database; loads them only when missing (cheap when cached)."""
    from doorstep.centers.models import Region
    from doorstep.centers.regions import load_regions

    if Region.objects.filter(level="district").count() < 16:
        load_regions()
    return Region.objects.all()


@pytest.fixture
def daytime():
    """The clock pinned at 10:00 local today (outside SMS quiet hours, 21:00–08:00), for tests
    whose result depends on the hour; yields that instant."""
    from unittest import mock

    from django.utils import timezone

    at = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0)
    with mock.patch("django.utils.timezone.now", return_value=at):
        yield at


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, driven by the one Playwright this process may run (the sync API
    refuses a second one while the first lives): tests that need other launch flags call
    `browser.browser_type.launch(...)`."""
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
