"""The app on a loopback port (werkzeug's server in a thread), for the tests that need a
real HTTP connection: the schema conformance run and an upload cut short. Requests are
served one at a time, on the test's own rolled-back database session."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from werkzeug.serving import make_server


@contextmanager
def serving(app: Any) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        # The console host is "localhost"; the port does not take part in host matching.
        yield f"http://localhost:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
