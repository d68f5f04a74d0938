"""ActionPlanner timelines: records in at event times, actions out, side by side."""

from __future__ import annotations

from engine.act.planner import ActionPlanner, _example_batch, _incident
from engine.act.planner_state import PlannerState
from engine.events import Action, ActionStatus, Incident, IncidentStatus, Severity
from engine.rules import parse

OPEN, UPDATED, RESOLVED = IncidentStatus.OPEN, IncidentStatus.UPDATED, IncidentStatus.RESOLVED

RULES = """
routing:
  receivers:
    - {name: console}
    - {name: pager, type: pagerduty, routing_key_env: PD_KEY}
    - {name: chat, type: slack, webhook_url_env: SLACK_URL, enabled: false}
  route:
    receiver: console
    group_wait: 30s
    group_interval: 5m
    repeat_interval: 1h
    routes:
      - {receiver: pager, match: {severity: critical}, flap_hold: 2m, continue: true}
      - {receiver: chat, continue: true}
      - {receiver: console}
  inhibit_rules:
    - {source_match: {severity: critical}, target_match: {severity: warning}, equal: [cluster]}
  maintenance_windows:
    - name: db-upgrade
      match: {service: db}
      starts_at: "1970-01-01T00:00:00Z"
      ends_at: "1970-01-01T01:00:00Z"
"""


def planner(text: str = RULES) -> ActionPlanner:
    return ActionPlanner.from_rules(parse(text, "test.yaml").routing)


def run(
    op: ActionPlanner, timeline: list[tuple[float, list[Incident]]]
) -> list[tuple[float, str, str, str]]:
    """Feed ``(now, records)`` steps; return ``(ts, receiver, event, status)`` of each action."""
    state = op.initial_state()
    seen: list[Action] = []
    for now, records in timeline:
        state, out = op.process(state, records, now=now)
        seen.extend(out)
    return [(a.ts, a.receiver, str(a.payload["event"]), a.status.value) for a in seen]


def inc(iid: str, status: IncidentStatus, ts: float, **kw: object) -> Incident:
    return _incident(iid, status, ts, **kw)  # type: ignore[arg-type]


def test_first_page_waits_group_wait_and_folds_early_updates() -> None:
    op = planner()
    state, out = op.process(
        op.initial_state(), [inc("i", OPEN, 0.0, severity=Severity.WARNING)], now=0.0
    )
    assert out == []
    state, out = op.process(
        state,
        [inc("i", UPDATED, 10.0, severity=Severity.WARNING, revision=1, cause="db")],
        now=29.0,
    )
    assert out == []
    state, out = op.process(state, [], now=30.0)
    assert [(a.receiver, a.payload["event"]) for a in out] == [("console", "trigger")]
    assert out[0].payload["incident"]["revision"] == 1  # type: ignore[index]


def test_critical_goes_to_pager_after_flap_hold_and_disabled_receiver_gets_nothing() -> None:
    actions = run(planner(), [(0.0, [inc("i", OPEN, 0.0)]), (60.0, []), (120.0, [])])
    assert actions == [
        (30.0, "console", "trigger", "decided"),  # at its due time, not when ``now`` got there
        (120.0, "pager", "trigger", "decided"),
    ]


def test_actions_and_their_times_do_not_depend_on_how_now_advances() -> None:
    """Two runtimes give the same records but move ``now`` differently (the embedded replay
    per batch, a worker by upstream watermarks): the actions must be the same, ids and times.
    Before, each fired at the ``now`` that passed its due time, and an update carried the
    revision in force then."""
    records = [
        inc("i", OPEN, 0.0),
        inc("i", UPDATED, 100.0, revision=1, cause="db"),
        inc("i", UPDATED, 500.0, revision=2, cause="cache"),
        inc("i", UPDATED, 700.0, revision=3, severity=Severity.ERROR, cause="cache"),
        inc("i", RESOLVED, 9000.0, revision=4, cause="cache"),
    ]

    def decided(step: float) -> list[tuple[str, float, object]]:
        op, state, out = planner(), PlannerState(), []
        now, pending = 0.0, list(records)
        while now <= 10_000.0:
            batch = [r for r in pending if r.updated_at <= now]
            pending = pending[len(batch) :]
            state, actions = op.process(state, batch, now=now)
            out += [(a.id, a.ts, a.payload["event"]) for a in actions]
            now += step
        return out

    fine = decided(10.0)
    assert [event for _, _, event in fine].count("update") >= 2
    assert decided(370.0) == fine
    assert decided(2000.0) == fine


