"""A landmark placed in, or owned by, a destination that is not its own: "Đà Lạt có Hòn Mun", "Bãi Sao ở Đà Lạt"."""

from __future__ import annotations

import re
import tomllib
from functools import cache
from importlib import resources

from augment.knowledge.facts import load_facts
from augment.knowledge.places import Mention, Scan
from augment.text import strip_diacritics


@cache
def _links(unaccented: bool) -> tuple[re.Pattern, re.Pattern]:
    """Return the patterns of what joins a landmark to the place it is in, and a place to a landmark it has."""
    v = tomllib.loads(resources.files("augment.knowledge.data").joinpath("claims.toml").read_text("utf-8"))
    plain = strip_diacritics if unaccented else str
    return re.compile(plain(v["landmark_in"])), re.compile(plain(v["place_has"]))


def placements(text_scan: Scan) -> list[tuple[Mention, Mention, int, int]]:
    """Return (landmark, destination, start, end) for each landmark placed in a destination that is not its own."""
    inside, has = _links(text_scan.unaccented)
    named = [m for m in text_scan.mentions if m.kind in ("destination", "landmark")]
    found = []
    for first, second in zip(named, named[1:]):
        between = text_scan.text[first.end : second.start]
        if first.kind == "landmark" and second.kind == "destination" and inside.fullmatch(between):
            landmark, place = first, second
        elif first.kind == "destination" and second.kind == "landmark" and has.fullmatch(between):
            landmark, place = second, first
        else:
            continue
        if place.entry.dest not in _homes(landmark.entry.dest):
            found.append((landmark, place, first.start, second.end))
    return found


@cache
def _homes(key: str) -> frozenset[str]:
    """Return the destinations a landmark of destination key may be said to be in: its own, and its province's."""
    facts = load_facts()
    own = facts.by_key(key)
    province = facts.by_name(own.province) if own else None
    return frozenset({key, *([province.key] if province else [])})
