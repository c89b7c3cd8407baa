"""Load the foundational facts file: destinations, their names, landmarks and forbidden claims."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from augment.text import strip_diacritics


@dataclass(frozen=True, slots=True)
class Destination:
    """The stable facts about one destination."""

    key: str
    names: tuple[str, ...]
    province: str
    former: tuple[str, ...]
    region: str
    wrong_regions: tuple[str, ...]
    sea: bool
    landmarks: tuple[str, ...]
    dishes: tuple[str, ...]
    forbidden: tuple[re.Pattern, ...]

    @property
    def name(self) -> str:
        """Return the canonical name."""
        return self.names[0]


@dataclass(frozen=True, slots=True)
class Facts:
    """All destinations plus the names that must never count as drift."""

    destinations: tuple[Destination, ...]
    ambiguous: frozenset[str]

    def by_name(self, name: str) -> Destination | None:
        """Return the destination with this name (any spelling), or None."""
        wanted = strip_diacritics(name).casefold()
        for destination in self.destinations:
            if any(strip_diacritics(n).casefold() == wanted for n in destination.names):
                return destination
        return None

    def locked_names(self) -> list[str]:
        """Return every destination and landmark name, longest first, for masking."""
        names = {n for d in self.destinations for n in (*d.names, *d.landmarks, *d.dishes)}
        return sorted(names, key=lambda n: (-len(n), n))


@cache
def load_facts() -> Facts:
    """Read augment/data/facts.toml once."""
    raw = tomllib.loads(resources.files("augment.data").joinpath("facts.toml").read_text("utf-8"))
    destinations = tuple(
        Destination(
            key=d["key"],
            names=tuple(d["names"]),
            province=d["province"],
            former=tuple(d.get("former", ())),
            region=d["region"],
            wrong_regions=tuple(d.get("wrong_regions", ())),
            sea=d["sea"],
            landmarks=tuple(dict.fromkeys(d.get("landmarks", ()))),
            dishes=tuple(d.get("dishes", ())),
            forbidden=tuple(re.compile(p, re.IGNORECASE) for p in d.get("forbidden", ())),
        )
        for d in raw["destination"]
    )
    return Facts(destinations=destinations, ambiguous=frozenset(n.casefold() for n in raw.get("ambiguous", ())))
