from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.ingest.logtemplate import TemplateMiner
from engine.ingest.masking import DEFAULT_MASKS, Masker, MaskMemo, MaskPattern

words = st.sampled_from(["open", "close", "user", "disk", "42", "0x1f", "a.b", "10.0.0.1", "ok"])


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.lists(words, min_size=1, max_size=6).map(" ".join), min_size=1, max_size=60),
    st.integers(1, 5),
)
def test_templates_stay_bounded_and_ids_resolve(messages: list[str], cap: int) -> None:
    miner = TemplateMiner(max_templates=cap)
    state = miner.initial_state()
    for message in messages:
        match = miner.add(state, message)
        assert state.resolve(match.template_id) in state.templates or len(state.templates) == cap
        assert len(state.templates) <= cap


pieces = st.sampled_from(["Mon", "Jun", "9", "12:01:02", "2005", "PDT", "blk_-12", "(1.16",
                          "KB)", "ssh2", "node-12", "a=1", "x=ab12", "/var/log/x.log", "0x1f",
                          "12ms", "٣٤", "²", "-7", "ok,", "<*>", "key:5", "1.2.3.4:80"])


@settings(max_examples=200, deadline=None)
@given(st.lists(pieces, max_size=12), st.sampled_from([" ", "  ", "\t"]))
def test_token_wise_masking_equals_whole_line_masking(words: list[str], gap: str) -> None:
    masker = Masker()
    message = gap.join(words)
    assert masker.tokens(message) == masker.mask(message).split()
    assert masker.key(message) == " ".join(masker.mask(message).split())


CUSTOM_MASKS = [
    (MaskPattern("hex", r"0x[0-9a-f]+"), MaskPattern("num", r"(?<![\w.])\d+\b")),
    (MaskPattern("kv", r"(?<==)\w+", "V"), MaskPattern("digits", r"\d+", "")),
    (MaskPattern("two", r"\d+ \d+", "<pair>"), MaskPattern("ms", r"\d+ms\b")),
    (MaskPattern("head", r"^\w+", "H"), MaskPattern("dots", r"(?:\w+\.)+\w+")),
    (MaskPattern("ok", r"\b200\b", "OK"), MaskPattern("rep", r"(\d)\1+", "R")),
    (MaskPattern("low", r"[1-4]+", "L"), MaskPattern("n", r"\d+", "0")),
    tuple(DEFAULT_MASKS[1:]),  # the shipped rules/logs.yaml masks are these plus a uuid
]


@settings(max_examples=200, deadline=None)
@given(st.lists(pieces, max_size=12), st.sampled_from([" ", "  ", "\t"]),
       st.sampled_from(range(len(CUSTOM_MASKS))))
def test_custom_masks_token_path_equals_whole_line(words: list[str], gap: str,
                                                   which: int) -> None:
    masker = Masker(CUSTOM_MASKS[which])
    memo = MaskMemo(masker, max_tokens=16, max_lines=4)
    message = gap.join(words)
    expected = masker.mask(message).split()
    assert masker.tokens(message) == expected
    assert memo.key(message) == " ".join(expected)
    shifted = message.translate(str.maketrans("0123456789", "1234567890"))  # same digit shape
    assert memo.key(shifted) == " ".join(masker.mask(shifted).split())
