"""``vigil serve``: the live embedded runtime (one process, no broker) on a local state folder.

It serves the HTTP API and console (``connectors.console.session``) with the ingest routes of
every input kind, journals what it accepts, runs ``LiveRuntime`` on the main thread until
SIGTERM or Ctrl-C, then checkpoints and gives delivery ``--drain`` seconds.
"""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from connectors.console.session import ConsoleSession
    from connectors.serve.runtime import LiveRuntime

DEFAULT_STATE_DIR = Path("vigil-state")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "serve", help="run live: HTTP ingest (Alertmanager, Prometheus, JSON), state on disk"
    )
    p.add_argument(
        "--state-dir",
        type=Path,
        default=DEFAULT_STATE_DIR,
        help="journal, checkpoint, outbox and outputs (default ./vigil-state; reuse it to resume)",
    )
    p.add_argument("--rules", type=Path, action="append", help="rule file or folder (repeatable)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: all)")
    p.add_argument("--port", type=int, default=8080, help="HTTP port (0: any free port)")
    p.add_argument("--token", help="API token of the write endpoints (prefer --token-file)")
    p.add_argument("--token-file", type=Path, help="file holding the API token")
    p.add_argument("--references", type=Path, help="folder of model reference profiles")
    p.add_argument(
        "--checkpoint-interval", type=float, default=10.0, help="seconds between checkpoints"
    )
    p.add_argument(
        "--drain", type=float, default=10.0, help="seconds delivery may go on at shutdown"
    )
    p.add_argument(
        "--clock",
        choices=("wall", "event"),
        default="wall",
        help="processing time: wall (live input, default) or event (the newest event time "
        "accepted, as a replay: for a backfill of old data)",
    )
    p.set_defaults(handler=_cmd_serve)


def _cmd_serve(args: argparse.Namespace) -> int:
    console, runtime = _open(args)
    print(f"vigil serve: {console.shown_url}", flush=True)
    print(f"state in {args.state_dir}/ (resumed at journal offset {runtime.offset})", flush=True)
    stop = threading.Event()
    _stop_on_signals(stop)
    try:
        runtime.serve(stop)
    finally:
        runtime.close(drain_s=args.drain)
        console.server.stop()
    print("vigil serve: stopped", flush=True)
    return 0


def _open(args: argparse.Namespace) -> tuple[ConsoleSession, LiveRuntime]:
    """The console (serving, not ready yet) and the runtime restored from the state folder;
    then ingest is attached and ``/readyz`` turns 200."""
    from connectors.console.session import ConsoleSession, chosen_token
    from connectors.http.inputs import add_input_routes
    from connectors.reference import load_reference_option
    from connectors.rulefiles import load_rules
    from connectors.sender import OutboxDeliverer
    from connectors.serve.clock import ServeClock
    from connectors.serve.folder import lock
    from connectors.serve.runtime import LiveRuntime, ServeOptions
    from connectors.silences import DEFAULT_PATH, SilenceStore

    rules = load_rules(args.rules)
    silences = SilenceStore(DEFAULT_PATH)
    token = chosen_token(args.token, args.token_file)
    console = ConsoleSession.start(
        args.host, args.port, token, silences=silences, ready=False,
        limits=rules.runtime.http, routes=(add_input_routes,),
    )
    try:
        held = lock(args.state_dir)  # before the outbox: one dispatcher per folder
        options = ServeOptions(args.checkpoint_interval, clock=ServeClock(args.clock))
        options.replay = console.replay_options()
        options.replay.references = load_reference_option(args.references)
        deliverer = OutboxDeliverer(
            rules.routing, args.state_dir, silences=silences.load, metrics=options.replay.metrics
        )
        deliver = console.wrap(deliverer)
        runtime = LiveRuntime(rules, args.state_dir, deliver, options, held)
    except BaseException:
        console.server.stop()
        raise
    console.observe([], runtime.restored_incidents())
    console.state.ingest = runtime.ingest
    if options.clock is ServeClock.EVENT:  # requests are received at event time (backfill)
        console.state.event_clock = runtime.ingest.event_time
    console.server.call_soon(console.state.mark_ready)
    return console, runtime


def _stop_on_signals(stop: threading.Event) -> None:
    def handle(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
