"""The aiohttp application: what it serves from, how it starts, and request accounting.

``AppState`` is everything the handlers read: metrics, the incident view, the silence store,
the ingest port, the token and limits, and the ``ready`` flag the runtime sets once state is
recovered. Static files (the web console) are served at ``/`` when ``static_dir`` is set.

Every response carries security headers and only allowed ``Host`` names are served
(``protect``); connections are capped and timed (``guard``): see those modules and the
``runtime.http`` limits in ``engine/rules/runtime.py``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from connectors.http import amv2, api, changes, stream, telemetry
from connectors.http.acceptlog import rate_limit_accept_errors
from connectors.http.guard import ConnectionGuard, GuardedSite, guard_middleware
from connectors.http.limits import CLIENT_GONE
from connectors.http.protect import add_security_headers, host_middleware
from connectors.http.state import APP_STATE, AppState

log = logging.getLogger("vigil.http")


def build_app(
    state: AppState, host: str = "127.0.0.1", guard: ConnectionGuard | None = None
) -> web.Application:
    """The aiohttp application serving ``state`` on ``host`` (routes in ``api`` and
    ``stream``); ``guard`` is told when each request starts and ends."""
    middlewares = [_answer_bugs_with_500, host_middleware(host, state.limits.allowed_hosts)]
    if guard is not None:
        middlewares.insert(0, guard_middleware(guard))
    app = web.Application(client_max_size=state.limits.max_body_bytes, middlewares=middlewares)
    app.on_response_prepare.append(add_security_headers)
    app[APP_STATE] = state
    app.on_response_prepare.append(_count_response)
    api.add_routes(app)
    amv2.add_routes(app)
    telemetry.add_routes(app)
    changes.add_routes(app)
    stream.add_routes(app)
    for add_routes in state.extra_routes:
        add_routes(app)
    if state.static_dir is not None:
        index = state.static_dir / "index.html"

        async def get_index(_request: web.Request) -> web.FileResponse:
            return web.FileResponse(index)

        app.router.add_get("/", get_index)
        app.router.add_static("/", state.static_dir, name="static")
    app.on_shutdown.append(stream.close_streams)
    return app


async def start_http_server(
    app_state: AppState, host: str = "127.0.0.1", port: int = 8080
) -> web.AppRunner:
    """Start serving ``app_state`` on ``host:port`` (port 0 picks one; see ``bound_port``).

    Stop it with ``await runner.cleanup()``.
    """
    limits = app_state.limits
    counted = app_state.metrics.http_requests.labels
    refused = counted(route="connection", status="503")
    evicted = counted(route="connection", status="evicted")
    guard = ConnectionGuard(limits, on_refused=refused.inc, on_evicted=evicted.inc)
    runner = web.AppRunner(
        build_app(app_state, host, guard),
        access_log=None,
        shutdown_timeout=2.0,
        auto_decompress=False,  # ``limits.read_body`` decodes, within the body limit
        keepalive_timeout=limits.header_timeout,
    )
    await runner.setup()
    rate_limit_accept_errors(asyncio.get_running_loop())
    await GuardedSite(runner, host, port, guard).start()
    log.info(
        "http api listening address=%s:%d max_connections=%d",
        host,
        bound_port(runner),
        guard.cap,
    )
    return runner


def bound_port(runner: web.AppRunner) -> int:
    """The TCP port the runner's first site listens on."""
    return int(runner.addresses[0][1])


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _answer_bugs_with_500(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ConnectionError:  # the client hung up: nobody to answer, nothing to report
        metrics = request.app[APP_STATE].metrics
        metrics.http_requests.labels(route=_route(request), status=str(CLIENT_GONE)).inc()
        return web.Response(status=CLIENT_GONE)  # never sent (so not counted on prepare)
    except web.HTTPException:
        raise
    except Exception:  # a bug: log it with its location and answer 500 rather than hang up
        log.exception("http handler failed route=%s method=%s", _route(request), request.method)
        return web.json_response({"error": "internal error"}, status=500)


async def _count_response(request: web.Request, response: web.StreamResponse) -> None:
    """Counted when the response is prepared: only then is a static file's status final (a
    missing file answers 404 from ``FileResponse.prepare``)."""
    route = "unmatched" if response.status == 404 and _is_fallback(request) else _route(request)
    metrics = request.app[APP_STATE].metrics
    metrics.http_requests.labels(route=route, status=str(response.status)).inc()


def _route(request: web.Request) -> str:
    """The matched route's pattern (bounded: never the raw path), ``static`` for console files."""
    resource = request.match_info.route.resource
    if resource is None:
        return "unmatched"
    return "static" if isinstance(resource, web.StaticResource) else resource.canonical


def _is_fallback(request: web.Request) -> bool:
    resource = request.match_info.route.resource
    return resource is None or isinstance(resource, web.StaticResource)
