"""Reference profiles on disk: ``vigil reference build`` and loading them for the engine.

``build_reference(model, input_path, ...)`` reads training data (CSV, JSON Lines, or Parquet
when pyarrow is installed), builds a profile with ``engine.detect.profile.build_profile`` and
writes ``<out_dir>/<model>.json``. ``load_references(dir)`` reads every profile in a folder;
the runtime hands them to the engine through ``Pipeline.from_rules(rules, references)``, which
builds the monitor with ``ModelMonitor.with_references`` (the engine takes data, never paths).
``vigil replay`` and ``vigil demo`` take ``--references DIR`` (a folder ``vigil reference build``
wrote into); a model with no profile there learns its reference from its first predictions.
CSV cells that parse as numbers are numbers, others are strings.

Registered in ``connectors/cli.py`` through ``SUBCOMMAND_MODULES`` (``register(subparsers)``).
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from typing import Any

from connectors.errors import ConnectorError
from engine.detect.profile import ReferenceProfile, Value, build_profile


def read_rows(path: Path) -> list[dict[str, Value]]:
    """Rows of a .csv, .jsonl or .parquet file as dicts."""
    if path.suffix == ".csv":
        with path.open(newline="") as f:
            return [{k: _cell(v) for k, v in row.items()} for row in csv.DictReader(f)]
    if path.suffix in (".jsonl", ".ndjson"):
        with path.open() as f:
            return [json.loads(line) for line in f if line.strip()]
    if path.suffix == ".parquet":
        try:
            import pyarrow.parquet as pq  # optional: only needed for parquet input
        except ImportError as exc:
            raise SystemExit("reading .parquet needs pyarrow: pip install pyarrow") from exc
        rows: list[dict[str, Value]] = pq.read_table(path).to_pylist()
        return rows
    raise SystemExit(f"{path}: expected .csv, .jsonl or .parquet")


def _cell(text: str | None) -> Value:
    if text is None or text == "":
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def build_reference(
    model: str,
    input_path: Path,
    out_dir: Path,
    prediction_column: str | None = None,
    exclude: tuple[str, ...] = (),
    max_samples: int = 10_000,
) -> Path:
    """Build and write ``out_dir/<model>.json``; returns its path."""
    rows = read_rows(input_path)
    names = [k for k in (rows[0] if rows else {}) if k != prediction_column and k not in exclude]
    columns = {n: [r.get(n) for r in rows] for n in names}
    predictions = [r.get(prediction_column) for r in rows] if prediction_column else None
    profile = build_profile(model, columns, predictions, max_samples=max_samples)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{model}.json"
    target.write_text(json.dumps(profile.to_dict()))
    return target


def load_references(folder: Path) -> dict[str, ReferenceProfile]:
    """Every ``*.json`` profile in ``folder``, by model name."""
    out: dict[str, ReferenceProfile] = {}
    for path in sorted(folder.glob("*.json")):
        data: dict[str, Any] = json.loads(path.read_text())
        profile = ReferenceProfile.from_dict(data)
        out[profile.model] = profile
    return out


def load_reference_option(folder: Path | None) -> dict[str, ReferenceProfile]:
    """The profiles of ``--references DIR`` on ``vigil replay`` / ``vigil demo`` (none: {})."""
    if folder is None:
        return {}
    if not folder.is_dir():
        raise ConnectorError(f"references folder not found: {folder}")
    return load_references(folder)


def register(subparsers: Any) -> None:
    """``vigil reference build --model M --input TRAIN.csv [--out references/]``."""
    ref = subparsers.add_parser("reference", help="reference profiles for model monitoring")
    sub = ref.add_subparsers(dest="reference_command", required=True)
    build = sub.add_parser("build", help="build a reference profile from training data")
    build.add_argument("--model", required=True)
    build.add_argument("--input", required=True, type=Path)
    build.add_argument("--out", default=Path("references"), type=Path)
    build.add_argument("--prediction-column", default=None)
    build.add_argument("--exclude", action="append", default=[], help="column to skip (repeat)")
    build.set_defaults(handler=_run_build)


def _run_build(args: argparse.Namespace) -> int:
    path = build_reference(
        args.model, args.input, args.out, args.prediction_column, tuple(args.exclude)
    )
    print(f"wrote {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry: ``python -m connectors.reference reference build ...``."""
    parser = argparse.ArgumentParser(prog="vigil")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    raise SystemExit(main())
