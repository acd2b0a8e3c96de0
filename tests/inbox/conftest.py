import pytest

from doorstep.inbox.senders import MemoryNoticeSender


@pytest.fixture(autouse=True)
def memory_sender(settings):
    settings.NOTICE_SENDER = "doorstep.inbox.senders.MemoryNoticeSender"
    MemoryNoticeSender.outbox.clear()
    yield MemoryNoticeSender.outbox
    MemoryNoticeSender.outbox.clear()
