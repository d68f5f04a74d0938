"""State of the online template miner: templates, the per-stream ``MinerState`` and ``Match``.

``MinerState`` is plain data with ``to_dict``/``from_dict`` (JSON-safe); version 1 states (no
group owners, no skeleton index) are upgraded by ``_upgrade_v1_to_v2``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple

from engine.ingest.logtokens import constants_of, skeleton_of
from engine.ingest.masking import MaskMemo
from engine.vocabulary import JsonDict

STATE_VERSION: Final = 2


@dataclass(slots=True)
class Template:
    """One template: its tokens, how many messages it matched, when it last matched."""

    id: str
    tokens: list[str]
    count: int = 0
    last_seq: int = 0
    learned: int = 0
    """Bit i set: position i became ``<*>`` because messages had different constants there."""
    owner: str = ""
    """The template whose group this one joined (same constants, values spanning a different
    number of tokens); empty when it leads its own group."""
    skeleton: str = ""
    text: str = ""
    """``tokens`` joined by spaces (kept in step with them)."""
    hit: Match | None = field(default=None, repr=False, compare=False)
    constants: int = field(default=0, repr=False, compare=False)
    """The ``Match`` a message joining this template gets (rebuilt when ``text`` changes)."""

    def __post_init__(self) -> None:
        self.text = " ".join(self.tokens)
        self.constants = constants_of(self.tokens)


@dataclass(slots=True)
class MinerState:
    """Templates of one stream (one service). Updated in place by ``TemplateMiner.add``."""

    version: int = STATE_VERSION
    seq: int = 0
    templates: dict[str, Template] = field(default_factory=dict)
    by_length: dict[int, list[str]] = field(default_factory=dict)
    cache: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    skeletons: dict[str, str] = field(default_factory=dict)
    """Constant tokens (values dropped) -> the group-leading template that has them."""
    memo: MaskMemo | None = field(default=None, repr=False, compare=False)
    """The miner's masking memo (a pure-function cache; not serialised, rebuilt when needed)."""

    def to_dict(self) -> JsonDict:
        return {"version": self.version, "seq": self.seq,
                "templates": [[t.id, t.text, t.count, t.last_seq, t.learned, t.owner]
                              for t in self.templates.values()],
                "cache": dict(self.cache), "aliases": dict(self.aliases),
                "skeletons": dict(self.skeletons)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MinerState:
        if int(data["version"]) == 1:
            data = _upgrade_v1_to_v2(data)
        state = cls(version=STATE_VERSION, seq=int(data["seq"]), cache=dict(data["cache"]),
                    aliases=dict(data["aliases"]), skeletons=dict(data["skeletons"]))
        for tid, text, count, last_seq, learned, owner in data["templates"]:
            tokens = text.split(" ")
            template = Template(tid, tokens, int(count), int(last_seq), int(learned), owner,
                                skeleton_of(tokens))
            state.templates[tid] = template
            state.by_length.setdefault(len(template.tokens), []).append(tid)
        return state

    def resolve(self, template_id: str) -> str:
        """The live id of a template (follows merges)."""
        while template_id in self.aliases:
            template_id = self.aliases[template_id]
        return template_id

    def group_of(self, template: Template) -> Template:
        """The template that leads ``template``'s group (itself unless it joined another)."""
        for _ in range(4):  # owners are set at creation, so chains are short
            owner = self.templates.get(self.resolve(template.owner)) if template.owner else None
            if owner is None or owner is template:
                break
            template = owner
        return template


def _upgrade_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """v2 adds each template's group owner and the skeleton index (rebuilt here)."""
    templates = [[*row, ""] for row in data["templates"]]
    skeletons: dict[str, str] = {}
    for row in templates:
        skeletons.setdefault(skeleton_of(row[1].split(" ")), row[0])
    skeletons.pop("", None)
    return {**data, "version": 2, "templates": templates, "skeletons": skeletons}


class Match(NamedTuple):
    """Where a message went: its template id, the template text now, and whether it is new."""

    template_id: str
    template: str
    created: bool
