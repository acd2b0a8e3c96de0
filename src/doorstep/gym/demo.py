"""Synthetic heart-rate bands for `make run` (`doorstep load-demo`).

The article: at 徐家汇's 长者运动健康之家 (for people over 60) "来长者运动之家健身的老人还会
配备发放的心率带，实时监控心率数据". The twenty bands here are synthetic (band ids
`demo-…`); no session is started: `doorstep gym-simulate --center <id> --bands 20
--start-sessions` with
`doorstep gym-monitor` beside it fills the board (docs/gym.md)."""

from __future__ import annotations

from doorstep.centers.models import Center

from .models import Band

XUJIAHUI = "article:xujiahui-subdistrict"


def load_demo_bands() -> dict[str, int]:
    center = Center.objects.filter(external_key=XUJIAHUI).first()
    if center is None:
        return {"bands (synthetic)": 0}
    made = 0
    for i in range(1, 21):
        _band, created = Band.objects.get_or_create(
            band_id=f"demo-{center.pk}-{i:02d}", defaults={"center": center, "label": f"D{i:02d}"}
        )
        made += created
    return {"bands (synthetic)": made}
