"""Tell which of the five intents a user turn signals, from keyword lists in data/intents.toml."""

from __future__ import annotations

import re
import tomllib
from functools import cache, lru_cache
from importlib import resources

from augment.knowledge.places import trie_pattern
from augment.records import INTENTS
from augment.text import fold, strip_diacritics

_REGEX_CHARS = re.compile(r"[\\()\[\]{}?*+|.^$]")
_SEPARATORS_RE = re.compile(" +")


class _Keywords:
    """One spelling mode's keywords: literal phrases in a trie (longest first), regular expressions beside it."""

    def __init__(self, keywords: dict[str, set[str]]):
        literal = {k: v for k, v in keywords.items() if not _REGEX_CHARS.search(k)}
        self.phrases = {k: frozenset(v) for k, v in literal.items()}
        self.trie = re.compile(rf"(?<!\w)(?:{trie_pattern(literal)})(?!\w)")
        patterns = [(k, frozenset(v)) for k, v in keywords.items() if k not in literal]
        self.groups = {f"p{i}": intents for i, (_, intents) in enumerate(patterns)}
        alternatives = "|".join(f"(?P<p{i}>{k})" for i, (k, _) in enumerate(patterns))
        self.patterns = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)") if patterns else None

    def intents(self, text: str) -> set[str]:
        """Return the intents the keywords in text signal."""
        found: set[str] = set()
        for match in self.trie.finditer(text):
            found |= self.phrases[_SEPARATORS_RE.sub(" ", match.group(0))]
        for match in self.patterns.finditer(text) if self.patterns else ():
            found |= self.groups[match.lastgroup]
        return found


@cache
def _keywords() -> tuple[_Keywords, _Keywords]:
    """Load the accented and the unaccented keywords of all intents."""
    raw = tomllib.loads(resources.files("augment.knowledge.data").joinpath("intents.toml").read_text("utf-8"))
    accented: dict[str, set[str]] = {}
    loose: dict[str, set[str]] = {}
    for intent in INTENTS:
        for keyword in raw[intent]["keywords"]:
            accented.setdefault(fold(keyword), set()).add(intent)
        for keyword in raw[intent]["loose"]:
            loose.setdefault(keyword, set()).add(intent)
    return _Keywords(accented), _Keywords(loose)


@lru_cache(maxsize=65536)
def signals(text: str) -> frozenset[str]:
    """Return the intents whose keywords appear in text, with or without diacritics."""
    folded = fold(text)
    accented, loose = _keywords()
    return frozenset(accented.intents(folded) | loose.intents(strip_diacritics(folded)))
