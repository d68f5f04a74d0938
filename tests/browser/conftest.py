"""Fixtures for the browser tests: a console serving a replayed scenario, and headless Chromium.

Chromium is Debian's package (``/usr/bin/chromium``), driven by Playwright with an explicit
executable path; nothing downloads a browser. Screenshots go to ``artifacts/browser/``.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from connectors.console.session import ConsoleSession
from connectors.files import write_scenario
from connectors.replay import ReplayOptions, replay
from connectors.rulefiles import load_rules
from connectors.sender import OutboxDeliverer
from testing.scenarios.shop import Scenario, generate_scenario

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "browser"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@dataclass(slots=True)
class Served:
    session: ConsoleSession
    scenario: Scenario
    folder: Path

    def replay(self) -> None:
        """Replay the scenario into the running console and wait until it is visible.

        It runs in its own thread: the outbox deliverer runs an event loop, and Playwright's
        sync API keeps one running in the test thread.
        """
        failures: list[BaseException] = []

        def run() -> None:
            try:
                self._replay()
            except BaseException as exc:  # re-raised in the test thread below
                failures.append(exc)

        worker = threading.Thread(target=run)
        worker.start()
        worker.join(timeout=120)
        if failures:
            raise failures[0]
        self.session.sync()

    def _replay(self) -> None:
        out = self.folder / "out"
        out.mkdir(exist_ok=True)
        rules = load_rules(None)
        deliver = self.session.wrap(OutboxDeliverer(rules.routing, out, stream=io.StringIO()))
        replay(
            self.folder / "scenario",
            out,
            rules,
            deliver,
            ReplayOptions(observe=self.session.observe),
        )


def _serve(tmp: Path, seed: int) -> Served:
    scenario = generate_scenario(seed=seed)
    write_scenario(tmp / "scenario", scenario.records, scenario.topology)
    return Served(ConsoleSession.start(port=0), scenario, tmp)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A console on 127.0.0.1:<free port> that has replayed the demo scenario (seed 7)."""
    running = _serve(tmp_path_factory.mktemp("console"), seed=7)
    running.replay()
    yield running
    running.session.server.stop()


@pytest.fixture
def empty_console(tmp_path: Path) -> Iterator[Served]:
    """A console that has not replayed anything yet (for live updates)."""
    running = _serve(tmp_path, seed=7)
    yield running
    running.session.server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: run `make browser-deps` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})  # type: ignore[attr-defined]
    opened = context.new_page()
    yield opened
    context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
