"""The ``vigil`` command line: replay, demo, check (and the subcommands other modules register).

Each subcommand module exposes ``register(subparsers)``; it must keep heavy imports inside its
handler so ``vigil --help`` stays quick.
"""

from __future__ import annotations

import argparse
import importlib
import io
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from connectors.errors import ConnectorError
from connectors.logformat import LOG_FORMATS, LOG_LEVELS, configure_logging
from connectors.metrics import VigilMetrics, vigil_version
from connectors.progress import ProgressBar
from connectors.reference import load_reference_option
from connectors.replay import ReplayOptions, ReplayResult, replay
from connectors.report import is_noise, render_actions, render_incident, render_noise
from connectors.rulefiles import load_rules
from connectors.sender import OutboxDeliverer
from connectors.silences import DEFAULT_PATH as SILENCES_PATH
from connectors.silences import SilenceStore
from engine.detect.profile import ReferenceProfile
from engine.rules import RuleError, RuleSet

# Modules that add subcommands: each has ``register(subparsers) -> None``.
SUBCOMMAND_MODULES: tuple[str, ...] = (
    "connectors.silences",  # vigil silence
    "connectors.reference",  # vigil reference build
    "connectors.kafka.app",  # vigil worker
    "connectors.kafka.load",  # vigil load
    "connectors.serve.command",  # vigil serve
)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    configure_logging(args.log_format or "text", args.log_level or "warning")
    try:
        return int(args.handler(args))
    except RuleError as exc:
        print(exc, file=sys.stderr)
        return 1
    except ConnectorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vigil", description="Streaming AIOps engine.")
    parser.add_argument("--version", action="version", version=f"vigil {vigil_version()}")
    _add_log_options(parser, default=None)
    sub = parser.add_subparsers(title="commands")
    p = sub.add_parser("replay", help="replay a scenario folder through the whole pipeline")
    p.add_argument("scenario", type=Path, help="folder with metrics.jsonl, logs.jsonl, ...")
    p.add_argument("--out", type=Path, required=True, help="folder for the outputs")
    p.add_argument("--rules", type=Path, action="append", help="rule file or folder (repeatable)")
    p.add_argument("--quiet", action="store_true", help="print the summary only")
    p.add_argument("--serve", action="store_true", help="serve the HTTP API and web console")
    p.add_argument("--port", type=int, default=8080, help="HTTP port (0: any free port)")
    _token_arguments(p)
    p.add_argument("--references", type=Path, help="folder of model reference profiles")
    p.set_defaults(handler=_cmd_replay)
    d = sub.add_parser("demo", help="generate a demo scenario, replay it, show the incidents")
    d.add_argument("--out", type=Path, help="keep the scenario and outputs in this folder")
    d.add_argument("--seed", type=int, default=7)
    d.add_argument("--rules", type=Path, action="append", help="rule file or folder")
    d.add_argument("--references", type=Path, help="folder of model reference profiles")
    d.add_argument("--serve", action="store_true", help="serve the web console on the incidents")
    d.add_argument("--port", type=int, default=8080, help="HTTP port (0: any free port)")
    _token_arguments(d)
    d.set_defaults(handler=_cmd_demo)
    c = sub.add_parser(
        "check",
        help="validate rule files, worker configs and ConfigMaps; print file:line: key: message",
    )
    c.add_argument("paths", type=Path, nargs="+")
    c.set_defaults(handler=_cmd_check)
    for module in SUBCOMMAND_MODULES:
        importlib.import_module(module).register(sub)
    for command in sub.choices.values():  # also accepted after the command name
        _add_log_options(command, default=argparse.SUPPRESS)
    return parser


def _add_log_options(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default=default,
        help="text (default) or json, one object a line (a worker config may set log_format)",
    )
    parser.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        default=default,
        help="lowest level logged (default: info for worker, warning otherwise)",
    )


def _token_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--token",
        help="API token of --serve's write endpoints (visible to other local users in ps; "
        "prefer --token-file or VIGIL_API_TOKEN; default: a random one, printed)",
    )
    p.add_argument("--token-file", type=Path, help="file holding the API token")


def _cmd_check(args: argparse.Namespace) -> int:
    missing = [p for p in args.paths if not p.exists()]
    if missing:
        raise ConnectorError(f"no such file or folder: {', '.join(map(str, missing))}")
    from connectors.configcheck import check_paths

    report = check_paths(args.paths)
    for warning in report.warnings:
        print(warning, file=sys.stderr)
    for skipped in report.skipped:
        print(f"{skipped}: skipped: no Vigil file in it (a manifest without ConfigMap files)")
    print(
        f"ok: {report.rule_files} rule file(s), {report.worker_configs} worker config(s) valid, "
        f"{len(report.warnings)} warning(s)"
    )
    return 0


