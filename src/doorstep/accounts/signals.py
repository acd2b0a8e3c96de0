"""What other apps may tell accounts without accounts importing them (import-linter layers)."""

from __future__ import annotations

from collections.abc import Callable

from .models import Person

# Checks that a person still takes part in something (activities: an active registration),
# registered by the app that knows, in its AppConfig.ready(): such a person is not removed.
_in_use: list[Callable[[Person], bool]] = []


def register_person_in_use(check: Callable[[Person], bool]) -> None:
    if check not in _in_use:
        _in_use.append(check)


def person_in_use(person: Person) -> bool:
    return any(check(person) for check in _in_use)
