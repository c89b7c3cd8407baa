"""User turns by sentence type: which wrappers fit a question core, and one pronoun set per turn."""

from __future__ import annotations

import re
from functools import cache, lru_cache

from augment.quality.wording import key, patterns, pronoun_families, pronoun_spans, requests, tag_on_wh

TYPES = ("wh", "yesno", "request", "keyword")
_CLAUSE_SPLIT_RE = re.compile(r"[,.;:!?]+")
_SLOT_RE = re.compile(r"⟦\d+⟧")


def sentence_type(core: str) -> str:
    """Return the core's type: wh, yesno (ends with a yes/no particle), request (asks for something) or keyword."""
    last = [clause for clause in _CLAUSE_SPLIT_RE.split(_SLOT_RE.sub(" X ", core)) if clause.strip()][-1:]
    text, unaccented = key(last[0] if last else core)
    words = patterns(unaccented)
    if words["tag_end"].search(text):
        return "yesno"
    if words["wh"].search(text) or re.search(r"(?<!\w)(?:hay|hoặc|hay là)(?!\w)", text):
        return "wh"
    return "request" if requests(core) else "keyword"


def untag_wh(core: str) -> str:
    """Return the core without a yes/no tag closing a wh-question ("ăn vặt j ngon k" -> "ăn vặt j ngon")."""
    text, unaccented = key(core)
    if not tag_on_wh(core):
        return core
    tag = patterns(unaccented)["tag_end"].search(text)
    words = len(tag.group(0).split()) if tag else 0
    return " ".join(core.split()[:-words]) if words else core


@cache
def _wrapper_info(wrapper: str) -> tuple[bool, str]:
    """Return whether the wrapper asks for something itself, and its pronoun family ("" if it has none)."""
    frame = wrapper.replace("{q}", " ")
    families = sorted(pronoun_families(frame))
    return bool(requests(frame)), families[0] if families else ""


def fitting_wrappers(register_wrappers: dict[str, list[str]], core: str) -> list[tuple[str, str]]:
    """Return the register's wrappers that fit the core's type, each with the pronoun family it sets."""
    kind = sentence_type(core)
    pool = [*register_wrappers.get(kind, [])]
    if kind in ("wh", "yesno"):
        pool += register_wrappers.get("ask", [])
    asks = bool(requests(core))
    fitting = []
    for wrapper in dict.fromkeys(pool):
        wrapper_asks, family = _wrapper_info(wrapper)
        if asks and wrapper_asks:
            continue  # one request per turn
        fitting.append((wrapper, family))
    return fitting


@lru_cache(maxsize=1 << 14)
def with_pronoun(core: str, spelling: str) -> str:
    """Return the core with each first-person pronoun replaced by spelling (the wrapper's), common nouns kept."""
    if not spelling:
        return core
    out, last = [], 0
    for start, end, _ in pronoun_spans(core):
        word = core[start:end]
        out.append(core[last:start])
        out.append(spelling.capitalize() if word[:1].isupper() else spelling)
        last = end
    out.append(core[last:])
    return "".join(out)


def fits(user: str) -> bool:
    """Return True if the written turn has no yes/no tag on a wh-question and one request at most."""
    return not tag_on_wh(user) and requests(user) <= 1
