"""What `make run` serves: the whole site, one Django, two middleware lists.

    granian --interface wsgi doorstep.wsgi:application

An API request that carries a bearer token, or no cookie at all, is judged by its token (or
as anonymous) and never by a session: Django answers it with `API_MIDDLEWARE` (security
headers, CSP, language, the audit trail's address), skipping sessions, CSRF, messages and
the auth middleware. Every other request gets the full `MIDDLEWARE`. Both go to the same
views, schemas and error mapping (docs/architecture.md, "Serving").

Importing this module also does the start-up work (the search dictionaries and the text
index), so no worker's first search pays for it.
"""

import os
from collections.abc import Callable, Iterable
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "doorstep.settings")

import django  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402

django.setup(set_prefix=False)


class TokenAPIHandler(WSGIHandler):
    """Django's WSGI handler with `settings.API_MIDDLEWARE` instead of `MIDDLEWARE`."""

    def load_middleware(self, is_async: bool = False) -> None:
        # BaseHandler reads settings.MIDDLEWARE; it is swapped only while this handler
        # builds its chain, once, at start-up.
        full = settings.MIDDLEWARE
        settings.MIDDLEWARE = settings.API_MIDDLEWARE
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = full


site = WSGIHandler()
token_api = TokenAPIHandler()


def judged_by_token(environ: dict[str, Any]) -> bool:
    """An /api/ request with a bearer token, or with no cookie: no session can matter."""
    return environ.get("PATH_INFO", "").startswith("/api/") and (
        "HTTP_AUTHORIZATION" in environ or "HTTP_COOKIE" not in environ
    )


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    handler = token_api if judged_by_token(environ) else site
    return handler(environ, start_response)


# Load the search dictionaries and the text index before the first request, not during it.
from doorstep.centers import textindex  # noqa: E402
from doorstep.centers.search import warm_up  # noqa: E402

warm_up()
textindex.warm_up()