def _cmd_replay(args: argparse.Namespace) -> int:
    if not args.scenario.is_dir():
        raise ConnectorError(f"scenario folder not found: {args.scenario}")
    rules = load_rules(args.rules)
    args.out.mkdir(parents=True, exist_ok=True)
    run = RunOptions(
        args.quiet,
        args.port if args.serve else None,
        references=load_reference_option(args.references),
        token=_serve_token(args),
    )
    _replay_and_serve(args.scenario, args.out, rules, run)
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from connectors.files import write_scenario
    from testing.scenarios.shop import generate_scenario

    rules = load_rules(args.rules)
    scenario = generate_scenario(seed=args.seed)
    with tempfile.TemporaryDirectory(prefix="vigil-demo-") as tmp:
        base = args.out or Path(tmp)
        folder, out = base / "scenario", base / "out"
        write_scenario(folder, scenario.records, scenario.topology)
        print(
            f"demo: {len(scenario.services)} services, "
            f"{sum(len(v) for v in scenario.records.values()):,} records; "
            f"injected: bad deploy of {scenario.truth.root_cause}, "
            f"noise on {scenario.truth.noise_service}"
        )
        out.mkdir(parents=True, exist_ok=True)
        run = RunOptions(
            True,
            args.port if args.serve else None,
            shown=args.out is not None,
            references=load_reference_option(args.references),
            token=_serve_token(args),
        )
        _replay_and_serve(folder, out, rules, run)
    return 0


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How a replay is shown: quiet console receiver, HTTP port (None: no server), whether the
    output folder is worth printing, and stored model reference profiles."""

    quiet: bool = False
    port: int | None = None
    shown: bool = True
    references: Mapping[str, ReferenceProfile] = field(default_factory=dict)
    token: str | None = field(default=None, repr=False)


def _serve_token(args: argparse.Namespace) -> str | None:
    """``--token`` / ``--token-file`` / ``VIGIL_API_TOKEN`` (only with ``--serve``)."""
    from connectors.console.session import chosen_token

    return chosen_token(args.token, args.token_file) if args.serve else None


def _replay_and_serve(folder: Path, out: Path, rules: RuleSet, run: RunOptions) -> ReplayResult:
    """Replay ``folder``; with a ``port``, serve the HTTP API and console during and after it
    (``/readyz`` turns ready once the pipeline state is set up) until Ctrl-C."""
    from connectors.console.session import open_console

    silences = SilenceStore(SILENCES_PATH)  # the one store: HTTP, ``vigil silence``, delivery
    console = None
    if run.port is not None:
        console = open_console(
            run.port, silences=silences, ready=False, token=run.token, limits=rules.runtime.http
        )
    options = console.replay_options() if console else ReplayOptions()
    options.references = dict(run.references)
    deliver = _deliverer(rules, out, run.quiet, silences, options.metrics)
    result = replay(
        folder,
        out,
        rules,
        console.wrap(deliver) if console else deliver,
        options,
        progress=ProgressBar("replay"),
    )
    print_summary(result, out if run.shown else None)
    if console:
        print(f"\nconsole: {console.shown_url}  (Ctrl-C to stop)", flush=True)
        console.serve_until_interrupted()
    return result


def _deliverer(
    rules: RuleSet, out: Path, quiet: bool, silences: SilenceStore, metrics: VigilMetrics
) -> OutboxDeliverer:
    """Durable delivery: decided actions go through a SQLite outbox in ``out`` to receivers."""
    return OutboxDeliverer(
        rules.routing,
        out,
        stream=io.StringIO() if quiet else None,
        silences=silences.load,
        metrics=metrics,
    )


def print_summary(result: ReplayResult, out: Path | None) -> None:
    c = result.counts
    print(
        f"\n{result.events_in:,} events in {result.elapsed_s:.1f}s: {c['anomalies']} anomalies, "
        f"{len(result.incidents)} incident(s) ({c['incidents']} records), "
        f"{c['actions']} actions, {c['retrain']} retrain requests, "
        f"{c['dead_letters']} dead letters"
    )
    for reason, n in result.dead_letter_reasons.most_common(5):
        print(f"  dead letters: {n} x {reason}")
    ordered = sorted(result.incidents.values(), key=lambda i: (i.opened_at, i.id))
    for incident in (i for i in ordered if not is_noise(i)):
        print()
        print(render_incident(incident))
        print(render_actions(result.actions, incident.id))
    noise = [i for i in ordered if is_noise(i)]
    if noise:
        print(f"\nunconfirmed (not paged): {len(noise)} short-lived candidate(s)")
        for incident in noise:
            print(render_noise(incident))
    if out is not None:
        print(f"\noutputs in {out}/")
