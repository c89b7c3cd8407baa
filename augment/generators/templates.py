"""The offline generator's data (knowledge/data/offline.toml) and the phrase patterns its parts share."""

from __future__ import annotations

import re
import tomllib
from functools import cache
from importlib import resources


@cache
def templates() -> dict:
    """Return offline.toml: wrappers, lexicon, inversions, openers, closers and answer phrases."""
    return tomllib.loads(resources.files("augment.knowledge.data").joinpath("offline.toml").read_text("utf-8"))


def phrase_re(phrases) -> re.Pattern:
    """Match any phrase as whole words, longest first, case-insensitively."""
    ordered = sorted(set(phrases), key=len, reverse=True)
    return re.compile(r"(?<!\w)(" + "|".join(map(re.escape, ordered)) + r")(?!\w)", re.IGNORECASE)
