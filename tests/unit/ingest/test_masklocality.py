from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml

from engine.ingest.masking import DEFAULT_MASKS, Masker, MaskMemo, MaskPattern
from engine.ingest.masklocality import WHITESPACE, is_digit_blind, is_token_local


def test_whitespace_list_is_what_str_split_splits_on() -> None:
    every = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())
    assert every == WHITESPACE


def test_default_masks_but_datetime_are_token_local() -> None:
    local = [is_token_local(re.compile(m.regex), m.replacement) for m in DEFAULT_MASKS]
    assert [m.name for m, ok in zip(DEFAULT_MASKS, local, strict=True) if not ok] == ["datetime"]


@pytest.mark.parametrize("regex", [r"\d+ms\b", r"(?<![\w.])0x[0-9a-f]+", r"[A-Z]{2,}-\d+",
                                   r"user=\w+", r"(?:[a-z]+\.){2,}[a-z]+", r"(?<=id:)\S+"])
def test_regexes_that_never_touch_whitespace_are_token_local(regex: str) -> None:
    assert is_token_local(re.compile(regex), "<*>")


@pytest.mark.parametrize("regex", [r"\s\d+", r"a.b", r"^\d+", r"\d+$", r"\d*", r"[^x]+",
                                   r"(?<![^\n])\d+", r"\Aok", r"a b", r"(?s)x.", r"(?a)[^\S]x"])
def test_regexes_that_may_see_whitespace_are_not(regex: str) -> None:
    assert not is_token_local(re.compile(regex), "<*>")


@pytest.mark.parametrize("replacement", ["<a b>", "\\1", "x\ty"])
def test_replacements_that_may_add_spaces_are_not(replacement: str) -> None:
    assert not is_token_local(re.compile(r"(\d+)"), replacement)


def test_masks_after_the_last_whole_line_mask_run_per_token() -> None:
    masks = (MaskPattern("word", r"\d+"), MaskPattern("pair", r"\w+ \w+", "<p>"),
             MaskPattern("hex", r"0x[0-9a-f]+"), MaskPattern("ms", r"\d+ms"))
    assert Masker(masks).token_chain_length == 2
    assert Masker(masks[:1] + masks[2:]).token_chain_length == 3


def test_deleting_mask_drops_emptied_tokens_like_whole_line_masking() -> None:
    masker = Masker((MaskPattern("digits", r"\d+", ""),))
    assert masker.token_chain_length == 1
    message = "took 12 ms on 7 disks"
    assert masker.tokens(message, MaskMemo(masker)) == masker.mask(message).split()
    assert masker.tokens(message) == ["took", "ms", "on", "disks"]


def test_memo_stays_bounded_and_never_changes_results() -> None:
    masker = Masker()
    memo = MaskMemo(masker, max_tokens=8, max_lines=4)
    messages = [f"req {i} from host-{i % 7} took {i * 3}ms user=u{i % 5}" for i in range(50)]
    for message in messages + messages:
        assert memo.key(message) == " ".join(masker.mask(message).split())
        assert len(memo.masked_tokens) <= 8
        assert len(memo.lines) <= 4
        assert len(memo.shapes) <= 4


@pytest.mark.parametrize(("regex", "blind"), [
    (r"[0-9a-fA-F]{8}", True), (r"(?<![\w.<])[-+]?\d+(?![\w.])", True), (r"\w+=\S+", True),
    (r"0x[0-9a-f]+", False), (r"[1-5]\d\d", False), (r"(\d)\1", False), (r"port 80\b", False),
    (r"[^7]", False),
])
def test_digit_blind_regexes_treat_every_digit_alike(regex: str, blind: bool) -> None:
    assert is_digit_blind(re.compile(regex)) is blind


def test_shipped_masks_run_per_token_and_by_digit_shape() -> None:
    text = (Path(__file__).parents[3] / "rules" / "logs.yaml").read_text(encoding="utf-8")
    masks = tuple(MaskPattern(m["name"], m["regex"], m.get("replacement", "<*>"))
                  for m in yaml.safe_load(text)["logs"]["masking"])
    masker = Masker(masks)
    assert masker.token_chain_length == len(masks)
    assert all(is_digit_blind(re.compile(m.regex)) for m in masks)
