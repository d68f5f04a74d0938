"""``vigil --version``, ``--log-format``/``--log-level`` and long log lines."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.cli import build_parser, main
from connectors.kafka.config import config_from_dict
from connectors.logformat import MAX_MESSAGE_CHARS, configure_logging, summarize
from connectors.metrics import vigil_version

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"vigil {vigil_version()}"
    assert vigil_version()[0].isdigit()


def test_log_options_go_before_or_after_the_command() -> None:
    parser = build_parser()
    before = parser.parse_args(["--log-format", "json", "--log-level", "debug", "check", "x"])
    after = parser.parse_args(["check", "x", "--log-format", "json", "--log-level", "debug"])
    neither = parser.parse_args(["check", "x"])
    assert (before.log_format, before.log_level) == ("json", "debug")
    assert (after.log_format, after.log_level) == ("json", "debug")
    assert (neither.log_format, neither.log_level) == (None, None)
    with pytest.raises(SystemExit):
        parser.parse_args(["--log-format", "xml", "check", "x"])


def test_json_logs_are_one_object_a_line_with_level_and_logger(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--log-format", "json", "--log-level", "info", "check", str(REPO / "rules")]) == 0
    log = logging.getLogger("vigil.test")
    log.debug("hidden")
    log.info("ready partitions=%d", 4)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["level"] == "info"
    assert entry["logger"] == "vigil.test"
    assert entry["message"] == "ready partitions=4"
    assert entry["ts"].endswith("Z")


def test_text_logs_carry_the_level(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("text", "warning")
    logging.getLogger("vigil.test").info("hidden")
    logging.getLogger("vigil.test").warning("offset commit skipped")
    (line,) = capsys.readouterr().err.splitlines()
    assert line.endswith(" WARNING vigil.test offset commit skipped")


def test_long_log_lines_are_capped_and_say_what_was_left_out(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("json", "info")
    late = [(f"anomaly-{i:04d}", 1_700_000_000.0 + i) for i in range(300)]
    logging.getLogger("vigil.incident").warning("late events late=%s", late)
    logging.getLogger("vigil.incident").warning("late events late=%s", summarize(late))
    capped, summarized = (json.loads(x)["message"] for x in capsys.readouterr().err.splitlines())
    assert len(capped) < MAX_MESSAGE_CHARS + 40
    assert capped.endswith("more characters)")
    assert summarized.endswith("... and 290 more")
    assert "anomaly-0009" in summarized
    assert "anomaly-0010" not in summarized


def test_worker_config_may_set_the_log_format_and_level() -> None:
    cfg = config_from_dict({"log_format": "json", "log_level": "debug"})
    assert (cfg.log_format, cfg.log_level) == ("json", "debug")
