"""Demo data for `doorstep load-demo`: the article's routes (facts, not synthetic)."""

from __future__ import annotations

from .article import load_article_routes


def load_demo_routes() -> dict[str, int]:
    """The seven 一起打卡 routes of the article; idempotent. Call after the article centers."""
    return load_article_routes()
