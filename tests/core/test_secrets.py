"""No public key: each installation makes its own on first start, keeps it, and rotates it."""

import os
import stat
import subprocess
import sys
from datetime import date

import pytest
from django.test import override_settings

from doorstep.accounts import services as accounts
from doorstep.activities import tickets
from doorstep.activities.services import register
from doorstep.settings import stored_secret_key
from doorstep.visits import codes
from tests.factories import make_account, make_activity, make_center

# What the settings used to fall back to, for every installation that set no key.
OLD_PUBLIC_KEY = "doorstep-insecure-development-key-change-me"
PRINT_KEY = (
    "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY)"
)


def start(data_dir, **env):
    """A fresh process's SECRET_KEY, as `make run` (or a worker) would start with DATA_DIR."""
    clean = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DATA_DIR")}
    clean.update(DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="doorstep.settings", **env)
    return subprocess.run(
        [sys.executable, "-c", PRINT_KEY], env=clean, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_first_start_makes_a_private_key_and_later_starts_keep_it(tmp_path):
    first = start(tmp_path)
    assert len(first) >= 50 and first != OLD_PUBLIC_KEY
    key_file = tmp_path / "secret_key"
    assert key_file.read_text().strip() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert start(tmp_path) == first
    assert start(tmp_path / "another") != first  # every installation its own


def test_secret_key_from_the_environment_wins_and_writes_nothing(tmp_path):
    assert start(tmp_path, SECRET_KEY="k" * 50) == "k" * 50
    assert not (tmp_path / "secret_key").exists()


def test_processes_starting_together_share_one_key(tmp_path):
    clean = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DATA_DIR")}
    clean.update(DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="doorstep.settings")
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", PRINT_KEY], env=clean, stdout=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    keys = {p.communicate(timeout=60)[0].strip() for p in procs}
    assert len(keys) == 1 and len(keys.pop()) >= 50
    assert not list(tmp_path.glob(".secret_key.*"))  # no temporary file left behind


def test_a_readable_key_file_is_narrowed_and_an_empty_one_refused(tmp_path):
    key_file = tmp_path / "secret_key"
    key_file.write_text("x" * 60 + "\n")
    key_file.chmod(0o644)
    assert stored_secret_key(tmp_path) == "x" * 60
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key_file.write_text("")
    with pytest.raises(RuntimeError, match="no usable key"):
        stored_secret_key(tmp_path)


def test_rotation_keeps_tickets_posters_and_sign_in_codes_valid(regions):
    center = make_center("东明路街道社区党群服务中心", district="浦东新区")
    activity = make_activity(center, audience="everyone")
    account = make_account()
    reg = register(
        account=account, activity_id=activity.pk, person_ids=[account.people.first().pk]
    ).registrations[0]
    day = date(2026, 12, 2)
    with override_settings(SECRET_KEY="old-" * 10, SECRET_KEY_FALLBACKS=[]):
        token = tickets.token_for(reg)
        poster = codes.code_for(center.pk, day)
        code_hash = accounts._code_hash("+8613812345678", "123456")
    with override_settings(SECRET_KEY="new-" * 10, SECRET_KEY_FALLBACKS=["old-" * 10]):
        assert tickets.verify(token) is not None
        assert codes._is_code_of(center.pk, day, poster)
        assert accounts._code_matches(code_hash, "+8613812345678", "123456")
        assert tickets.token_for(reg) != token  # new tickets carry the new key's signature
    with override_settings(SECRET_KEY="new-" * 10, SECRET_KEY_FALLBACKS=[]):
        assert tickets.verify(token) is None
        assert not codes._is_code_of(center.pk, day, poster)
        assert not accounts._code_matches(code_hash, "+8613812345678", "123456")
