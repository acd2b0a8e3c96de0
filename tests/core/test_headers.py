"""Security headers and cookies: what every answer carries, and what HTTPS=1 adds."""

import json
import os
import subprocess
import sys

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db

SETTINGS = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps([s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, "
    "s.SECURE_SSL_REDIRECT, getattr(s, 'SECURE_PROXY_SSL_HEADER', None)]))"
)


def settings_with(tmp_path, **env):
    clean = {k: v for k, v in os.environ.items() if k not in ("HTTPS", "PROXY_SSL_HEADER")}
    clean.update(DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="doorstep.settings", **env)
    out = subprocess.run(
        [sys.executable, "-c", SETTINGS], env=clean, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def test_https_turns_on_secure_cookies_hsts_and_the_proxy_header(tmp_path):
    assert settings_with(tmp_path) == [False, False, 0, False, None]  # make run on http
    assert settings_with(tmp_path, HTTPS="1", PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO") == [
        True,
        True,
        31536000,
        True,
        ["HTTP_X_FORWARDED_PROTO", "https"],
    ]


@override_settings(
    SESSION_COOKIE_SECURE=True,
    CSRF_COOKIE_SECURE=True,
    SECURE_HSTS_SECONDS=31536000,
    SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
)
def test_behind_a_tls_proxy_answers_carry_hsts_and_secure_cookies(client, regions):
    r = client.get("/account/sign-in", HTTP_X_FORWARDED_PROTO="https")
    assert r["Strict-Transport-Security"] == "max-age=31536000"
    assert r.cookies["csrftoken"]["secure"] is True
    plain = client.get("/account/sign-in")
    assert "Strict-Transport-Security" not in plain  # HSTS only means something over TLS


def test_every_answer_keeps_the_headers_that_already_worked(client, regions):
    for path in ["/", "/api/v1/centers", "/account/sign-in"]:
        r = client.get(path)
        assert r["X-Frame-Options"] == "DENY", path
        assert r["X-Content-Type-Options"] == "nosniff", path
        assert r["Referrer-Policy"] == "same-origin", path
        policy = r["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy, path
        assert "unsafe" not in policy, path


def test_no_template_holds_an_inline_script_or_style():
    """What the policy forbids, found before a browser would: inline <script> code, on*=
    handlers, <style> blocks and style="" attributes in any template."""
    import re
    from pathlib import Path

    import doorstep

    root = Path(doorstep.__file__).parent
    found = []
    for template in root.glob("**/templates/**/*.html"):
        text = template.read_text()
        for pattern in (
            r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>",
            r"\son[a-z]+=\"",
            r"<style[\s>]",
            r"\sstyle=\"",
        ):
            found += [f"{template.relative_to(root)}: {m}" for m in re.findall(pattern, text)]
    assert found == []
