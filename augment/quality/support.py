"""Seed support: every sentence of a generated answer must be backed by its seed answer (and grounding context).

A generated answer rewrites a hand-checked seed answer and may add no claim. A sentence is unsupported if it names
a proper name (a known place, landmark, province, or any capitalised name mid-sentence) that the seed does not
name, or uses a fact-bearing term (claims.toml [support.terms]: sea, island, snow, heat, region, province, capital,
altitude, distance ...) that no seed sentence uses for the same place with the same polarity, or with a number the
seed's sentence does not give. Openers and closing
offers pass because they carry neither. Sentences are read with or without diacritics each on their own, so an
unaccented sentence inside an accented answer is compared unaccented.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from augment.knowledge.facts import load_facts
from augment.knowledge.places import is_unaccented, name_entries, trie_pattern
from augment.text import amounts, exact_key, fold, sentences, strip_diacritics

_NEGATION_REACH = 3  # words before a term that may deny it
# Groups also read inside names: "biển Mỹ Khê" is a name and still a coast; "núi Langbiang" is no terrain claim.
_UNMASKED = frozenset({"sea"})
_MASK = "\x00"  # fills a known name's span, keeping positions, so terms inside names are not read
# Where a capitalised word is only the start of a sentence, a clause or a list item, not a name.
_CLAUSE_START_RE = re.compile(r"(?:^|[.!?:;\-–—•*\"“”'(\[/]|\d[.)])\s*$")
_WORD_RE = re.compile(r"[^\W_]+")
_CLAUSE_MARK_RE = re.compile(r"[;:]|(?<!\d),|,(?!\d)")  # a comma between digits is a decimal comma ("1,5 giờ")
_CLAUSE_BREAK_RE = re.compile(r"[,;:()]|(?<!\w)(?:nhưng|còn|mà|song|tuy nhiên)(?!\w)")


@dataclass(frozen=True, slots=True)
class _Reading:
    """What one sentence asserts, for support: its names, subjects and fact terms with their polarity."""

    names: frozenset[str]  # canonical idents of known names, and folded capitalised names
    subjects: frozenset[str]  # destination keys the sentence names (empty: it is about the one before it)
    # (term group, negated, the place it is about or "" for the sentence's default, the numbers of its clause)
    terms: tuple[tuple[str, bool, str, frozenset[float]], ...]


@cache
def _support_vocabulary() -> dict:
    raw = tomllib.loads(resources.files("augment.knowledge.data").joinpath("claims.toml").read_text("utf-8"))
    return raw["support"]


def _plain(text: str, unaccented: bool) -> str:
    return strip_diacritics(text) if unaccented else text


@cache
def _names(unaccented: bool) -> tuple[re.Pattern, dict[str, tuple[str, str]]]:
    """Return one regex over every known name and the lookup from spelling to (ident, destination key)."""
    lookup: dict[str, tuple[str, str]] = {}
    regions = {r for d in load_facts().destinations for r in (d.region, *d.wrong_regions)}
    for region in regions:  # a region is a name too: "miền Tây" must come from the seed
        key = " ".join(fold(region).split())
        lookup[_plain(key, unaccented)] = (key, "")
    for key, entry in name_entries().items():
        subject = entry.dest or (f"province:{entry.ident}" if entry.kind == "province" else "")
        lookup.setdefault(_plain(key, unaccented), (entry.ident, subject))
    return re.compile(r"(?<!\w)(?:" + trie_pattern(lookup) + r")(?!\w)"), lookup


@cache
def _terms(unaccented: bool) -> tuple[tuple[str, re.Pattern], ...]:
    """Return one regex per term group, longest phrase first, on whole words."""
    groups = []
    for group, phrases in _support_vocabulary()["terms"].items():
        ordered = sorted({_plain(fold(p), unaccented) for p in phrases}, key=len, reverse=True)
        body = "|".join(p.replace(" ", r"\s+") for p in ordered)
        groups.append((group, re.compile(rf"(?<![^\W\d_])(?:{body})(?!\w)")))
    return tuple(groups)


@cache
def _negation(unaccented: bool) -> re.Pattern:
    words = sorted({_plain(fold(w), unaccented) for w in _support_vocabulary()["negators"]}, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(w.replace(" ", r"\s+") for w in words) + r")(?!\w)")


def _negated(masked: str, start: int, unaccented: bool) -> bool:
    """Return True if a negator stands within a few words before position start, in the same clause."""
    before = masked[:start]
    breaks = list(_CLAUSE_BREAK_RE.finditer(before))
    clause = before[breaks[-1].end() :] if breaks else before
    tail = " ".join(clause.split()[-_NEGATION_REACH:])
    return bool(_negation(unaccented).search(tail))


def _capitalised_names(sentence: str, unaccented: bool) -> set[str]:
    """Return the folded runs of capitalised words that do not start a sentence, a clause or a list item."""
    found, run, run_end = set(), [], -1
    for word in [*_WORD_RE.finditer(sentence), None]:
        joined = word is not None and run and sentence[run_end : word.start()] in (" ", "-")
        if run and not (joined and word.group(0)[0].isupper()):
            found.add(_plain(fold(" ".join(w.group(0) for w in run)), unaccented))
            run = []
        if word is None or not word.group(0)[0].isupper():
            continue
        if run or (len(word.group(0)) > 1 and not _CLAUSE_START_RE.search(sentence[: word.start()])):
            run.append(word)
            run_end = word.end()
    return found


def _clause_numbers(masked: str, start: int) -> frozenset[float]:
    """Return the numbers of the clause (between , ; : and the sentence's ends) around position start."""
    marks = [match.start() for match in _CLAUSE_MARK_RE.finditer(masked)]
    low = max((at for at in marks if at < start), default=-1)
    high = min((at for at in marks if at >= start), default=len(masked))
    return amounts(masked[low + 1 : high])


def _subject_at(places: list[tuple[int, str]], masked: str, start: int) -> str:
    """Return the place a term is about, or "" for the sentence's default place."""
    # The nearest named before it in its clause, else after it in its clause, else later up to a ";", else earlier.
    breaks = [m.end() for m in _CLAUSE_BREAK_RE.finditer(masked, 0, start)]
    low = breaks[-1] if breaks else 0
    after = _CLAUSE_BREAK_RE.search(masked, start)
    high = after.start() if after else len(masked)
    before = [dest for at, dest in places if low <= at < start]
    after_ = [dest for at, dest in places if start <= at < high]
    segment_end = masked.find(";", start)
    later = [dest for at, dest in places if start <= at < (segment_end if segment_end >= 0 else len(masked))]
    # Further back, a destination wins over a province it was placed in: "Đà Lạt thuộc tỉnh Lâm Đồng, nằm trên ...".
    earlier = [dest for at, dest in places if at < start and _is_destination(dest)] or [
        dest for at, dest in places if at < start
    ]
    return (before and before[-1]) or (after_ and after_[0]) or (later and later[0]) or (earlier and earlier[-1]) or ""


@lru_cache(maxsize=65536)
def _read(sentence: str, unaccented: bool) -> _Reading:
    """Read one sentence in the given spelling mode."""
    folded = _plain(fold(sentence), unaccented)
    pattern, lookup = _names(unaccented)
    names, places, pieces, last = set(), [], [], 0
    for match in pattern.finditer(folded):
        ident, dest = lookup.get(match.group(0)) or lookup[" ".join(match.group(0).split())]
        names.add(ident)
        if dest:
            places.append((match.start(), dest))
        pieces += [folded[last : match.start()], _MASK * (match.end() - match.start())]  # positions stay the same
        last = match.end()
    masked = "".join(pieces) + folded[last:]
    terms = tuple(sorted({
        (group, _negated(masked, m.start(), unaccented), _subject_at(places, masked, m.start()), _clause_numbers(masked, m.start()))
        for group, regex in _terms(unaccented)
        for m in regex.finditer(folded if group in _UNMASKED else masked)
    }, key=repr))
    names |= _capitalised_names(sentence, unaccented)
    return _Reading(frozenset(names), frozenset(dest for _, dest in places), terms)


@dataclass(frozen=True, slots=True)
class _Support:
    """What a seed (with its context) backs: its names, and the numbers each (group, negated, place) comes with."""

    names: frozenset[str]
    text: str  # folded, for capitalised names that are ordinary words in the seed
    facts: dict[tuple[str, bool, str], frozenset[float]]
    sentences: frozenset[str]  # exact keys of the seed's own sentences, always supported


def _subjects_in_order(readings: list[_Reading], place: str) -> list[str]:
    """Return the place each sentence is about by default: the last one named so far, else the seed's place."""
    current = place
    found = []
    for reading in readings:
        found.append(current)
        named = [dest for dest in reading.subjects if not dest.startswith("province:")]
        if len(named) == 1:
            current = named[0]
    return found


@lru_cache(maxsize=4096)
def _support(source: str, place: str, unaccented: bool) -> _Support:
    """Return what the seed text backs, read in one spelling mode."""
    parts = sentences(source)
    readings = [_read(part, unaccented) for part in parts]
    facts: dict[tuple[str, bool, str], set[float]] = {}
    for part, reading, default in zip(parts, readings, _subjects_in_order(readings, place)):
        numbers = amounts(part)  # the whole sentence's: a faithful rewrite may move a figure to another clause
        for group, negated, subject, _ in reading.terms:
            facts.setdefault((group, negated, subject or default), set()).update(numbers)
    names = frozenset().union(*(r.names for r in readings)) if readings else frozenset()
    text = " ".join(_plain(fold(source), unaccented).split())
    return _Support(names, text, {k: frozenset(v) for k, v in facts.items()}, frozenset(exact_key(p) for p in parts))


@cache
def _place_key(place: str) -> str:
    destination = load_facts().by_name(place) if place else None
    return destination.key if destination else ""


def _name_backed(name: str, support: _Support) -> bool:
    if name in support.names:
        return True
    return bool(re.search(r"(?<!\w)" + re.escape(name) + r"(?!\w)", support.text))


def _backed(support: _Support, term: tuple[str, bool, str, frozenset[float]], default: str) -> bool:
    """Return True if the seed states the term's group with its polarity about its place, numbers included."""
    group, negated, subject, numbers = term
    subject = subject or default
    exact = support.facts.get((group, negated, subject))
    if negated:  # a denial must be the seed's own about this place: "Hội An không có biển" is never loose
        return exact is not None and numbers <= exact
    if exact is None and (group, True, subject) in support.facts:
        return False
    # Said in the seed about no destination in particular (a province, a clause without a place): it backs the
    # rewrite, which may well name the place the seed meant. A claim the seed makes about another destination does not.
    loose = [v for (g, n, s), v in support.facts.items() if g == group and not n and not _is_destination(s)]
    if exact is None and not loose:
        return False
    return numbers <= (exact or frozenset()).union(*loose)


def _is_destination(subject: str) -> bool:
    return bool(subject) and not subject.startswith("province:")


def unsupported(answer: str, source: str, place: str = "", names: str = "") -> str:
    """Return the first sentence of answer that source (seed answer, context) does not back, or "".

    names is more text whose names count as backed but whose terms do not (the seed question: it asserts nothing).
    """
    key = _place_key(place)
    parts = sentences(answer)
    modes = [is_unaccented(fold(part)) for part in parts]
    readings = [_read(part, unaccented) for part, unaccented in zip(parts, modes)]
    for part, unaccented, reading, default in zip(parts, modes, readings, _subjects_in_order(readings, key)):
        support = _support(source, key, unaccented)
        if exact_key(part) in support.sentences:
            continue
        named = _support(names, key, unaccented) if names else support
        if not all(_name_backed(name, support) or _name_backed(name, named) for name in reading.names):
            return part
        if not all(_backed(support, term, default) for term in reading.terms):
            return part
    return ""
