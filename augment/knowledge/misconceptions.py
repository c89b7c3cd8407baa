"""The misconceptions table: false foundational beliefs travellers hold, derived from the facts file where it can be."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from augment.knowledge.facts import Destination, load_facts
from augment.text import strip_diacritics


@dataclass(frozen=True, slots=True)
class Misconception:
    """One false belief about one destination: its kind, the slots its templates are filled with, and the real need."""

    key: str  # e.g. "dalat-sea", unique; the synthetic seed id is made from it
    kind: str  # sea, snow, province, region, landmark, climate, island
    destination: str  # facts.toml key
    slots: tuple[tuple[str, str], ...]
    needs: tuple[str, ...]  # what the traveller probably wants instead, as answer sentences

    def fill(self, template: str) -> str:
        """Fill a template's {slots} with this misconception's values."""
        return template.format(**dict(self.slots))

    @property
    def place(self) -> str:
        """Return the destination's canonical name."""
        return dict(self.slots)["place"]


@cache
def _data() -> dict:
    return tomllib.loads(resources.files("augment.knowledge.data").joinpath("misconceptions.toml").read_text("utf-8"))


def kind_table(kind: str) -> dict:
    """Return one kind's templates: user turns per register, corrections, premise and correction phrases, intent."""
    return _data()["kinds"][kind]


def closers() -> list[str]:
    """Return the closing offers a misconception answer ends with."""
    return _data()["closers"]


def backing(row: Misconception) -> str:
    """Return the hand-checked sentences a misconception answer may draw on: its kind's corrections, its needs, closers."""
    return "\n".join([row.fill(template) for template in kind_table(row.kind)["correction"]] + [*row.needs, *closers()])


def find_misconception(key: str) -> Misconception | None:
    """Return the misconception with this key, or None."""
    return next((row for row in misconceptions() if row.key == key), None)


@cache
def misconceptions() -> tuple[Misconception, ...]:
    """Return every misconception: the ones derived from facts.toml, then the hand-written rows."""
    facts = load_facts()
    data = _data()
    needs = data["need"]
    derived = []
    for destination in facts.destinations:
        for kind in _derived_kinds(destination, data):
            need = needs.get(f"{destination.key}_{kind}")
            if need:  # a derived belief with no real need to serve would teach a bare correction: left out
                derived.append(_row(destination, kind, {}, need))
    hand = [_row(facts.by_key(row["destination"]), row["kind"], row, row["need"]) for row in data["row"]]
    return tuple(derived + hand)


def _derived_kinds(destination: Destination, data: dict) -> list[str]:
    """Return the kinds of false belief the facts alone establish for a destination."""
    kinds = []
    if destination.sea is False:
        kinds.append("sea")
    if not destination.snow and destination.climate.startswith("highland"):
        kinds.append("snow")
    if destination.former and destination.province not in destination.former:
        kinds.append("province")
    if destination.key in data["confused_region"]:
        kinds.append("region")
    return kinds


def _row(destination: Destination, kind: str, row: dict, need: list[str]) -> Misconception:
    """Build one misconception with every slot its kind's templates may use."""
    slots = {
        "place": destination.name,
        "region": destination.region,
        "province": _province_with_kind(destination.province),
        "former": destination.former[0] if destination.former else destination.province,
        "wrong_region": _data()["confused_region"].get(destination.key, ""),
        "landmark": row.get("landmark", ""),
        "wrong_place": row.get("wrong_place", ""),
        "spot": row.get("spot", destination.name),
    }
    suffix = f"-{_ascii(slots['landmark'])}" if slots["landmark"] else ""
    return Misconception(f"{destination.key}-{kind}{suffix}", kind, destination.key, tuple(slots.items()), tuple(need))


def _province_with_kind(province: str) -> str:
    """Return "thành phố X" for a centrally-run city, else "tỉnh X"."""
    return f"thành phố {province}" if province in _data()["cities"] else f"tỉnh {province}"


def _ascii(name: str) -> str:
    return "".join(ch for ch in strip_diacritics(name).lower() if ch.isalnum())
