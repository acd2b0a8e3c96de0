"""One error type per domain, each carrying a stable machine code.

Services raise these; the API turns them into 4xx JSON `{"code", "message"}` and pages turn
them into a message in the user's language. Anything else that escapes is a bug (a 500).
"""

from typing import Any

from django.utils.translation import gettext as _


class DoorstepError(Exception):
    """Base for expected, user-facing failures."""

    status: int = 400

    def __init__(self, message: Any, *, code: str, status: int | None = None, **extra: Any):
        super().__init__(str(message))
        self.message = message
        self.code = code
        if status is not None:
            self.status = status
        self.extra = extra

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code, "message": str(self.message)}
        data.update(self.extra)
        return data


class NotFound(DoorstepError):
    status = 404


class InvalidInput(DoorstepError):
    status = 400


def too_large() -> DoorstepError:
    """A body over DATA_UPLOAD_MAX_MEMORY_SIZE (or too many fields): 413 for API and pages."""
    return DoorstepError(_("The request is too large."), code="too_large", status=413)
