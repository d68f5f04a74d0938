"""The aiohttp application: what it serves from, how it starts, and request accounting.

``AppState`` is everything the handlers read: metrics, the incident view, the silence store,
the ingest port, the token and limits, and the ``ready`` flag the runtime sets once state is
recovered. Static files (the web console) are served at ``/`` when ``static_dir`` is set.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from connectors.http import api, stream
from connectors.http.state import APP_STATE, AppState

log = logging.getLogger("vigil.http")


def build_app(state: AppState) -> web.Application:
    """The aiohttp application serving ``state`` (routes in ``api`` and ``stream``)."""
    app = web.Application(
        client_max_size=state.limits.max_body_bytes, middlewares=[_answer_bugs_with_500]
    )
    app[APP_STATE] = state
    app.on_response_prepare.append(_count_response)
    api.add_routes(app)
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
    runner = web.AppRunner(build_app(app_state), access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("http api listening address=%s:%d", host, bound_port(runner))
    return runner


def bound_port(runner: web.AppRunner) -> int:
    """The TCP port the runner's first site listens on."""
    return int(runner.addresses[0][1])


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _answer_bugs_with_500(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
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
