"""Find the places a text names: destinations, their landmarks, dishes, provinces, and ambiguous names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import NamedTuple

from augment.knowledge.facts import load_facts
from augment.text import fold, loose_key, strip_diacritics

# Between the words of a name: one or more spaces, never a line break or a full stop, so a name never spans two
# sentences ("... trước chợ.\nĐà Lạt ..." is not "chợ Đà Lạt"). A literal space, not a character class: re
# compiles a class in a trie of hundreds of names slowly.
_SEPARATORS = " +"
_SEPARATORS_RE = re.compile(_SEPARATORS)
VIETNAMESE_LETTER_RE = re.compile("[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]")
# Share of characters with a diacritic below which a text counts as typed without diacritics ("cho minh hoi ...");
# Vietnamese typed with diacritics has about one in four.
_UNACCENTED_SHARE = 0.03
_SAMPLE_CHARS = 300
# When two entries share a spelling, the first kind here wins: "Hồ Xuân Hương" is a landmark and a poet.
_PRECEDENCE = ("ambiguous", "destination", "landmark", "province", "dish")


@dataclass(frozen=True, slots=True)
class Entry:
    """What one spelling in the gazetteer stands for."""

    kind: str  # destination, landmark, province, dish or ambiguous
    dest: str  # destination key for destinations and landmarks, else ""
    ident: str  # canonical name: destination key, landmark's first alias, province, dish
    locked: bool  # a name the offline generator never rewrites (fidelity requires it kept)


class Mention(NamedTuple):  # a tuple: texts hold dozens of mentions and creating dataclasses costs more
    """One name found in a text, with its span in the scanned (folded) text."""

    start: int
    end: int
    entry: Entry

    @property
    def kind(self) -> str:
        """Return the entry's kind."""
        return self.entry.kind


@dataclass(frozen=True, slots=True)
class Scan:
    """A text folded for matching, whether it was typed without diacritics, and the names in it."""

    text: str  # folded: casefolded NFC in one tone style; unaccented too if `unaccented`
    unaccented: bool
    mentions: tuple[Mention, ...]


def _key(name: str) -> str:
    return _SEPARATORS_RE.sub(" ", name).strip()


def trie_pattern(phrases) -> str:
    """Return a regex matching any phrase, longest first, as a trie; a space matches a run of spaces."""
    # Python's re does not merge common prefixes: an alternation of 400 names tries each at every position.
    trie: dict = {}
    for phrase in phrases:
        node = trie
        for ch in phrase:
            node = node.setdefault(ch, {})
        node[""] = {}
    return _trie_branch(trie)


def _trie_branch(node: dict) -> str:
    branches = [
        (_SEPARATORS if ch == " " else re.escape(ch)) + _trie_branch(child)
        for ch, child in sorted(node.items())
        if ch
    ]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{body})?" if "" in node else body


@cache
def _entries() -> dict[str, Entry]:
    """Map every folded spelling to its entry, the higher-precedence kind winning a shared spelling."""
    facts = load_facts()
    locked = {_key(fold(n)) for n in facts.locked_names()}
    found: list[tuple[str, str, str, str]] = []
    for d in facts.destinations:
        found += [(n, "destination", d.key, d.key) for n in d.names]
        found += [(alias, "landmark", d.key, group[0]) for group in d.landmark_groups for alias in group]
        found += [(dish, "dish", "", dish) for dish in d.dishes]
    found += [(name, "province", "", canonical) for name, canonical in facts.province_names().items()]
    found += [(name, "ambiguous", "", name) for name in facts.ambiguous]
    entries: dict[str, Entry] = {}
    for name, kind, dest, ident in sorted(found, key=lambda item: _PRECEDENCE.index(item[1])):
        key = _key(fold(name))
        entries.setdefault(key, Entry(kind, dest, ident, key in locked))
    return entries


@cache
def _gazetteer(unaccented: bool) -> tuple[re.Pattern, dict[str, Entry]]:
    """Return one regex over every name (longest first) and the lookup from matched spelling to entry."""
    unsafe = {_key(fold(n)) for n in load_facts().unsafe_unaccented}
    lookup: dict[str, Entry] = {}
    for key, entry in _entries().items():
        if unaccented:
            if key in unsafe:
                continue
            key = strip_diacritics(key)
        lookup.setdefault(key, entry)
    return re.compile(r"(?<!\w)(?:" + trie_pattern(lookup) + r")(?!\w)"), lookup


def is_unaccented(folded: str) -> bool:
    """Return True if a text reads as typed without Vietnamese diacritics."""
    head = folded[:_SAMPLE_CHARS]  # the first few hundred characters decide: a text is typed one way throughout
    return len(VIETNAMESE_LETTER_RE.findall(head)) < _UNACCENTED_SHARE * len(head)


@lru_cache(maxsize=65536)
def scan(text: str) -> Scan:
    """Fold a text and find the names in it, matching unaccented spellings only in unaccented text."""
    folded = fold(text)
    unaccented = is_unaccented(folded)
    if unaccented:
        folded = strip_diacritics(folded)
    pattern, lookup = _gazetteer(unaccented)
    mentions = tuple(
        Mention(m.start(), m.end(), lookup.get(m.group(0)) or lookup[_key(m.group(0))])
        for m in pattern.finditer(folded)
    )
    return Scan(folded, unaccented, mentions)


def destinations(text: str) -> frozenset[str]:
    """Return the keys of the destinations a text names, directly or through one of their landmarks."""
    return frozenset(m.entry.dest for m in scan(text).mentions if m.entry.dest)


def landmarks(text: str) -> frozenset[str]:
    """Return the canonical names of the landmarks a text names."""
    return frozenset(m.entry.ident for m in scan(text).mentions if m.kind == "landmark")


def locked_entities(text: str) -> frozenset[str]:
    """Return the locked names (destinations, landmarks, dishes) a text names, as canonical idents."""
    return frozenset(m.entry.ident for m in scan(text).mentions if m.entry.locked)


@cache
def _aliases(ident: str) -> tuple[str, ...]:
    """Return every spelling that stands for one ident, unaccented, as loose keys."""
    spellings = {key for key, entry in _entries().items() if entry.ident == ident}
    return tuple(sorted({loose_key(s) for s in spellings} - {""}))


@cache
def _alias_re(ident: str) -> re.Pattern:
    return re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, _aliases(ident))) + r")(?!\w)")


@lru_cache(maxsize=65536)
def _loose(text: str) -> str:
    return loose_key(text)


def names_entity(text: str, ident: str) -> bool:
    """Return True if any spelling of the entity appears in text, diacritics ignored (generous on purpose)."""
    return bool(_aliases(ident)) and bool(_alias_re(ident).search(_loose(text)))


@cache
def destination_idents(key: str) -> tuple[str, ...]:
    """Return the idents that stand for a destination: the destination itself and each of its landmarks."""
    destination = load_facts().by_key(key)
    if destination is None:
        return ()
    return (key, *(group[0] for group in destination.landmark_groups))


def name_entries() -> dict[str, Entry]:
    """Return every known name (folded spelling) and what it stands for, unsafe unaccented spellings included."""
    return _entries()
