"""Rule section ``routing``: receivers, the routing tree, inhibition and maintenance windows.

Secrets (Slack webhook URLs, PagerDuty routing keys, HMAC keys, tokens) are only ever named
here by reference, ``<field>_env`` (an environment variable) or ``<field>_file`` (a file), and
resolved by the connectors at start-up. A plain-text secret in a rule file is an error whose
message never repeats the value.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal

from pydantic import AfterValidator, AwareDatetime, Field, field_validator, model_validator

from engine.rules.base import DurationS, StrictModel
from engine.rules.errors import RuleProblem
from engine.rules.matchers import Matcher, matchers_of, parse_matcher

if TYPE_CHECKING:
    from engine.rules.schema import Locator, RuleSet

ReceiverType = Literal["console", "file", "slack", "pagerduty", "webhook", "runbook"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
PLAIN_SECRET_KEYS: Final = ("webhook_url", "routing_key", "secret", "token", "password", "api_key")


def _check_matcher(text: str) -> str:
    parse_matcher(text)
    return text


MatcherText = Annotated[str, AfterValidator(_check_matcher)]


class Receiver(StrictModel):
    """Where actions go. Which keys a type needs is checked by ``check_routing``."""

    name: str = Field(min_length=1)
    type: ReceiverType = "console"
    enabled: bool = True
    path: str | None = None
    """``file``: JSON Lines file, relative to the output folder."""
    url: str | None = None
    """``pagerduty`` (API endpoint override), ``webhook``, ``runbook`` (fixed, never templated)."""
    url_env: str | None = None
    url_file: str | None = None
    webhook_url_env: str | None = None
    webhook_url_file: str | None = None
    routing_key_env: str | None = None
    routing_key_file: str | None = None
    secret_env: str | None = None
    secret_file: str | None = None
    token_env: str | None = None
    token_file: str | None = None
    params: dict[str, str] = Field(default_factory=dict)
    """``runbook``: JSON body fields, templated with ``${incident}``, ``${node}``, ..."""
    timeout: DurationS = 10.0
    """Timeout of one outbound call."""
    deadline: DurationS = 3600.0
    """Retry (capped exponential backoff) until this long after the action was decided."""
    rate_per_min: float | None = Field(None, gt=0)
    """Sending rate limit; defaults (``connectors.notify``): slack 54, pagerduty 120, others
    unlimited."""
    concurrency: int | None = Field(None, gt=0, le=64)
    """Requests in flight at most; defaults (``connectors.notify``): webhook and runbook 4,
    others 1."""
    webhook_url: str | None = None
    routing_key: str | None = None
    secret: str | None = None
    token: str | None = None
    password: str | None = None
    api_key: str | None = None

    @field_validator(*PLAIN_SECRET_KEYS)
    @classmethod
    def _reject_plain_secret(cls, value: str | None, info: Any) -> None:
        if value is not None:
            key = info.field_name
            raise ValueError(
                "plain-text secrets are not allowed in rule files: name an environment variable "
                f"with {key}_env or a file with {key}_file (value not shown)"
            )
        return None

    @field_validator("timeout")
    @classmethod
    def _positive_timeout(cls, value: float) -> float:
        if value <= 0:
            raise ValueError(f"must be > 0 (got {value})")
        return value

    def __repr__(self) -> str:  # secrets are references only, but keep repr short and safe
        return f"Receiver(name={self.name!r}, type={self.type!r}, enabled={self.enabled})"


class Route(StrictModel):
    """A node of the routing tree; unset timings are inherited from the parent route."""

    receiver: str | None = None
    match: dict[str, str] = Field(default_factory=dict)
    """Exact matches on ``kind``, ``severity``, ``status``, ``node`` and incident labels."""
    matchers: list[MatcherText] = Field(default_factory=list)
    continue_matching: bool = Field(False, alias="continue")
    group_wait: DurationS | None = None
    group_interval: DurationS | None = None
    repeat_interval: DurationS | None = None
    flap_hold: DurationS | None = None
    """Hold a new page this long: an incident resolving sooner is never paged."""
    routes: list[Route] = Field(default_factory=list)

    def conditions(self) -> tuple[Matcher, ...]:
        return matchers_of(self.match, self.matchers)


class InhibitRule(StrictModel):
    """While a source incident fires, targets with the same ``equal`` labels are muted."""

    source_match: dict[str, str] = Field(default_factory=dict)
    source_matchers: list[MatcherText] = Field(default_factory=list)
    target_match: dict[str, str] = Field(default_factory=dict)
    target_matchers: list[MatcherText] = Field(default_factory=list)
    equal: list[str] = Field(default_factory=list)

    def sources(self) -> tuple[Matcher, ...]:
        return matchers_of(self.source_match, self.source_matchers)

    def targets(self) -> tuple[Matcher, ...]:
        return matchers_of(self.target_match, self.target_matchers)


_CLOCK: Final = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def _minute_of_day(text: str) -> str:
    if not _CLOCK.match(text):
        raise ValueError(f"expected HH:MM in UTC (got {text!r})")
    return text


class WeeklyWindow(StrictModel):
    """Every listed weekday from ``start`` to ``end`` (UTC, ``end`` may pass midnight)."""

    days: list[Weekday] = Field(min_length=1)
    start: Annotated[str, AfterValidator(_minute_of_day)]
    end: Annotated[str, AfterValidator(_minute_of_day)]


class MaintenanceWindow(StrictModel):
    """New pages for matching incidents are muted during the window (sent after, if firing)."""

    name: str = Field(min_length=1)
    match: dict[str, str] = Field(default_factory=dict)
    matchers: list[MatcherText] = Field(default_factory=list)
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    weekly: list[WeeklyWindow] = Field(default_factory=list)

    @model_validator(mode="after")
    def _has_a_time(self) -> MaintenanceWindow:
        if (self.starts_at is None) != (self.ends_at is None):
            raise ValueError("starts_at and ends_at go together")
        if self.starts_at is None and not self.weekly:
            raise ValueError("needs starts_at/ends_at or weekly")
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self

    def conditions(self) -> tuple[Matcher, ...]:
        return matchers_of(self.match, self.matchers)

    def bounds_s(self) -> tuple[float, float] | None:
        if self.starts_at is None or self.ends_at is None:
            return None
        return (_epoch(self.starts_at), _epoch(self.ends_at))


def _epoch(moment: datetime) -> float:
    return moment.timestamp()


class RoutingRules(StrictModel):
    receivers: list[Receiver] = Field(default_factory=lambda: [Receiver(name="console")])
    route: Route = Field(default_factory=lambda: Route(receiver="console"))
    inhibit_rules: list[InhibitRule] = Field(default_factory=list)
    maintenance_windows: list[MaintenanceWindow] = Field(default_factory=list)
    external_url: str | None = None
    """The console's external base URL (``https://vigil.example.com``): notifications link to
    ``{external_url}/#/incident/{id}``. Unset: no link."""

    @field_validator("external_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("external_url must start with https:// or http://")
        return value.rstrip("/") if value is not None else None

    def receiver(self, name: str) -> Receiver | None:
        return next((r for r in self.receivers if r.name == name), None)


# Keys each receiver type may use; (a, b) means exactly one of them is required.
_TYPE_KEYS: Final[dict[str, tuple[set[str], list[tuple[str, ...]]]]] = {
    "console": (set(), []),
    "file": ({"path"}, [("path",)]),
    "slack": ({"webhook_url_env", "webhook_url_file"}, [("webhook_url_env", "webhook_url_file")]),
    "pagerduty": (
        {"routing_key_env", "routing_key_file", "url"},
        [("routing_key_env", "routing_key_file")],
    ),
    "webhook": (
        {"url", "url_env", "url_file", "secret_env", "secret_file"},
        [("url", "url_env", "url_file"), ("secret_env", "secret_file")],
    ),
    "runbook": ({"url", "params", "token_env", "token_file"}, [("url",)]),
}
_OPTIONAL_KEYS: Final = {"url", "url_env", "url_file", "path", "params"} | {
    f"{base}_{how}"
    for base in ("webhook_url", "routing_key", "secret", "token")
    for how in ("env", "file")
}


def check_routing(rules: RuleSet, at: Locator) -> list[RuleProblem]:
    """Unique receiver names, per-type keys, known receivers in routes, safe runbook URLs."""
    problems: list[RuleProblem] = []
    names: set[str] = set()
    for i, receiver in enumerate(rules.routing.receivers):
        path = ("routing", "receivers", i)
        if receiver.name in names:
            problems.append(
                at.problem((*path, "name"), f"duplicate receiver name {receiver.name!r}")
            )
        names.add(receiver.name)
        problems.extend(_check_receiver(receiver, path, at))
    if rules.routing.route.receiver is None:
        problems.append(at.problem(("routing", "route", "receiver"), "the root route needs one"))
    _check_route(rules.routing.route, ("routing", "route"), names, at, problems)
    return problems


def _check_receiver(receiver: Receiver, path: tuple[str | int, ...], at: Locator) -> list[Any]:
    allowed, required = _TYPE_KEYS[receiver.type]
    problems = []
    for key in sorted(_OPTIONAL_KEYS - allowed):
        if getattr(receiver, key):
            problems.append(
                at.problem((*path, key), f"not used by receivers of type {receiver.type}")
            )
    for group in required:
        given = [k for k in group if getattr(receiver, k)]
        if len(given) != 1:
            problems.append(
                at.problem(
                    (*path, group[0]),
                    f"a {receiver.type} receiver needs exactly one of {', '.join(group)}",
                )
            )
    if receiver.type == "runbook" and receiver.url:
        problems.extend(_check_fixed_url(receiver.url, (*path, "url"), at))
    return problems


def _check_fixed_url(url: str, path: tuple[str | int, ...], at: Locator) -> list[RuleProblem]:
    if not re.match(r"^https?://[^/?#${}]+", url) or any(c in url for c in "${}"):
        return [at.problem(path, f"must be a fixed http(s) URL without templates (got {url!r})")]
    return []


def _check_route(
    route: Route,
    path: tuple[str | int, ...],
    names: set[str],
    at: Locator,
    problems: list[RuleProblem],
) -> None:
    if route.receiver is not None and route.receiver not in names:
        problems.append(
            at.problem(
                (*path, "receiver"),
                f"unknown receiver {route.receiver!r} "
                f"(defined: {', '.join(sorted(names)) or 'none'})",
            )
        )
    for j, child in enumerate(route.routes):
        _check_route(child, (*path, "routes", j), names, at, problems)
