"""doorstep load-article-centers: create or update the centers the newspaper feature names."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from doorstep.centers.article import load_article_centers


class Command(BaseCommand):
    help = (
        "Load the centers and stations named in the feature 《党群服务中心：走得进 坐得下 "
        "还想来》 (data/article_centers.json). Safe to run again: unchanged centers are kept."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        counts = load_article_centers()
        self.stdout.write(
            self.style.SUCCESS(
                "article centers: {created} created, {updated} updated, "
                "{unchanged} unchanged".format(**counts)
            )
        )
