"""Foundational-fact guard: find claims that contradict facts.toml about the place each claim is about.

A claim ("có biển", "thuộc tỉnh Khánh Hòa", "độ cao 500 m") is attributed to the place it follows: the place
named right after it ("biển Nha Trang"), else the nearest place named before it (with places joined to that one
by "và"/"với"), else the seed's place. A province is a place too, so "tỉnh Lâm Đồng có biển" is never held
against Đà Lạt. A claim that is negated, hedged, asked, or corrected in its sentence is not asserted.
"""

from __future__ import annotations

import bisect
import re
import tomllib
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from augment.knowledge.facts import Destination, load_facts
from augment.knowledge.places import Mention, Scan, scan, trie_pattern
from augment.text import fold, parse_number, sentences, strip_diacritics

# Claim kinds and the reason a gate reports for each.
REASONS = {
    "sea": "fact-sea",
    "sea_object": "fact-sea",
    "snow": "fact-snow",
    "hot": "fact-climate",
    "mean_temp": "fact-climate",
    "region": "fact-region",
    "province": "fact-province",
    "altitude": "fact-altitude",
    "forbidden": "fact-claim",
}
# How a kind finds its subject: "loose" takes the nearest place before it, "adjacent" only a destination right
# before it (gap words only), "own" only a destination (a landmark's altitude is not the city's), "object" only
# a place right after it.
_MODES = {
    "sea": "loose", "sea_object": "object", "snow": "loose", "hot": "loose", "forbidden": "loose",
    "region": "adjacent", "province": "adjacent", "altitude": "own", "mean_temp": "own",
}
_SUBJECT_KINDS = frozenset({"destination", "landmark", "province"})
_CLAUSE_BREAK = r"[,;:.!?\n()\[\]\"“”]|(?<!\w)(?:thì|nhưng|còn|mà|song|tuy nhiên)(?!\w)"
_SENTENCE_END = r"[.!?\n]"
_WINDOW = 60  # characters read on each side of an anchor word; every claim pattern is shorter
_OBJECT_GAP = r"\s*(?:(?:ở|tại|của)\s+)?"
_WORD_LISTS = (
    "negators", "not_negating_after", "post_negators", "hedges", "post_corrections", "origin_markers",
    "subject_gap", "joiners", "question_tails", "question_particles",
)


@dataclass(frozen=True, slots=True)
class Finding:
    """A foundational claim that contradicts the facts about its subject."""

    kind: str
    dest: str
    phrase: str

    @property
    def reason(self) -> str:
        """Return the gate reason for this finding."""
        return REASONS[self.kind]


@dataclass(frozen=True, slots=True)
class _Rules:
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


@cache
def _vocabulary() -> dict:
    return tomllib.loads(resources.files("augment.knowledge.data").joinpath("claims.toml").read_text("utf-8"))


def _words(words) -> str:
    """Return an alternation of phrases, longest first, spaces matching any run of whitespace."""
    ordered = sorted({fold(w) for w in words}, key=len, reverse=True)
    return "|".join(r"\s+".join(map(re.escape, w.split())) for w in ordered)


def _names(names) -> str:
    """Return a pattern matching any place name, longest first."""
    return trie_pattern({_name_key(n) for n in names})


def _name_key(name: str) -> str:
    return re.sub(" +", " ", fold(name)).strip()


def _plain(pattern: str, unaccented: bool) -> str:
    return strip_diacritics(pattern) if unaccented else pattern


def _region_names() -> dict[str, str]:
    facts = load_facts()
    names = {r for d in facts.destinations for r in (d.region, *d.wrong_regions)}
    return {_name_key(n): n for n in names}


def _placeholders(v: dict, regions: dict, provinces: dict) -> dict[str, str]:
    """Return what each placeholder of the claim patterns stands for."""
    return {
        "{SEA}": rf"biển(?!\s+(?:{_words(v['not_sea_after'])})(?!\w))",
        "{REGION}": f"(?P<target>{_names(regions.values())})",
        "{PROVINCE}": f"(?P<target>{_names(provinces)})",
        "{QUAL}": _words(v["qualifiers"]),
    }


def _fill(pattern: str, placeholders: dict[str, str], prefix: str) -> str:
    """Expand the placeholders of a claim pattern; its named groups get prefix so patterns can share names."""
    for placeholder, value in placeholders.items():
        pattern = pattern.replace(placeholder, value)
    return pattern.replace("(?P<", f"(?P<{prefix}")


