"""The keys that sign: SECRET_KEY first, then the fallbacks still accepted during a rotation."""

from django.conf import settings


def signing_keys() -> list[str]:
    """Sign with the first; accept what any of them signed (Django's SECRET_KEY_FALLBACKS)."""
    return [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
