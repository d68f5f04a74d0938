"""A scripted stand-in for MLflow's model-registry REST API on 127.0.0.1 (real HTTP server).

``Registry.script`` lists the statuses of the next POSTs (then 200); ``Registry.requests``
records ``(path, body, Authorization header)`` of every POST.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar


class Registry(BaseHTTPRequestHandler):
    requests: ClassVar[list[tuple[str, dict, str | None]]] = []
    script: ClassVar[list[int]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Registry.requests.append((self.path, body, self.headers.get("Authorization")))
        status = Registry.script.pop(0) if Registry.script else 200
        self.send_response(status)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def running_registry() -> Iterator[str]:
    """Serve ``Registry`` on a free port with fresh records; yields its base URL."""
    Registry.requests, Registry.script = [], []
    server = HTTPServer(("127.0.0.1", 0), Registry)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
