"""Vigil's HTTP API (aiohttp): metrics, health, ingest, incidents, silences, SSE.

``start_http_server(app_state, host, port)`` is what every runtime calls (embedded replay/demo
with ``--serve``, Kafka workers). The server holds no engine state of its own: it reads the
``AppState`` the runtime gives it and hands decoded events to the runtime's ``ingest`` port
(Alertmanager webhook and v2 API, Prometheus remote write, OTLP/HTTP, changes: docs/ingest.md).
"""

from connectors.http.server import bound_port, build_app, start_http_server
from connectors.http.state import AppState

__all__ = ["AppState", "bound_port", "build_app", "start_http_server"]
