"""Silences: matching (pure) and the JSON store with add / list / expire."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from connectors.silences import SilenceStore
from engine.act.silence import Silence, silence_covering


def test_silence_covers_matching_labels_only_while_active() -> None:
    s = Silence.create(["service=~pay.*", "env!=staging"], starts_at=100.0, ends_at=200.0)
    assert s.covers({"service": "payments"}, 150.0)
    assert not s.covers({"service": "payments", "env": "staging"}, 150.0)
    assert not s.covers({"service": "payments"}, 200.0)
    assert silence_covering([s], {"service": "cart"}, 150.0) is None


def test_bad_silences_are_refused() -> None:
    with pytest.raises(ValueError, match="matcher"):
        Silence.create(["service"], starts_at=0.0, ends_at=1.0)
    with pytest.raises(ValueError, match="after"):
        Silence.create(["a=b"], starts_at=5.0, ends_at=1.0)


def test_store_adds_lists_and_expires(tmp_path: Path) -> None:
    store = SilenceStore(tmp_path / "silences.json")
    s = store.add(Silence.create(["service=db"], starts_at=0.0, ends_at=1000.0, comment="x"))
    assert [x.id for x in store.load()] == [s.id]
    ended = store.expire(s.id, now=10.0)
    assert ended.ends_at == 10.0
    assert not store.load()[0].active(10.0)


def test_stored_silence_with_a_regex_re2_refuses_is_left_out_not_fatal(tmp_path: Path) -> None:
    store = SilenceStore(tmp_path / "silences.json")
    kept = store.add(Silence.create(["service=db"], starts_at=0.0, ends_at=1000.0))
    old = {**kept.to_dict(), "id": "sil-old", "matchers": ["service=~(?!db).*"]}
    store.path.write_bytes(orjson.dumps([kept.to_dict(), old]))
    assert [s.id for s in store.load()] == [kept.id]
