"""Structured fact records per seed (knowledge/data/seed_facts.toml): what a retriever would know about its subject."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from augment.records import Seed

VARIED = ("price", "distance", "duration", "clock")  # figure kinds that drift in the world; "fixed" never moves


@dataclass(frozen=True, slots=True)
class Figure:
    """One figure of a seed answer, written exactly as the answer writes it ("100.000-170.000 đồng")."""

    kind: str  # price, distance, duration, clock or fixed
    label: str  # what the figure measures, as a listing would name it
    text: str
    per: str = ""  # the price unit after "đồng/", e.g. "người lớn"
    of: str = ""  # the entity it belongs to, when the record covers two


@dataclass(frozen=True, slots=True)
class FactRecord:
    """What a retrieved document may say about a seed's subject."""

    seed_id: str
    entity: str
    kind: str  # venue, dish, stay, tour, rental, trip, service, area, plan, topic
    address: str = ""
    at: str = "ở"  # the word between "nằm" and the address: "trên đèo Prenn", "bên bờ hồ Xuân Hương"
    as_of: str = ""  # "MM/YYYY", when a listing says its figures were updated
    figures: tuple[Figure, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def located(self) -> str:
        """Return where the entity lies, as a clause: "nằm trên đèo Prenn, ..." ("" without an address)."""
        return " ".join(part for part in ("nằm", self.at, self.address) if part) if self.address else ""

    @property
    def varied(self) -> tuple[Figure, ...]:
        """Return the figures grounding may vary."""
        return tuple(figure for figure in self.figures if figure.kind in VARIED)


@cache
def fact_records() -> dict[str, FactRecord]:
    """Return every seed's fact record, by seed id."""
    raw = tomllib.loads(resources.files("augment.knowledge.data").joinpath("seed_facts.toml").read_text("utf-8"))
    return {key: _record(key, value) for key, value in raw.items()}


def _record(key: str, raw: dict) -> FactRecord:
    figures = tuple(Figure(**figure) for figure in raw.get("figures", ()))
    return FactRecord(key, raw["entity"], raw["kind"], raw.get("address", ""), raw.get("at", "ở"), raw.get("as_of", ""),
                      figures, tuple(raw.get("notes", ())))


def record_for(seed: Seed) -> FactRecord | None:
    """Return the seed's record if it has one and every figure of it is still in the seed's answer, else None."""
    record = fact_records().get(seed.id)
    # A seed file may reuse an id for another pair: a record that no longer matches its answer is not used.
    if record is None or not all(figure.text in seed.answer for figure in record.figures):
        return None
    return record
