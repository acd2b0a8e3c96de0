"""Uploaded photos, made safe once for every app: a real JPEG, PNG or WebP of at most 5 MB
and 40 megapixels, re-encoded (at most 2,000 px a side) so EXIF, GPS and comments are gone.
Served by the app's own view, never as a static file."""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.utils.translation import gettext as _

from .errors import DoorstepError, InvalidInput

MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_PHOTO_PIXELS = 40_000_000
PHOTO_SIDE = 2000
PHOTO_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


@dataclass
class CleanPhoto:
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


def clean_photo(upload: object, *, error: type[DoorstepError] = InvalidInput) -> CleanPhoto:
    """A real JPEG, PNG or WebP of at most 5 MB, re-encoded so EXIF (and GPS) is gone."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    size = getattr(upload, "size", None)
    if size is not None and size > MAX_PHOTO_BYTES:
        raise error(_("A photo may be at most 5 MB."), code="photo_too_large", field="photos")
    raw = upload.read() if hasattr(upload, "read") else bytes(upload)  # type: ignore[call-overload]
    if len(raw) > MAX_PHOTO_BYTES:
        raise error(_("A photo may be at most 5 MB."), code="photo_too_large", field="photos")
    not_image = error(
        _("That file is not a photo we can read: use JPEG, PNG or WebP."),
        code="photo_invalid",
        field="photos",
    )
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            fmt = probe.format or ""
            width, height = probe.size
            if fmt not in PHOTO_TYPES:
                raise not_image
            if width * height > MAX_PHOTO_PIXELS:
                raise error(
                    _("That photo has too many pixels."), code="photo_too_large", field="photos"
                )
            probe.verify()
        with Image.open(io.BytesIO(raw)) as img:
            img.load()
            image = ImageOps.exif_transpose(img)
            image.thumbnail((PHOTO_SIDE, PHOTO_SIDE))
            if fmt == "JPEG" and image.mode not in ("RGB", "L"):
                image = image.convert("RGB")
            out = io.BytesIO()
            # A fresh encode carries no EXIF, GPS or comments: only pixels.
            image.save(out, format=fmt, **({"quality": 85} if fmt != "PNG" else {}))
    except DoorstepError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise not_image from exc
    return CleanPhoto(
        data=out.getvalue(),
        content_type=PHOTO_TYPES[fmt],
        extension={"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}[fmt],
        width=image.width,
        height=image.height,
    )
