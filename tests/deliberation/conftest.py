import io

import pytest
from django.core.cache import cache

from doorstep.inbox.senders import MemoryNoticeSender
from tests.factories import make_account, make_center, make_staff


@pytest.fixture(autouse=True)
def media_and_senders(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.NOTICE_SENDER = "doorstep.inbox.senders.MemoryNoticeSender"
    MemoryNoticeSender.outbox.clear()
    cache.clear()
    yield MemoryNoticeSender.outbox
    MemoryNoticeSender.outbox.clear()


@pytest.fixture
def center(regions):
    return make_center(
        "长宁区古北市民中心", subdistrict="虹桥街道", facilities=["canteen", "meeting_rooms"]
    )


@pytest.fixture
def other_center(regions):
    return make_center("徐汇区徐家汇街道党群服务中心", district="徐汇区")


@pytest.fixture
def staff(center):
    return make_staff(center=center)


@pytest.fixture
def resident(db):
    return make_account(name="李阿姨")


@pytest.fixture
def neighbours(db):
    return [make_account(name=f"邻居{i}") for i in range(3)]


@pytest.fixture
def topic(center, resident):
    from doorstep.deliberation.services import propose

    return propose(
        user=resident,
        title="老年助餐点",
        description="社区老人多，希望在中心设一个助餐点。",
        category="elderly_care",
        center_id=center.pk,
    )


def image_bytes(fmt: str = "JPEG", size=(64, 48), exif_gps: bool = False) -> bytes:
    from PIL import Image

    img = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    kwargs = {}
    if exif_gps:
        exif = Image.Exif()
        exif[0x010F] = "CameraMaker"  # Make
        gps = {1: "N", 2: (31.0, 12.0, 0.0), 3: "E", 4: (121.0, 24.0, 0.0)}
        exif[0x8825] = gps
        kwargs["exif"] = exif
    img.save(out, format=fmt, **kwargs)
    return out.getvalue()
