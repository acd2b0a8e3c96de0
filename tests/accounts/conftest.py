import pytest
from django.core.cache import cache
from django.db import connection

from doorstep.accounts.senders import MemorySender


@pytest.fixture(autouse=True)
def outbox(settings):
    """Codes go to a list instead of a phone."""
    settings.SMS_SENDER = "doorstep.accounts.senders.MemorySender"
    MemorySender.outbox.clear()
    cache.clear()  # locmem caches outlive a test: start each without old failure counts
    yield MemorySender.outbox
    MemorySender.outbox.clear()


@pytest.fixture
def last_code(outbox):
    def read(phone: str = "+8613812345678") -> str:
        sent = [m for m in outbox if m.phone == phone]
        assert sent, f"no code was sent to {phone}"
        return sent[-1].code

    return read


def tables_containing(value: str) -> list[str]:
    """Tables with a text value containing `value`, looking through every column of every row."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608
            if any(isinstance(v, str) and value in v for row in cursor.fetchall() for v in row):
                found.append(table)
    return found
