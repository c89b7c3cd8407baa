"""Read one text for the fact guard: its clauses and sentences, whether a claim is asserted, and who it is about."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from augment.knowledge.places import Mention, Scan

# A claim can be about a destination, a landmark (which speaks for its city) or a province (which never does).
_SUBJECT_KINDS = frozenset({"destination", "landmark", "province"})


@dataclass(frozen=True, slots=True)
class Rules:
    """The claim vocabulary compiled for text with or without diacritics."""

    anchor: re.Pattern  # every anchor word and place name, as one trie
    anchored: dict[str, tuple[str, ...]]  # anchor spelling -> the claim patterns (group names) to try around it
    patterns: dict[str, re.Pattern]  # group name "c<i>" -> claim pattern i
    everywhere: tuple[str, ...]  # claim patterns without an anchor, searched in the whole text
    owners: dict[str, tuple[str, str]]  # group name -> (kind, destination key for "forbidden")
    negation: re.Pattern
    post_negation: re.Pattern
    question: re.Pattern
    hedge: re.Pattern
    post_correction: re.Pattern
    origin: re.Pattern
    gap: re.Pattern
    joiner: re.Pattern
    object_gap: re.Pattern
    clause_break: re.Pattern
    sentence_end: re.Pattern
    regions: dict[str, str]
    provinces: dict[str, str]
    current: re.Pattern
    past: re.Pattern
    conditional: re.Pattern
    conditional_hedge: re.Pattern
    confirmation: re.Pattern
    generic: re.Pattern
    negation_reach: int


class Reader:
    """Answer questions about one scanned text: clauses, sentences, negation, and who a claim is about."""

    def __init__(self, text_scan: Scan, rules: Rules, fallback: str):
        self.scan = text_scan
        self.text = text_scan.text
        self.rules = rules
        self.fallback = fallback
        self.subjects = [m for m in text_scan.mentions if m.kind in _SUBJECT_KINDS]
        self.starts = [m.start for m in self.subjects]
        self.ends = [m.end for m in self.subjects]
        self._breaks: tuple[list[int], list[int]] | None = None

    def _clause_breaks(self) -> tuple[list[int], list[int]]:
        """Return the start and end positions of clause breaks, found on first use."""
        if self._breaks is None:
            spans = [m.span() for m in self.rules.clause_break.finditer(self.text)]
            self._breaks = [start for start, _ in spans], [end for _, end in spans]
        return self._breaks

    def clause_before(self, start: int) -> str:
        """Return the clause text from its start up to position start."""
        ends = self._clause_breaks()[1]
        index = bisect.bisect_right(ends, start) - 1
        return self.text[ends[index] if index >= 0 else 0 : start]

    def clause_after(self, end: int) -> str:
        """Return the clause text from position end up to the clause's end."""
        starts = self._clause_breaks()[0]
        index = bisect.bisect_left(starts, end)
        return self.text[end : starts[index] if index < len(starts) else len(self.text)]

    def sentence_after(self, end: int) -> tuple[str, str]:
        """Return the rest of the sentence after end and the character that closes it ("" at the end of text)."""
        found = self.rules.sentence_end.search(self.text, end)
        if not found:
            return self.text[end:], ""
        return self.text[end : found.start()], found.group(0)

    def asserted(self, start: int, end: int) -> bool:
        """Return False if the claim is negated, hedged, asked about or corrected in its own sentence."""
        before = self.clause_before(start)
        tail = " ".join(before.split()[-self.rules.negation_reach :])
        rest, closer = self.sentence_after(end)
        if self.rules.confirmation.search(rest):
            return not self.rules.negation.search(tail)  # "nghe nói Đà Lạt có biển, đúng vậy đó": asserted
        if self.rules.negation.search(tail) or self.rules.hedge.search(before) or self._conditional(start, end):
            return False
        after = self.clause_after(end)
        if self.rules.post_negation.match(after) or self.rules.question.match(after):
            return False
        return closer != "?" and not self.rules.post_correction.search(rest)

    def _conditional(self, start: int, end: int) -> bool:
        """Return True if a wish ("thích", "muốn") before the claim opens a condition: "nếu thích ..., "muốn ... thì"."""
        sentence_start = max(self.text.rfind(mark, 0, start) for mark in ".!?\n") + 1
        head = self.text[sentence_start:start]
        if not self.rules.conditional_hedge.search(head):
            return False
        rest, _ = self.sentence_after(end)
        return bool(self.rules.conditional.search(head) or re.search(r"(?<!\w)thì(?!\w)", rest))

    def denied(self, start: int, end: int) -> bool:
        """Return True if the claim is plainly denied (not asked, wished or corrected): "không có biển"."""
        before = self.clause_before(start)
        after = self.clause_after(end)
        rest, closer = self.sentence_after(end)
        if closer == "?" or self.rules.question.match(after) or self.rules.hedge.search(before):
            return False
        if self.rules.post_correction.search(rest) or self._conditional(start, end):
            return False
        return self.negated(start, end)

    def negated(self, start: int, end: int) -> bool:
        """Return True if a negator stands right before the claim or right after it, asked or not."""
        tail = " ".join(self.clause_before(start).split()[-self.rules.negation_reach :])
        return bool(self.rules.negation.search(tail) or self.rules.post_negation.match(self.clause_after(end)))

    def current(self, start: int, end: int) -> bool:
        """Return True if the sentence states the claim as today's ("hiện nay", "vẫn") and not as the past."""
        sentence_start = max(self.text.rfind(mark, 0, start) for mark in ".!?\n") + 1
        rest, _ = self.sentence_after(end)
        sentence = self.text[sentence_start:start] + self.text[start:end] + rest
        return bool(self.rules.current.search(sentence)) and not self.rules.past.search(sentence)

    def generic(self, start: int) -> bool:
        """Return True if the claim is about places in general: "các tỉnh ven biển", "những nơi có biển"."""
        return bool(self.rules.generic.search(self.text, 0, start))

    def targets(self, start: int, end: int, mode: str) -> list[Mention | str]:
        """Return what a claim is about: place mentions, or the fallback destination key."""
        following = bisect.bisect_left(self.starts, end)
        if mode in ("loose", "object") and following < len(self.subjects):
            nxt = self.subjects[following]
            if self.rules.object_gap.fullmatch(self.text, end, nxt.start):
                return [nxt]
        if mode == "object":
            return []
        before = bisect.bisect_right(self.ends, start)
        if before == 0:
            return [self.fallback] if self.fallback and mode != "adjacent" else []
        last = self.subjects[before - 1]
        if self.rules.origin.search(self.text, 0, last.start):
            return []
        if mode in ("adjacent", "own") and last.kind != "destination":
            return []
        if mode == "adjacent" and not self.rules.gap.fullmatch(self.text, last.end, start):
            return []
        group = [last]
        for earlier in reversed(self.subjects[: before - 1]):
            if not self.rules.joiner.fullmatch(self.text, earlier.end, group[-1].start):
                break
            group.append(earlier)
        return group
