import pytest
from django.utils import timezone

from doorstep.accounts.tokens import issue_token
from doorstep.visits import codes
from tests.factories import make_account, make_center, make_staff


@pytest.fixture
def place(regions):
    center = make_center("虹桥街道社区党群服务中心", district="长宁区")
    other = make_center("东明路街道社区党群服务中心", district="浦东新区")
    staff = make_staff(center=center)
    resident = make_account(name="王阿姨")
    return {
        "center": center,
        "other": other,
        "staff": staff,
        "resident": resident,
        "token": issue_token(resident),
        "staff_token": issue_token(staff),
        "code": codes.today_code(center.pk),
        "now": timezone.now(),
    }


DEVICE = "device-0123456789abcdef"
