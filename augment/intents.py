"""Tell which of the five intents a user turn signals, from keyword lists in data/intents.toml."""

from __future__ import annotations

import re
import tomllib
from functools import cache, lru_cache
from importlib import resources

from augment.records import INTENTS
from augment.text import fold, strip_diacritics


@cache
def _patterns() -> dict[str, tuple[re.Pattern, re.Pattern]]:
    """Compile one accented and one unaccented pattern per intent."""
    raw = tomllib.loads(resources.files("augment.data").joinpath("intents.toml").read_text("utf-8"))

    def compile_(keywords: list[str]) -> re.Pattern:
        ordered = sorted({fold(k) for k in keywords}, key=len, reverse=True)
        return re.compile(r"(?<!\w)(?:" + "|".join(ordered) + r")(?!\w)")

    return {intent: (compile_(raw[intent]["keywords"]), compile_(raw[intent]["loose"])) for intent in INTENTS}


@lru_cache(maxsize=65536)
def signals(text: str) -> frozenset[str]:
    """Return the intents whose keywords appear in text, with or without diacritics."""
    folded = fold(text)
    bare = strip_diacritics(folded)
    return frozenset(
        intent for intent, (accented, loose) in _patterns().items() if accented.search(folded) or loose.search(bare)
    )
