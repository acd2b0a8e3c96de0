"""Files on a request's messages: an image (through core.photos: re-encoded, EXIF gone) or
a PDF of at most 5 MB without scripts, actions or embedded files. Anything else is refused
before a byte is stored."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

from doorstep.core.photos import MAX_PHOTO_BYTES, clean_photo

from .common import CaseError

MAX_PER_MESSAGE = 3
MAX_BYTES = MAX_PHOTO_BYTES
# What a PDF may not carry: scripts, launch actions, embedded files, rich media, forms.
_ACTIVE = re.compile(rb"/(JavaScript|JS|Launch|EmbeddedFile|RichMedia|XFA|AA)\b")


@dataclass
class CleanFile:
    data: bytes
    content_type: str
    extension: str
    name: str


def _name(upload: object, extension: str) -> str:
    raw = os.path.basename(str(getattr(upload, "name", "") or "")).replace("\x00", "")
    stem = re.sub(r"[^\w.\-\u4e00-\u9fff]+", "_", os.path.splitext(raw)[0])[:80] or "file"
    return f"{stem}.{extension}"


def clean_attachment(upload: object) -> CleanFile:
    size = getattr(upload, "size", None)
    too_large = CaseError(
        _("A file may be at most 5 MB."), code="file_too_large", field="files", status=413
    )
    if size is not None and size > MAX_BYTES:
        raise too_large
    raw = upload.read() if hasattr(upload, "read") else bytes(upload)  # type: ignore[call-overload]
    if len(raw) > MAX_BYTES:
        raise too_large
    if raw.startswith(b"%PDF-"):
        if b"%%EOF" not in raw[-1024:]:
            raise CaseError(
                _("That PDF is damaged or incomplete."), code="file_invalid", field="files"
            )
        if _ACTIVE.search(raw):
            raise CaseError(
                _("That PDF carries scripts or actions; please send a plain PDF or a photo."),
                code="file_active_content",
                field="files",
            )
        return CleanFile(raw, "application/pdf", "pdf", _name(upload, "pdf"))
    if hasattr(upload, "seek"):
        upload.seek(0)
    try:
        photo = clean_photo(raw, error=CaseError)
    except CaseError as e:
        raise CaseError(
            _("Send a photo (JPEG, PNG, WebP) or a PDF."),
            code="file_invalid" if e.code == "photo_invalid" else "file_too_large",
            field="files",
        ) from e
    return CleanFile(
        photo.data, photo.content_type, photo.extension, _name(upload, photo.extension)
    )
