"""Small helpers that create data through the real services."""

from __future__ import annotations

import itertools
from typing import Any

from doorstep.centers.services import CenterInput, save_center

_seq = itertools.count(1)


def make_center(name: str, *, district: str = "长宁区", **kw: Any):
    data = CenterInput(
        external_key=kw.pop("external_key", f"test:{next(_seq)}"),
        name=name,
        level=kw.pop("level", "subdistrict"),
        district=district,
        source=kw.pop("source", "manual"),
        **kw,
    )
    center, _outcome = save_center(data=data)
    return center