def test_incident_resolving_within_flap_hold_is_never_paged() -> None:
    actions = run(
        planner(),
        [(0.0, [inc("i", OPEN, 0.0)]), (30.0, []), (90.0, [inc("i", RESOLVED, 90.0)]), (600.0, [])],
    )
    assert actions == [
        (30.0, "console", "trigger", "decided"),
        (90.0, "console", "resolve", "decided"),
    ]


def test_flapping_incident_is_held_not_repaged() -> None:
    timeline = [
        (0.0, [inc("i", OPEN, 0.0)]),
        (30.0, []),
        (120.0, []),  # paged at 120 on pager
        (300.0, [inc("i", RESOLVED, 300.0, revision=1)]),  # resolve held 2m for the pager
        (360.0, [inc("i", UPDATED, 360.0, revision=2)]),  # back before the hold ended
        (1000.0, []),
    ]
    actions = run(planner(), timeline)
    pager = [a for a in actions if a[1] == "pager"]
    assert pager == [(120.0, "pager", "trigger", "decided")]
    console = [a[2] for a in actions if a[1] == "console"]
    assert console == ["trigger", "resolve", "trigger"]  # console has no flap hold


def test_content_change_after_page_is_sent_no_sooner_than_group_interval() -> None:
    timeline = [
        (0.0, [inc("i", OPEN, 0.0, severity=Severity.WARNING)]),
        (30.0, []),
        (60.0, [inc("i", UPDATED, 60.0, severity=Severity.WARNING, revision=1, cause="db")]),
        (329.0, []),
        (330.0, []),
        (340.0, [inc("i", UPDATED, 340.0, severity=Severity.WARNING, revision=2, cause="db")]),
    ]
    assert run(planner(), timeline) == [
        (30.0, "console", "trigger", "decided"),
        (330.0, "console", "update", "decided"),
    ]


def test_firing_page_repeats_every_repeat_interval() -> None:
    timeline = [
        (0.0, [inc("i", OPEN, 0.0, severity=Severity.INFO)]),
        (30.0, []),
        (3630.0, []),
        (7230.0, []),
    ]
    events = [a[2] for a in run(planner(), timeline)]
    assert events == ["trigger", "repeat", "repeat"]


def test_critical_incident_inhibits_warning_in_same_cluster_until_it_resolves() -> None:
    crit = inc("a", OPEN, 0.0)
    warn = inc("b", OPEN, 0.0, severity=Severity.WARNING, cause="cart")
    crit, warn = (
        Incident(**{**_fields(crit), "labels": {"service": "payments", "cluster": "eu"}}),
        Incident(**{**_fields(warn), "labels": {"service": "cart", "cluster": "eu"}}),
    )
    resolved = Incident(**{**_fields(crit), "status": RESOLVED, "updated_at": 200.0})
    actions = run(planner(), [(0.0, [crit, warn]), (30.0, []), (200.0, [resolved]), (300.0, [])])
    about_b = [(a[0], a[2], a[3]) for a in actions if a[1] == "console"][1:]
    assert (30.0, "trigger", "suppressed") in about_b
    assert (200.0, "trigger", "decided") in about_b


def test_maintenance_window_mutes_new_pages_until_it_ends() -> None:
    db = inc("d", OPEN, 0.0, severity=Severity.WARNING, cause="db")
    actions = run(planner(), [(0.0, [db]), (30.0, []), (3599.0, []), (3600.0, [])])
    assert actions == [
        (30.0, "console", "trigger", "suppressed"),
        (3600.0, "console", "trigger", "decided"),
    ]


def test_action_ids_are_stable_and_distinct() -> None:
    op = ActionPlanner()
    _, first = op.process(op.initial_state(), _example_batch(), now=0.0)
    _, again = op.process(op.initial_state(), _example_batch(), now=0.0)
    assert [a.id for a in first] == [a.id for a in again]
    assert len({a.id for a in first}) == len(first) == 3
    assert all(a.dedup_key == a.incident and a.status is ActionStatus.DECIDED for a in first)


def test_state_round_trip_and_split_batches_give_same_outputs() -> None:
    op, batch = planner(), _example_batch()
    _, whole = op.process(op.initial_state(), batch, now=0.0)
    for cut in range(len(batch) + 1):
        state, head = op.process(op.initial_state(), batch[:cut], now=0.0)
        state = PlannerState.from_dict(state.to_dict())
        state, tail = op.process(state, batch[cut:], now=0.0)
        assert head + tail == whole
        before = state.to_dict()
        state, none = op.process(state, [], now=0.0)
        assert none == []
        assert state.to_dict() == before


def _fields(incident: Incident) -> dict[str, object]:
    return {f: getattr(incident, f) for f in Incident.__dataclass_fields__}
