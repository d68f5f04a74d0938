from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.ingest.logtemplate import TemplateMiner

words = st.sampled_from(["open", "close", "user", "disk", "42", "0x1f", "a.b", "10.0.0.1", "ok"])


@settings(max_examples=50, deadline=None)
@given(st.lists(st.lists(words, min_size=1, max_size=6).map(" ".join), min_size=1, max_size=60),
       st.integers(1, 5))
def test_templates_stay_bounded_and_ids_resolve(messages: list[str], cap: int) -> None:
    miner = TemplateMiner(max_templates=cap)
    state = miner.initial_state()
    for message in messages:
        match = miner.add(state, message)
        assert state.resolve(match.template_id) in state.templates or len(state.templates) == cap
        assert len(state.templates) <= cap
