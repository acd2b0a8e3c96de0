import os

import pytest
from django.db.models import QuerySet

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _fast_and_local(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.LANGUAGE_CODE = "zh-hans"
    # Each test starts with an empty cache (rate limits, cached choices).
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def regions(db: None) -> QuerySet:
    """Shanghai's regions in the database; loads them only when missing (cheap when cached)."""
    from doorstep.centers.models import Region
    from doorstep.centers.regions import load_regions

    if Region.objects.filter(level="district").count() < 16:
        load_regions()
    return Region.objects.all()
