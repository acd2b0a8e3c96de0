"""Sections other apps add to a center's page (activities: the next three), without the
directory importing them: an app registers a provider in its AppConfig.ready()."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from .models import Center


@dataclass
class Section:
    template: str
    context: dict[str, Any]
    order: int = 50  # lower comes first


Provider = Callable[[HttpRequest, Center], "Section | None"]
_providers: list[Provider] = []


def register_center_section(provider: Provider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def center_sections(request: HttpRequest, center: Center) -> list[Section]:
    sections = [s for s in (p(request, center) for p in _providers) if s is not None]
    return sorted(sections, key=lambda s: s.order)
