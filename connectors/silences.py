"""Silence store (a JSON file, replaced atomically) and the ``vigil silence`` subcommands.

``vigil silence add service=payments --for 2h --comment "db migration"``,
``vigil silence list``, ``vigil silence expire ID``. The delivery dispatcher reads the active
silences through ``SilenceStore.load``; matching itself is pure (``engine.act.silence``).

The same file store sits behind the HTTP API's silences endpoints (it implements
``connectors.http.silences.SilenceStore``), so a silence made over HTTP, by ``vigil silence``
or from the console is the one the deliverer reads. Changes are read-modify-write under a
thread lock and an exclusive ``flock`` on ``<file>.lock`` (API thread, replay thread and other
processes); readers never lock: the file is replaced atomically and ``load`` re-parses it only
when it changed (or changed in the last 2 s, finer than file times can tell).
"""

from __future__ import annotations

import argparse
import fcntl
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson

from connectors.errors import ConnectorError
from connectors.http.silences import SilenceRequest, silence_wire
from engine.act.silence import DEFAULT_MAX_SILENCE_S, Silence
from engine.events import JsonDict
from engine.rules.base import parse_duration

log = logging.getLogger("vigil.silences")

DEFAULT_PATH = Path(os.environ.get("VIGIL_SILENCES", "silences.json"))


class SilenceStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._cache: tuple[tuple[int, int, int], list[Silence]] | None = None

    def load(self) -> list[Silence]:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return []
        key = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        cached = self._cache
        settled = time.time_ns() - stat.st_mtime_ns > 2_000_000_000  # older than mtime precision
        if cached is not None and cached[0] == key and settled:
            return list(cached[1])
        try:
            silences = self._parse(orjson.loads(self.path.read_bytes()))
        except FileNotFoundError:
            return []
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise ConnectorError(f"{self.path}: not a silence file ({exc})") from None
        self._cache = (key, silences)
        return list(silences)

    def _parse(self, items: list[JsonDict]) -> list[Silence]:
        """The stored silences; one whose matcher is refused now (a regular expression RE2
        cannot run, accepted by older versions) is left out, with a warning."""
        silences = []
        for item in items:
            try:
                silences.append(Silence.from_dict(item))
            except ValueError as exc:
                if "regular expression" not in str(exc):
                    raise
                log.warning("%s: silence %s ignored: %s", self.path, item.get("id"), exc)
        return silences

    def save(self, silences: list[Silence]) -> None:
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(orjson.dumps([s.to_dict() for s in silences], option=orjson.OPT_INDENT_2))
        tmp.replace(self.path)
        self._cache = None

    def add(self, silence: Silence) -> Silence:
        with self._writing():
            self.save([s for s in self.load() if s.id != silence.id] + [silence])
        return silence

    def expire(self, silence_id: str, now: float) -> Silence:
        with self._writing():
            silences = self.load()
            found = [s for s in silences if s.id == silence_id]
            if not found:
                raise ConnectorError(f"no silence with id {silence_id}")
            ended = found[0].expired_at(now)
            self.save([ended if s.id == silence_id else s for s in silences])
        return ended

    @contextmanager
    def _writing(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(f"{self.path.name}.lock")
        with self._lock, lock_path.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # The HTTP API's ``SilenceStore`` port (connectors.http.silences)

    def list_silences(self, now: float) -> list[JsonDict]:
        return [silence_wire(s, now) for s in sorted(self.load(), key=lambda s: s.id)]

    def add_silence(self, request: SilenceRequest) -> JsonDict:
        return silence_wire(self.add(request.silence()), request.starts_at)

    def expire_silence(self, silence_id: str, now: float) -> bool:
        try:
            self.expire(silence_id, now)
        except ConnectorError:
            return False
        return True


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
            duration = parse_duration(args.duration)
            if duration > DEFAULT_MAX_SILENCE_S:
                raise ValueError(f"--for {args.duration}: the limit is 90d")
            ends = now + duration
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