@cache
def _rules(unaccented: bool) -> _Rules:
    """Compile the claim vocabulary once per spelling mode."""
    v = _vocabulary()
    facts = load_facts()
    regions = _region_names()
    provinces = facts.province_names()

    def compile_(pattern: str) -> re.Pattern:
        return re.compile(_plain(pattern, unaccented))

    kinds = ("sea", "sea_object", "snow", "hot", "region", "province", "altitude", "mean_temp")
    found = [(kind, p, "") for kind in kinds for p in v[kind]]
    found += [("forbidden", p, d.key) for d in facts.destinations for p in d.forbidden]
    owners = {f"c{i}": (kind, owner) for i, (kind, _, owner) in enumerate(found)}
    filled = _placeholders(v, regions, provinces)
    patterns = {g: compile_(f"(?P<{g}>{_fill(p, filled, f'{g}_')})(?!\\w)") for g, (_, p, _) in zip(owners, found)}
    anchors = {**v["anchors"], "region": list(regions), "province": list(provinces)}
    anchored: dict[str, list[str]] = {}
    for group, (kind, _) in owners.items():
        for word in anchors.get(kind, ()):
            anchored.setdefault(_plain(_name_key(word), unaccented), []).append(group)
    w = {key: _words(v[key]) for key in _WORD_LISTS}
    return _Rules(
        anchor=re.compile(trie_pattern(anchored) + r"(?!\w)"),
        anchored={word: tuple(groups) for word, groups in anchored.items()},
        patterns=patterns,
        everywhere=tuple(g for g, (kind, _) in owners.items() if kind not in anchors),
        owners=owners,
        negation=compile_(rf"(?<!\w)(?:{w['negators']})(?!\w)(?!\s+(?:{w['not_negating_after']})(?!\w))"),
        post_negation=compile_(rf"^\s*(?:\S+\s+)?(?:{w['post_negators']})(?!\w)"),
        question=compile_(
            rf"^\s*(?:\S+\s+){{0,3}}?(?:{w['question_tails']})(?:\s+(?:{w['question_particles']}))*\s*$"
        ),
        hedge=compile_(rf"(?<!\w)(?:{w['hedges']})(?!\w)"),
        post_correction=compile_(rf"(?<!\w)(?:{w['post_corrections']})(?!\w)"),
        origin=compile_(rf"(?<!\w)(?:{w['origin_markers']})\s*$"),
        gap=compile_(rf"(?:\s|(?<!\w)(?:{w['subject_gap']})(?!\w))*"),
        joiner=compile_(rf"\s*(?:{w['joiners']})\s*"),
        object_gap=compile_(_OBJECT_GAP),
        clause_break=compile_(_CLAUSE_BREAK),
        sentence_end=re.compile(_SENTENCE_END),
        regions=_keyed(regions, unaccented),
        provinces=_keyed(provinces, unaccented),
    )


def _keyed(names: dict[str, str], unaccented: bool) -> dict[str, str]:
    """Key a name map by the folded (and, for unaccented text, stripped) spelling."""
    return {_plain(_name_key(name), unaccented): value for name, value in names.items()}


class _Reader:
    """Answer questions about one scanned text: clauses, sentences, negation, and who a claim is about."""

    def __init__(self, text_scan: Scan, rules: _Rules, fallback: str):
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
        tail = " ".join(before.split()[-_vocabulary()["negation_reach"] :])
        if self.rules.negation.search(tail) or self.rules.hedge.search(before):
            return False
        after = self.clause_after(end)
        if self.rules.post_negation.match(after) or self.rules.question.match(after):
            return False
        rest, closer = self.sentence_after(end)
        return closer != "?" and not self.rules.post_correction.search(rest)

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


def _destination_of(target: Mention | str) -> Destination | None:
    key = target if isinstance(target, str) else target.entry.dest
    return load_facts().by_key(key) if key else None


def _out_of_range(match: re.Match, group: str, bounds: tuple[float, float] | None, unaccented: bool) -> bool:
    if bounds is None:
        return False
    try:
        value = parse_number(match.group(f"{group}_num").rstrip(".,"))
    except ValueError:
        return False
    low, high = bounds
    v = _vocabulary()
    qualifier = match.group(f"{group}_qual") or ""
    if qualifier in {_plain(q, unaccented) for q in v["lower_bound_qualifiers"]}:
        return value >= high
    if qualifier in {_plain(q, unaccented) for q in v["upper_bound_qualifiers"]}:
        return value <= low
    return not low <= value <= high


