"""The README's receiver defaults are the ones the code uses."""

from __future__ import annotations

from pathlib import Path

from connectors.limits import CircuitBreaker
from connectors.notify import CONCURRENCY, pagerduty, slack
from connectors.retry import Backoff
from engine.rules.routing import Receiver

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def _duration(seconds: float) -> str:
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def test_readme_lists_the_receiver_defaults_of_the_code() -> None:
    receiver = Receiver(name="x")
    assert f"| `timeout` | {_duration(receiver.timeout)} |" in README
    assert f"| `deadline` | {_duration(receiver.deadline)} |" in README
    rates = f"slack {slack.RATE_PER_MIN:g}, pagerduty {pagerduty.RATE_PER_MIN:g}, others unlimited"
    assert f"| `rate_per_min` | {rates} |" in README
    limits = ", ".join(f"{kind} {n}" for kind, n in sorted(CONCURRENCY.items()))
    assert f"| `concurrency` | {limits}, others 1 |" in README
    backoff = Backoff()
    assert f"{_duration(backoff.base_s)} doubling, capped at {_duration(backoff.cap_s)}" in README
    breaker = CircuitBreaker()
    assert (
        f"opens after {breaker.threshold} failures in a row, probes after "
        f"{_duration(breaker.cooldown_s)} (doubling up to {_duration(breaker.max_cooldown_s)})"
    ) in README
