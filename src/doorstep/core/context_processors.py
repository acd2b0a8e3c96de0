from typing import Any

from django.http import HttpRequest

LARGE_TEXT_COOKIE = "doorstep_text"


def ui(request: HttpRequest) -> dict[str, Any]:
    """Presentation preferences kept in a cookie, so they work without an account or JS."""
    return {"large_text": request.COOKIES.get(LARGE_TEXT_COOKIE) == "large"}
