"""Call a WSGI application in-process, as a server would, inside a test's transaction."""

import io
import json
from collections.abc import Callable
from typing import Any

from django.core import signals
from django.db import close_old_connections


def wsgi_call(
    app: Callable[..., Any],
    path: str,
    body: Any = b"",
    headers: dict[str, str] | None = None,
    *,
    method: str = "POST",
    content_type: str = "application/json",
    query: str = "",
) -> tuple[int, list[tuple[str, str]], bytes]:
    """The status, the headers (in order) and the body's bytes of one request to `app`.

    `body` is bytes, or anything else sent as JSON.
    """
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "HTTP_HOST": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(raw)),
        "wsgi.input": io.BytesIO(raw),
        "wsgi.errors": io.StringIO(),
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    got: dict[str, Any] = {}

    def start_response(status: str, response_headers: list, exc_info: Any = None) -> None:
        got["status"] = int(status.split()[0])
        got["headers"] = list(response_headers)

    # As Django's test client does: keep the test's connection (and its transaction) open.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        chunks = app(environ, start_response)
        data = b"".join(chunks)
        if hasattr(chunks, "close"):
            chunks.close()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    return got["status"], got["headers"], data
