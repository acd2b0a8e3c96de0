"""QR codes as inline SVG (segno), for tickets, lobby screens and share boxes."""

from __future__ import annotations

import segno
from django.utils.html import escape


def qr_svg(text: str, label: str = "") -> str:
    """The QR of `text` as inline SVG: a 4-module quiet zone (as the QR standard asks) and a
    viewBox so the page can scale it; with `label`, an image for screen readers."""
    svg = segno.make(text, error="m").svg_inline(
        scale=6, border=4, dark="#000", light="#fff", omitsize=True
    )
    if label:
        svg = svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" class="qr" ', 1)
    return svg
