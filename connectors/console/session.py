"""Serve the console beside a synchronous runtime (the replay): ``vigil demo --serve``.

The HTTP server runs on its own loop in a background thread (``BackgroundServer``). Whatever
the runtime produces is handed to that loop (``observe``, the wrapped deliverer), so the
incident view and the recorder are only ever touched by the thread that serves them.
"""

from __future__ import annotations

import os
import secrets
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from aiohttp import web

from connectors.console.recorder import ConsoleRecorder
from connectors.console.routes import mount_console
from connectors.errors import ConnectorError
from connectors.http.silences import SilenceStore
from connectors.http.state import AppState
from connectors.http.thread import BackgroundServer
from connectors.replay import Deliver, ReplayOptions
from engine.events import Action, InputEvent
from engine.rules.runtime import HttpLimits

TOKEN_ENV: Final = ("VIGIL_API_TOKEN", "VIGIL_TOKEN")
"""Variables ``--serve`` reads its API token from (the first set one), as workers do."""
SHORT_TOKEN: Final = 16


def chosen_token(
    flag: str | None, file: Path | None, env: dict[str, str] | None = None
) -> str | None:
    """The API token given to ``--serve``: ``--token``, else ``--token-file``, else the first
    of ``TOKEN_ENV`` that is set; ``None`` when none is (a fresh random one is made then).

    >>> chosen_token(None, None, {"VIGIL_TOKEN": "from-env"}), chosen_token("x" * 16, None, {})
    ('from-env', 'xxxxxxxxxxxxxxxx')
    """
    env = dict(os.environ) if env is None else env
    if flag is not None:
        where, value = "--token", flag
    elif file is not None:
        try:
            where, value = f"--token-file {file}", file.read_text().strip()
        except OSError as exc:
            raise ConnectorError(f"--token-file: cannot read {file}: {exc.strerror}") from None
    else:
        named = [(name, env[name]) for name in TOKEN_ENV if env.get(name)]
        if not named:
            return None
        where, value = named[0]
    value = value.strip()
    if not value or not value.isprintable() or any(c.isspace() for c in value):
        raise ConnectorError(f"{where}: an API token is one word of printable characters")
    if len(value) < SHORT_TOKEN:
        warning = f"warning: {where}: a token of {len(value)} characters is easy to guess"
        print(warning, file=sys.stderr)
    return value


@dataclass(slots=True)
class ConsoleSession:
    """A running console: ``url`` (with the token in its fragment) and the runtime's hooks."""

    server: BackgroundServer
    recorder: ConsoleRecorder
    token: str = field(repr=False)
    token_given: bool = False
    """The token came from the user (``--token``...): it is not printed in ``shown_url``."""

    @classmethod
    def start(
        cls,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        *,
        silences: SilenceStore | None = None,
        ready: bool = True,
        limits: HttpLimits | None = None,
        routes: Sequence[Callable[[web.Application], None]] = (),
    ) -> ConsoleSession:
        """Serve the API and console; ``ready=False`` leaves ``/readyz`` at 503 until the
        runtime's ``ReplayOptions.on_ready`` (see ``replay_options``). No ``token``: a fresh
        random one. ``limits``: the rules' ``runtime.http``; ``routes``: more routes to mount
        (``vigil serve``'s ingest)."""
        given = token is not None
        token = token or secrets.token_urlsafe(18)
        state = AppState(token=token, limits=limits or HttpLimits(), extra_routes=[*routes])
        if silences is not None:
            state.silences = silences
        recorder = ConsoleRecorder()
        mount_console(state, recorder)
        server = BackgroundServer(state, host, port)
        try:
            server.start()
        except OSError as exc:
            server.stop()
            raise ConnectorError(f"console: cannot listen on {host}:{port}: {exc}") from exc
        if ready:
            state.mark_ready()
        return cls(server, recorder, token, given)

    @property
    def url(self) -> str:
        return f"{self.server.url}/#token={self.token}"

    @property
    def shown_url(self) -> str:
        """What to print: ``url``, or without the token when the user chose it."""
        return f"{self.server.url}/  (API token as given)" if self.token_given else self.url

    @property
    def state(self) -> AppState:
        return self.server.state

    def replay_options(self) -> ReplayOptions:
        """Replay hooks: console updates, the served metrics, ``/readyz`` once state is set up."""
        return ReplayOptions(
            observe=self.observe,
            metrics=self.state.metrics,
            on_ready=lambda: self.server.call_soon(self.state.mark_ready),
        )

    def observe(self, batch: list[InputEvent], outputs: list[Any]) -> None:
        """The replay's ``ReplayOptions.observe`` hook."""
        self.server.call_soon(self._apply, batch, outputs)

    def _apply(self, batch: list[InputEvent], outputs: list[Any]) -> None:
        self.state.incidents.apply(outputs)
        self.recorder.observe(batch, outputs)

    def wrap(self, deliver: Deliver) -> RecordingDeliverer:
        """A deliverer that also shows each delivery result on the incident page."""
        return RecordingDeliverer(deliver, self)

    def sync(self) -> None:
        """Wait until everything handed over so far is visible to the server."""
        self.server.run(lambda: None)

    def serve_until_interrupted(self, stop: threading.Event | None = None) -> None:
        """Block until Ctrl-C (or ``stop`` is set), then stop the server."""
        stop = stop or threading.Event()
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            print("\nconsole stopped")
        finally:
            self.server.stop()


def open_console(
    port: int,
    *,
    silences: SilenceStore | None = None,
    ready: bool = True,
    token: str | None = None,
    limits: HttpLimits | None = None,
) -> ConsoleSession:
    """Start the console for ``vigil demo/replay --serve`` and print where to open it."""
    session = ConsoleSession.start(
        port=port, token=token, silences=silences, ready=ready, limits=limits
    )
    print(f"console: {session.shown_url}  (incidents appear live as the replay runs)", flush=True)
    return session


@dataclass(slots=True)
class RecordingDeliverer:
    """Delivers through ``deliver`` and hands every result to the console (``close`` too)."""

    deliver: Deliver
    session: ConsoleSession

    def __call__(self, actions: list[Action]) -> list[Action]:
        return self._record(self.deliver(actions))

    def close(self, drain_s: float = 30.0) -> list[Action]:
        close = getattr(self.deliver, "close", None)
        return self._record(list(close(drain_s=drain_s)) if close is not None else [])

    def _record(self, done: list[Action]) -> list[Action]:
        if done:
            self.session.server.call_soon(self.session.recorder.record_actions, list(done))
        return done
