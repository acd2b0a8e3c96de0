from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.test import override_settings

from doorstep.visits import codes

SH = ZoneInfo("Asia/Shanghai")


def test_code_changes_daily_and_per_center():
    day = datetime(2026, 3, 1, 10, tzinfo=SH).date()
    a = codes.code_for(7, day)
    assert len(a) == codes.CODE_LENGTH
    assert a != codes.code_for(7, day + timedelta(days=1))
    assert a != codes.code_for(8, day)
    assert a == codes.code_for(7, day)


def test_today_valid_yesterday_only_in_grace_older_expired_else_invalid():
    now = datetime(2026, 3, 2, 0, 30, tzinfo=SH)
    today = codes.code_for(7, now.date())
    yesterday = codes.code_for(7, now.date() - timedelta(days=1))
    assert codes.code_state(7, today, now) == "valid"
    assert codes.code_state(7, today.lower(), now) == "valid"  # typed in lower case
    assert codes.code_state(7, yesterday, now) == "valid"  # 00:30, inside the 2 h grace
    assert codes.code_state(7, yesterday, now + timedelta(hours=2)) == "expired"
    last_month = codes.code_for(7, now.date() - timedelta(days=30))
    assert codes.code_state(7, last_month, now) == "expired"
    assert codes.code_state(8, today, now) == "invalid"  # another center's poster
    assert codes.code_state(7, "AAAAAAAAAA", now) == "invalid"
    assert codes.code_state(7, "", now) == "invalid"
    assert codes.code_state(7, today[:-1] + ("A" if today[-1] != "A" else "B"), now) == "invalid"


@override_settings(SECRET_KEY="another-key-for-another-deployment")
def test_code_depends_on_the_secret():
    day = datetime(2026, 3, 1, tzinfo=SH).date()
    with override_settings(SECRET_KEY="one"):
        one = codes.code_for(7, day)
    assert codes.code_for(7, day) != one


def test_device_hash_is_fixed_length_and_keyed():
    h = codes.device_hash("cookie-value-1234567890")
    assert len(h) == 32 and h != codes.device_hash("cookie-value-1234567891")
    assert "cookie" not in h
