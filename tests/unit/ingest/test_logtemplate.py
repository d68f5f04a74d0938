from __future__ import annotations

import json

from engine.ingest.logtemplate import MinerState, TemplateMiner, parameters_of
from engine.ingest.masking import Masker
from engine.ingest.multiline import is_continuation


def test_masker_keeps_single_trailing_digit_names() -> None:
    assert (
        Masker().mask("open via SOCKS5 to 10.0.0.1:80 node-12 took 15ms")
        == "open via SOCKS5 to <*> <*> took <*>"
    )


def test_parameter_heavy_messages_keep_their_template() -> None:
    miner = TemplateMiner()
    state = miner.initial_state()
    ids = {
        miner.add(
            state,
            f"Receiving block blk_{i * 7919 + 100000} src: "
            f"/10.0.0.{i % 250}:{5000 + i} dest: /10.0.1.{i % 200}:50010",
        ).template_id
        for i in range(500)
    }
    assert len(ids) == 1
    assert len(state.templates) == 1


def test_two_alternative_words_stay_separate_templates() -> None:
    miner = TemplateMiner()
    state = miner.initial_state()
    starting = miner.add(state, "Starting the TrustedInstaller main loop.")
    ending = miner.add(state, "Ending the TrustedInstaller main loop.")
    assert starting.template_id != ending.template_id


def test_fourth_distinct_value_merges_siblings_into_oldest() -> None:
    miner = TemplateMiner()
    state = miner.initial_state()
    first = miner.add(state, "session closed for user cyrus")
    for user in ("news", "test"):
        miner.add(state, f"session closed for user {user}")
    merged = miner.add(state, "session closed for user root")
    assert merged.template_id == first.template_id
    assert merged.template == "session closed for user <*>"
    assert (
        state.resolve(miner.add(state, "session closed for user news").template_id)
        == first.template_id
    )


def test_template_cap_evicts_least_recently_matched() -> None:
    miner = TemplateMiner(max_templates=2)
    state = miner.initial_state()
    a = miner.add(state, "alpha one")
    miner.add(state, "beta gamma delta")
    miner.add(state, "alpha one")
    miner.add(state, "epsilon zeta eta theta")
    assert a.template_id in state.templates
    assert len(state.templates) == 2


def test_state_round_trip_gives_same_matches() -> None:
    miner = TemplateMiner()
    state = miner.initial_state()
    for i in range(20):
        miner.add(state, f"job {i} finished in {i}s on host-{i % 3}")
    copy = MinerState.from_dict(json.loads(json.dumps(state.to_dict())))
    for i in range(20, 30):
        message = f"job {i} failed on host-{i % 3}: disk full"
        assert miner.add(state, message) == miner.add(copy, message)


def test_parameters_of_returns_slot_values() -> None:
    assert parameters_of("GET <*> <*> in <*>", "GET /api/items/38 200 in 41ms") == [
        "/api/items/38",
        "200",
        "41ms",
    ]
    assert parameters_of("a <*> b", "completely different") == []


def test_continuation_lines() -> None:
    lines = [
        "\tat com.x.Y.z(Y.java:1)",
        "Caused by: java.io.IOException",
        "Traceback (most",
        "java.lang.IllegalStateException: boom",
        "ValueError: bad",
        "GET / 200",
        "user logged in",
    ]
    assert [is_continuation(m) for m in lines] == [True, True, True, True, True, False, False]


def test_values_of_one_key_are_variables_however_few() -> None:
    miner = TemplateMiner()
    state = miner.initial_state()
    root = miner.add(state, "auth failure; rhost=10.0.0.1 user=root")
    guest = miner.add(state, "auth failure; rhost=10.0.0.2 user=guest")
    assert guest.template_id == root.template_id
    assert guest.template == "auth failure; rhost=<*> user=<*>"


def test_first_word_stays_a_constant() -> None:
    miner = TemplateMiner()
    state = miner.initial_state()
    ids = {miner.add(state, f"{daemon} startup succeeded").template_id
           for daemon in ("cupsd", "syslogd", "klogd", "portmap", "hcid")}
    assert len(ids) == 5


def test_masked_tokens_with_different_keys_do_not_agree() -> None:
    miner = TemplateMiner()
    state = miner.initial_state()
    steps = miner.add(state, "setTodayTotalDetailSteps=1514038440000##7007")
    minute = miner.add(state, "setWriteDBLastDataMinute=25233979")
    assert steps.template_id != minute.template_id


def test_values_spanning_more_tokens_join_the_same_group() -> None:
    miner = TemplateMiner()
    state = miner.initial_state()
    short = miner.add(state, "proxy:5070 close, 403 bytes sent, 426 bytes received")
    long = miner.add(state, "proxy:5070 close, 1190 bytes (1.16KB) sent, 426 bytes received")
    assert (long.template_id, long.created) == (short.template_id, False)
    other = miner.add(state, "proxy:5070 open through proxy 10.0.0.1:5070 HTTPS")
    assert other.created
    assert other.template_id != short.template_id


def test_version_1_state_upgrades() -> None:
    miner = TemplateMiner()
    state = miner.initial_state()
    first = miner.add(state, "disk sda1 failed after 3 retries")
    old = state.to_dict()
    old["version"] = 1
    old["templates"] = [row[:5] for row in old["templates"]]
    del old["skeletons"]
    upgraded = MinerState.from_dict(json.loads(json.dumps(old)))
    assert upgraded.to_dict() == state.to_dict()
    assert miner.add(upgraded, "disk sda1 failed after 3 retries").template_id == \
        first.template_id
