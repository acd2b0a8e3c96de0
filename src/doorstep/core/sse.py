"""Server-sent events for pages that watch a value (the gym board, the big screen).

`changes(read, ...)` answers `text/event-stream`: it calls `read()` every `step` seconds and
sends what it returns (a JSON-serialisable value) as one `data:` event whenever it differs
from the last one sent, and a comment line after `heartbeat` quiet seconds (proxies keep the
stream open, and a browser that has gone is noticed then, not only at the end). The stream
ends after `seconds` so no server thread is held for ever; the browser's EventSource
reconnects after `retry_ms`. The stream's database connection is closed when it ends.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

from django.http import StreamingHttpResponse


def changes(
    read: Callable[[], Any],
    *,
    seconds: float = 55.0,
    step: float = 1.0,
    retry_ms: int = 1000,
    heartbeat: float = 5.0,
) -> StreamingHttpResponse:
    def stream() -> Iterator[bytes]:
        from django.db import connection

        last = None
        until = time.monotonic() + seconds
        sent = time.monotonic()
        yield f"retry: {retry_ms}\n\n".encode()
        try:
            while time.monotonic() < until:
                text = json.dumps(read(), ensure_ascii=False)
                if text != last:
                    last = text
                    sent = time.monotonic()
                    yield f"data: {text}\n\n".encode()
                elif time.monotonic() - sent >= heartbeat:
                    sent = time.monotonic()
                    yield b": still here\n\n"
                time.sleep(step)
        finally:
            # It was held for up to a minute, outside any request cycle: give it back (not
            # inside a transaction: a test reads the stream inside its own).
            if not connection.in_atomic_block:
                connection.close()

    response = StreamingHttpResponse(stream(), content_type="text/event-stream")
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"
    return response
