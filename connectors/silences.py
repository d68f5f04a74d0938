"""Silence store (a JSON file, replaced atomically) and the ``vigil silence`` subcommands.

``vigil silence add service=payments --for 2h --comment "db migration"``,
``vigil silence list``, ``vigil silence expire ID``. The delivery dispatcher reads the active
silences through ``SilenceStore.load``; matching itself is pure (``engine.act.silence``).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import orjson

from connectors.errors import ConnectorError
from engine.act.silence import Silence
from engine.rules.base import parse_duration

DEFAULT_PATH = Path(os.environ.get("VIGIL_SILENCES", "silences.json"))


class SilenceStore:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> list[Silence]:
        if not self.path.exists():
            return []
        try:
            return [Silence.from_dict(d) for d in orjson.loads(self.path.read_bytes())]
        except (orjson.JSONDecodeError, KeyError, ValueError) as exc:
            raise ConnectorError(f"{self.path}: not a silence file ({exc})") from None

    def save(self, silences: list[Silence]) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_bytes(orjson.dumps([s.to_dict() for s in silences], option=orjson.OPT_INDENT_2))
        tmp.replace(self.path)

    def add(self, silence: Silence) -> Silence:
        self.save([s for s in self.load() if s.id != silence.id] + [silence])
        return silence

    def expire(self, silence_id: str, now: float) -> Silence:
        silences = self.load()
        found = [s for s in silences if s.id == silence_id]
        if not found:
            raise ConnectorError(f"no silence with id {silence_id}")
        ended = found[0].expired_at(now)
        self.save([ended if s.id == silence_id else s for s in silences])
        return ended


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("silence", help="add, list or expire silences")
    p.add_argument("--store", type=Path, default=DEFAULT_PATH, help="silence file")
    verbs = p.add_subparsers(dest="verb", required=True)
    add = verbs.add_parser("add", help="mute matching actions for a while")
    add.add_argument("matchers", nargs="+", help="name=value, name!=value, name=~regex ...")
    add.add_argument("--for", dest="duration", default="1h", help="e.g. 30m, 2h (default 1h)")
    add.add_argument("--comment", default="")
    add.add_argument("--by", default=os.environ.get("USER", ""))
    verbs.add_parser("list", help="show silences (active and ended)")
    expire = verbs.add_parser("expire", help="end a silence now")
    expire.add_argument("id")
    p.set_defaults(handler=run_silence)


def run_silence(args: argparse.Namespace) -> int:
    store, now = SilenceStore(args.store), time.time()
    if args.verb == "add":
        try:
            ends = now + parse_duration(args.duration)
            silence = Silence.create(
                args.matchers, starts_at=now, ends_at=ends, created_by=args.by, comment=args.comment
            )
        except ValueError as exc:
            raise ConnectorError(str(exc)) from None
        print(store.add(silence).id)
    elif args.verb == "expire":
        print(f"expired {store.expire(args.id, now).id}")
    else:
        for s in store.load():
            state = "active" if s.active(now) else "ended"
            left = f"{(s.ends_at - now) / 60:.0f}m left" if s.active(now) else ""
            print(f"{s.id}  {state:6}  {' '.join(map(str, s.matchers))}  {left}  {s.comment}")
    return 0
