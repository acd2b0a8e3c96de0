"""Lighthouse (npm, run on Debian's Chromium) on a phone: accessibility and SEO at 100 on the
home page, the results, a center and an activity (#11)."""

import json
import os
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.factories import make_activity, make_center

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LIGHTHOUSE = Path(settings.NODE_MODULES) / "lighthouse" / "cli" / "index.js"


@pytest.fixture
def pages(regions):
    now = timezone.now()
    center = make_center(
        "东明路街道社区党群服务中心",
        district="浦东新区",
        address="浦东新区东明路某号",
        hours="mon-sun 08:30-20:30",
        lat=31.1570,
        lng=121.5010,
        location_precision="exact",
        themes=["parent_child"],
        description="活动又多又好，名额要抢。",
    )
    activity = make_activity(
        center,
        title="象棋课",
        starts_at=now + timedelta(days=2),
        registration_opens_at=now - timedelta(hours=1),
        now=now - timedelta(hours=1),
    )
    return [
        "/",
        f"/centers/?lat={center.lat}&lng={center.lng}&radius_m=5000",
        f"/centers/{center.pk}/",
        f"/activities/{activity.pk}/",
    ]


def test_lighthouse_mobile_accessibility_and_seo(live_server, pages, tmp_path):
    flags = " ".join(["--headless=new", *CHROMIUM_ARGS])
    env = {**os.environ, "CHROME_PATH": CHROMIUM}
    scores = {}
    for path in pages:
        out = tmp_path / "report.json"
        subprocess.run(
            [
                "node", str(LIGHTHOUSE), live_server.url + path,
                "--only-categories=accessibility,seo", "--form-factor=mobile",
                "--screenEmulation.mobile", "--output=json", f"--output-path={out}",
                f"--chrome-flags={flags}", "--quiet", "--locale=zh",
            ],
            env=env, check=True, timeout=180,
        )  # fmt: skip
        report = json.loads(out.read_text())
        failed = [
            a["id"]
            for cat in report["categories"].values()
            for ref in cat["auditRefs"]
            if ref["weight"] and (a := report["audits"][ref["id"]])["score"] not in (1, None)
        ]
        scores[path] = (
            {k: round(c["score"] * 100) for k, c in report["categories"].items()},
            failed,
        )
    assert all(s == {"accessibility": 100, "seo": 100} for s, _f in scores.values()), scores
