"""Browser tests: Playwright driving Debian's Chromium (never a downloaded browser)."""

import json
import os
from pathlib import Path

import pytest
from django.conf import settings

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


# The session's browser (`browser`) is in tests/conftest.py: one Playwright per process, which
# tests elsewhere share to launch a Chromium of their own (a fake camera, say).


# Every page runs under the site's real Content-Security-Policy; anything it blocks (an inline
# script or style, eval, another origin) is recorded here and fails the test.
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline") +
    " at " + e.sourceFile + ":" + e.lineNumber);
});
"""


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    context.add_init_script(WATCH_CSP)
    pg = context.new_page()
    errors: list[str] = []
    blocked: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on(
        "console",
        lambda msg: blocked.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    yield pg
    for frame_page in context.pages:
        try:
            blocked.extend(frame_page.evaluate("window.__cspViolations || []"))
        except Exception:  # noqa: BLE001 - a page that is closing has nothing to report
            pass
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"
    assert blocked == [], f"Blocked by the Content-Security-Policy: {blocked}"


AXE = Path(settings.NODE_MODULES) / "axe-core" / "axe.min.js"


def axe_violations(pg) -> list[dict]:
    """Serious and critical axe-core violations on the current page."""
    # Evaluated by the browser's debugger protocol, not as a page script: the CSP, which
    # allows no inline script, is not loosened for the test.
    pg.evaluate(AXE.read_text())
    result = pg.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in bad
    ]


def assert_accessible(pg) -> None:
    violations = axe_violations(pg)
    assert violations == [], json.dumps(violations, ensure_ascii=False, indent=1)
