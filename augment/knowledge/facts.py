"""Load the foundational facts file: destinations, their names, landmarks, provinces and forbidden claims."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
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
    sea: bool | None
    landmarks: tuple[str, ...]  # every alias of every landmark
    dishes: tuple[str, ...]
    forbidden: tuple[str, ...]  # regular expressions of claims false for this destination
    landmark_groups: tuple[tuple[str, ...], ...] = ()  # one tuple of aliases per landmark, canonical name first
    snow: bool = False
    climate: str = ""
    altitude_m: tuple[float, float] | None = None
    mean_temp_c: tuple[float, float] | None = None
    max_temp_c: float | None = None  # the hottest daytime figure a sentence may give a cool highland place
    wards: tuple[str, ...] = ()
    island: bool = False
    rainy_months: tuple[int, int] | None = None  # first and last month of the rainy season
    seat_of: tuple[str, ...] = ()  # what it is the capital of: a province, or the country

    @property
    def name(self) -> str:
        """Return the canonical name."""
        return self.names[0]

    @property
    def provinces(self) -> tuple[str, ...]:
        """Return the province names a sentence may place this destination in (current and former)."""
        return (self.province, *self.former)


@dataclass(frozen=True, slots=True)
class Facts:
    """All destinations, the province map, and the names that must never count as drift."""

    destinations: tuple[Destination, ...]
    ambiguous: frozenset[str]
    unsafe_unaccented: frozenset[str] = frozenset()
    provinces: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (province since 2025-07, its former provinces)
    province_aliases: tuple[tuple[str, tuple[str, ...]], ...] = ()
    _by_name: dict[str, Destination] = field(default_factory=dict, init=False, repr=False, compare=False)

    def by_name(self, name: str) -> Destination | None:
        """Return the destination with this name (any spelling), or None."""
        if not self._by_name:  # filled on first use; a name two destinations share goes to the first, as listed
            for destination in self.destinations:
                for spelling in destination.names:
                    self._by_name.setdefault(strip_diacritics(spelling).casefold(), destination)
        return self._by_name.get(strip_diacritics(name).casefold())

    def by_key(self, key: str) -> Destination | None:
        """Return the destination with this key, or None."""
        return next((d for d in self.destinations if d.key == key), None)

    def locked_names(self) -> list[str]:
        """Return every destination, landmark and dish name, longest first, for masking."""
        names = {n for d in self.destinations for n in (*d.names, *d.landmarks, *d.dishes)}
        return sorted(names, key=lambda n: (-len(n), n))

    def province_names(self) -> dict[str, str]:
        """Map every province spelling (current, former, alias) to itself or its canonical spelling."""
        names = {}
        for current, former in self.provinces:
            names[current] = current
            names.update((old, old) for old in former)
        for canonical, aliases in self.province_aliases:
            names.update((alias, canonical) for alias in aliases)
        return names


def _landmark_groups(raw: list) -> tuple[tuple[str, ...], ...]:
    """Return one alias tuple per landmark; a bare string is a landmark with one name."""
    return tuple(tuple(entry) if isinstance(entry, list) else (entry,) for entry in raw)


def _range(raw: list | None) -> tuple[float, float] | None:
    return (float(raw[0]), float(raw[1])) if raw else None


def _wrong_regions(d: dict, regions: dict[str, list[str]]) -> tuple[str, ...]:
    """Return the regions of the table a destination is not in: all but its own, the one holding it, and its also."""
    holding = [macro for macro, inside in regions.items() if d["region"] in inside]
    right = {d["region"], *holding, *d.get("regions_also", ())}
    every = [name for macro, inside in regions.items() for name in (macro, *inside)]
    return tuple(name for name in every if name not in right)


def _destination(d: dict, regions: dict[str, list[str]]) -> Destination:
    groups = _landmark_groups(d.get("landmarks", ()))
    return Destination(
        key=d["key"],
        names=tuple(d["names"]),
        province=d["province"],
        former=tuple(d.get("former", ())),
        region=d["region"],
        wrong_regions=_wrong_regions(d, regions),
        sea=d.get("sea"),
        landmarks=tuple(dict.fromkeys(alias for group in groups for alias in group)),
        dishes=tuple(d.get("dishes", ())),
        forbidden=tuple(d.get("forbidden", ())),
        landmark_groups=groups,
        snow=d.get("snow", False),
        climate=d.get("climate", ""),
        altitude_m=_range(d.get("altitude_m")),
        mean_temp_c=_range(d.get("mean_temp_c")),
        max_temp_c=d.get("max_temp_c"),
        wards=tuple(d.get("wards", ())),
        island=d.get("island", False),
        rainy_months=tuple(d["rainy_months"]) if "rainy_months" in d else None,
        seat_of=tuple(d.get("seat_of", ())),
    )


@cache
def load_facts() -> Facts:
    """Read augment/knowledge/data/facts.toml once."""
    raw = tomllib.loads(resources.files("augment.knowledge.data").joinpath("facts.toml").read_text("utf-8"))
    return Facts(
        destinations=tuple(_destination(d, raw.get("regions", {})) for d in raw["destination"]),
        ambiguous=frozenset(n.casefold() for n in raw.get("ambiguous", ())),
        unsafe_unaccented=frozenset(n.casefold() for n in raw.get("unsafe_unaccented", ())),
        provinces=tuple((k, tuple(v)) for k, v in raw.get("provinces", {}).items()),
        province_aliases=tuple((k, tuple(v)) for k, v in raw.get("province_aliases", {}).items()),
    )
