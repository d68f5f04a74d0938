"""Online log template mining: masked messages -> templates with stable ids and parameters.

How a message finds its template
    1. ``Masker`` replaces values (numbers, ids, IPs, paths, ...) by ``<*>``; the result is split
       on whitespace.
    2. Fast path: the masked text was matched before -> that template (no scoring).
    3. Otherwise the templates with the same token count are scored. Unlike Drain, a template
       wildcard *matches* any token: similarity is the share of the template's constant tokens
       the message repeats, so a message that is mostly masked values keeps matching its own
       template instead of starting a new one. The best template at or above ``similarity``
       absorbs the message if every differing position is a variable, and that position of the
       template becomes ``<*>``. A position is a variable when a masked value is on either side,
       when both are values of one key (``user=root`` / ``user=guest``), or when the templates
       agreeing everywhere else hold ``min_variable_values`` distinct words there (Brain's
       column test, online; those templates merge). The first word never becomes a variable:
       it names the event (``cupsd startup succeeded``), as Drain's tree also assumes.
    4. Else a new template starts. If a template with the same constants exists (the values
       span a different number of tokens: ``12 bytes sent`` / ``12 bytes (1.2 KB) sent``), the
       new template joins its group: it keeps its own tokens for matching, but messages report
       the group leader's id and text.
    5. When generalising makes two templates identical, the newer merges into the older one
       (its id becomes an alias).

Bounds
    At most ``max_templates`` templates per miner state; beyond it the least recently matched
    template is evicted (a later message of that shape starts a fresh template). The lookup
    cache of masked texts holds at most ``max_cache`` entries and is cleared when full. Aliases
    are capped at ``max_templates`` too (oldest dropped first).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from engine.events import stable_id
from engine.ingest.logstate import STATE_VERSION, Match, MinerState, Template
from engine.ingest.logtokens import (
    agrees_outside,
    constants_of,
    differing_positions,
    generalise,
    same_key,
    similarity_of,
    skeleton_of,
    would_generalise,
)
from engine.ingest.masking import WILDCARD, Masker, MaskMemo

__all__ = ["STATE_VERSION", "Match", "MinerState", "Template", "TemplateMiner", "parameters_of"]

@dataclass(frozen=True, slots=True)
class TemplateMiner:
    """Online template miner (configuration only; the state is a ``MinerState``).

    Parameters
    ----------
    similarity
        Share of a template's constant tokens a message must repeat to join it, in (0, 1].
    max_templates
        Cap on templates per state (least recently matched is evicted beyond it).
    max_cache
        Cap on remembered masked texts (the cache is cleared when full).
    masker
        The masks applied before tokenising.

    Examples
    --------
    >>> miner = TemplateMiner()
    >>> state = miner.initial_state()
    >>> miner.add(state, "user alice logged in from 10.0.0.1").template
    'user alice logged in from <*>'
    >>> [miner.add(state, f"user {u} logged in from 10.0.0.2").created for u in ("bob", "eve")]
    [True, True]
    >>> m = miner.add(state, "user dan logged in from 10.0.0.9")  # a 4th name: a variable
    >>> m.template, m.created, len(state.templates)
    ('user <*> logged in from <*>', False, 1)
    """

    similarity: float = 0.5
    min_variable_values: int = 4
    max_templates: int = 2000
    max_cache: int = 20000
    masker: Masker = field(default_factory=Masker)
    salt: str = ""

    def __post_init__(self) -> None:
        if not 0.0 < self.similarity <= 1.0:
            raise ValueError(f"similarity must be in (0, 1], got {self.similarity}")
        if self.max_templates < 1 or self.max_cache < 1:
            raise ValueError("max_templates and max_cache must be >= 1")

    def initial_state(self) -> MinerState:
        return MinerState()

    def add(self, state: MinerState, message: str) -> Match:
        """Match ``message`` to a template, learning from it (updates ``state`` in place)."""
        memo = state.memo
        if memo is None or memo.masker is not self.masker:
            memo = state.memo = MaskMemo(self.masker)
        key = memo.key(message)
        state.seq += 1
        tid = state.cache.get(key)
        if tid is not None:  # fast path: this masked text was seen (templates keep lengths)
            template = state.templates.get(tid) or state.templates.get(state.resolve(tid))
            if template is not None:
                template.count += 1
                template.last_seq = state.seq
                if template.owner:
                    template = state.group_of(template)
                hit = template.hit
                if hit is None:
                    hit = template.hit = Match(template.id, template.text, False)
                return hit
        tokens = key.split()
        template = self._best(state, tokens)
        if template is None:
            return self._create(state, tokens, key)
        differing = differing_positions(template.tokens, template.learned, tokens)
        if differing and not self._variable(state, template, tokens, differing):
            return self._create(state, tokens, key)
        return self._hit(state, template, tokens, created=False, key=key)

    def _variable(self, state: MinerState, template: Template, tokens: list[str],
                  differing: list[int]) -> bool:
        """Whether every differing constant position holds a variable.

        A position is a variable when a masked value meets a constant there, or when the
        templates that agree with the message everywhere else already hold at least
        ``min_variable_values - 1`` distinct constants there (Brain's column test, online).
        Such sibling templates are merged into ``template``.
        """
        family = [t for tid in state.by_length[len(tokens)]
                  if agrees_outside((t := state.templates[tid]).tokens, t.learned, tokens,
                                     differing)]
        for index in differing:
            have, got = template.tokens[index], tokens[index]
            if (WILDCARD in have and WILDCARD in got) or have == WILDCARD or got == WILDCARD \
                    or same_key(have, got):
                continue
            if index == 0:  # a message's first word names its event (as Drain's tree assumes)
                return False
            values = {t.tokens[index] for t in family}
            values.add(tokens[index])
            if len(values) < self.min_variable_values:
                return False
        for sibling in family:
            if sibling is not template:
                template.count += sibling.count
                template.last_seq = max(template.last_seq, sibling.last_seq)
                _drop(state, sibling.id)
                self._alias(state, sibling.id, template.id)
        return True

    def match(self, state: MinerState, message: str) -> str | None:
        """The id of the template ``message`` would join, without learning (``None`` if new)."""
        key = self.masker.key(message, state.memo if state.memo is not None
                              and state.memo.masker is self.masker else None)
        tokens = key.split()
        tid = state.cache.get(key)
        if tid is not None and state.resolve(tid) in state.templates:
            return state.resolve(tid)
        template = self._best(state, tokens)
        return None if template is None else template.id

    def _best(self, state: MinerState, tokens: list[str]) -> Template | None:
        best: Template | None = None
        best_score = (self.similarity, -1)
        head = tokens[0] if tokens and WILDCARD not in tokens[0] else None
        keyed = head is not None and ("=" in head or ":" in head)
        for tid in state.by_length.get(len(tokens), ()):
            template = state.templates[tid]
            first = template.tokens[0]
            if head is not None and first != head and not template.learned & 1 \
                    and WILDCARD not in first and not (keyed and same_key(first, head)):
                continue  # a different first word never joins (see _variable)
            score = similarity_of(template.tokens, template.learned, tokens, template.constants)
            if score >= best_score:
                best, best_score = template, (score[0], score[1] + 1)
        return best

    def _hit(self, state: MinerState, template: Template, tokens: list[str], *,
             created: bool, key: str | None = None) -> Match:
        template.count += 1
        template.last_seq = state.seq
        if key is not None:
            merged, learned = template.tokens, template.learned
            if would_generalise(template.tokens, tokens):
                merged, learned = generalise(template.tokens, template.learned, tokens)
            if merged != template.tokens:
                template.tokens, template.learned = merged, learned
                template.text = " ".join(merged)
                template.hit = None
                template.constants = constants_of(merged)
                _index_skeleton(state, template)
                template = self._merge_equal(state, template)
            self._remember(state, key, template.id)
        group = state.group_of(template)
        return Match(group.id, group.text, created)

    def _create(self, state: MinerState, tokens: list[str], key: str) -> Match:
        """A new template; it joins the group of a template with the same constants (values
        spanning a different number of tokens, as in ``12 bytes`` / ``12 bytes (1.2 KB)``)."""
        tid = stable_id("tpl", self.salt, key)
        while tid in state.templates:  # an evicted id re-created while a twin lives
            tid = stable_id("tpl", tid)
        skeleton = skeleton_of(tokens)
        owner = state.templates.get(state.resolve(state.skeletons.get(skeleton, "")))
        template = Template(tid, list(tokens), 1, state.seq, 0,
                            "" if owner is None else owner.id, skeleton)
        state.templates[tid] = template
        state.by_length.setdefault(len(tokens), []).append(tid)
        state.aliases.pop(tid, None)
        if state.skeletons.get(skeleton) == tid:  # _index_skeleton, the skeleton known
            del state.skeletons[skeleton]
        if not template.owner and skeleton:
            state.skeletons.setdefault(skeleton, tid)
        self._remember(state, key, tid)
        if len(state.templates) > self.max_templates:
            _evict_oldest(state)
        if owner is not None and owner.id in state.templates:
            group = state.group_of(owner)
            return Match(group.id, group.text, False)
        return Match(tid, key, True)

    def _merge_equal(self, state: MinerState, template: Template) -> Template:
        for tid in state.by_length[len(template.tokens)]:
            other = state.templates[tid]
            if other is not template and other.tokens == template.tokens:
                keep, gone = (other, template) if other.last_seq < 0 else _older(other, template)
                keep.count += gone.count
                keep.last_seq = max(keep.last_seq, gone.last_seq)
                _drop(state, gone.id)
                self._alias(state, gone.id, keep.id)
                return keep
        return template

    def _alias(self, state: MinerState, gone: str, keep: str) -> None:
        state.aliases[gone] = keep
        if len(state.aliases) > self.max_templates:
            del state.aliases[next(iter(state.aliases))]

    def _remember(self, state: MinerState, key: str, tid: str) -> None:
        if len(state.cache) >= self.max_cache:
            state.cache.clear()
        state.cache[key] = tid


def _older(first: Template, second: Template) -> tuple[Template, Template]:
    order = list((first.id, second.id))
    return (first, second) if order.index(first.id) == 0 else (second, first)


def _drop(state: MinerState, tid: str) -> None:
    template = state.templates.pop(tid)
    state.by_length[len(template.tokens)].remove(tid)
    if state.skeletons.get(template.skeleton) == tid:
        del state.skeletons[template.skeleton]


def _index_skeleton(state: MinerState, template: Template) -> None:
    """Keep ``state.skeletons`` in step with ``template``'s tokens (leaders only)."""
    if state.skeletons.get(template.skeleton) == template.id:
        del state.skeletons[template.skeleton]
    template.skeleton = skeleton_of(template.tokens)
    if not template.owner and template.skeleton:
        state.skeletons.setdefault(template.skeleton, template.id)


def _evict_oldest(state: MinerState) -> None:
    victim = min(state.templates.values(), key=lambda t: t.last_seq)
    _drop(state, victim.id)


def parameters_of(template: str, message: str) -> list[str]:
    """The values of ``template``'s ``<*>`` slots in ``message`` (empty if it does not fit).

    >>> parameters_of("user <*> logged in from <*>", "user bob logged in from 10.0.0.2")
    ['bob', '10.0.0.2']
    """
    pieces = [r"\s+".join(map(re.escape, re.split(r"\s+", part)))
              for part in template.split(WILDCARD)]
    pattern = "(.*?)".join(pieces)
    found = re.fullmatch(pattern, message.strip(), flags=re.DOTALL)
    return [] if found is None else [value.strip() for value in found.groups()]