def _violates(match: re.Match, group: str, d: Destination, rules: _Rules, unaccented: bool) -> bool:
    """Return True if the claim matched by group is false for destination d."""
    kind, owner = rules.owners[group]
    if kind in ("sea", "sea_object"):
        return d.sea is False
    if kind == "snow":
        return not d.snow
    if kind == "hot":
        return d.climate in _vocabulary()["cool_climates"]
    if kind == "forbidden":
        return d.key == owner
    if kind == "region":
        wrong = {_plain(_name_key(r), unaccented) for r in d.wrong_regions}
        return _name_key(match.group(f"{group}_target")) in wrong
    if kind == "province":
        claimed = rules.provinces.get(_name_key(match.group(f"{group}_target")))
        return claimed is not None and claimed not in d.provinces
    if kind == "altitude":
        return _out_of_range(match, group, d.altitude_m, unaccented)
    if kind == "mean_temp":
        return _out_of_range(match, group, d.mean_temp_c, unaccented)
    return False


def _word_start(text: str, start: int) -> bool:
    return start == 0 or not (text[start - 1].isalnum() or text[start - 1] == "_")


def _matches(folded: str, rules: _Rules) -> list[tuple[str, re.Match]]:
    """Return every claim match, in text order: each anchored pattern is tried only around its anchors."""
    found: dict[tuple[int, int, str], re.Match] = {}
    for hit in rules.anchor.finditer(folded):
        if not _word_start(folded, hit.start()):
            continue
        low = folded.rfind(" ", 0, max(0, hit.start() - _WINDOW)) + 1
        high = folded.find(" ", min(len(folded), hit.end() + _WINDOW))
        for group in rules.anchored.get(_name_key(hit.group(0)), ()):
            for match in rules.patterns[group].finditer(folded, low, len(folded) if high < 0 else high):
                if match.start() < hit.end() and match.end() > hit.start():
                    found.setdefault((*match.span(), group), match)
    for group in rules.everywhere:
        found.update(((*m.span(), group), m) for m in rules.patterns[group].finditer(folded))
    return [(group, found[key]) for key in sorted(found) for group in [key[2]] if _word_start(folded, key[0])]


def _claims(text: str, fallback: str, asserted_only: bool):
    """Yield every false claim in text as a Finding, optionally only those asserted."""
    text_scan = scan(text)
    rules = _rules(text_scan.unaccented)
    matches = _matches(text_scan.text, rules)
    reader = _Reader(text_scan, rules, fallback) if matches else None
    for group, match in matches:
        kind = rules.owners[group][0]
        start, end = match.span()
        for target in reader.targets(start, end, _MODES[kind]):
            d = _destination_of(target)
            if d is None or not _violates(match, group, d, rules, text_scan.unaccented):
                continue
            if asserted_only and not reader.asserted(start, end):
                continue
            yield Finding(kind, d.key, match.group(0))


@cache
def _fallback_key(place: str) -> str:
    destination = load_facts().by_name(place) if place else None
    return destination.key if destination else ""


def contradiction(text: str, place: str = "") -> Finding | None:
    """Return the first asserted claim in text that contradicts the facts, or None; place is the default subject."""
    return _contradiction(_essential(text), place)


@lru_cache(maxsize=65536)
def _contradiction(text: str, place: str) -> Finding | None:
    return next(_claims(text, _fallback_key(place), asserted_only=True), None)


def _essential(text: str) -> str:
    """Drop the sentences that name no place and hold no claim word, which cannot change a finding."""
    # Attribution, negation and questions never reach across such a sentence, so the finding is the same as for
    # the whole text; and the variants of one seed, which differ in greetings and closing offers, mostly reduce to
    # one text whose finding is computed once.
    parts = sentences(text)
    if len(parts) < 2:
        return text
    return "\n".join(part for part in parts if not _inert(part))


@lru_cache(maxsize=65536)
def _inert(sentence: str) -> bool:
    text_scan = scan(sentence)
    return not text_scan.mentions and not _matches(text_scan.text, _rules(text_scan.unaccented))


@lru_cache(maxsize=65536)
def premises(text: str, place: str = "") -> frozenset[str]:
    """Return the kinds of false claims text makes or asks about (a question's premise), asserted or not."""
    return frozenset(finding.reason for finding in _claims(text, _fallback_key(place), asserted_only=False))
