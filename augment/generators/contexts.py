"""Retrieved contexts rendered from fact records: listing cards, short articles and update notices, as a retriever returns them."""

from __future__ import annotations

import random
import tomllib
from collections.abc import Sequence
from functools import cache
from importlib import resources

from augment.knowledge.seed_facts import FactRecord, Figure
from augment.text import fold, shingles

SHAPES = ("card", "article", "notice")


@cache
def _data() -> dict:
    return tomllib.loads(resources.files("augment.knowledge.data").joinpath("grounding.toml").read_text("utf-8"))


def capitalised(text: str) -> str:
    """Return text with its first letter in capitals."""
    return text[:1].upper() + text[1:]


def render_context(passages: Sequence[tuple[FactRecord, dict[str, str], bool]], shape: str) -> str:
    """Render numbered passages, one per (record, figure mapping, with prices) and per entity a record compares."""
    blocks = [block for record, mapping, prices in passages for block in _blocks(record, mapping, prices, shape)]
    return "\n".join(f"[{n}] {block}" for n, block in enumerate(blocks, 1))


def _blocks(record: FactRecord, mapping: dict[str, str], prices: bool, shape: str) -> list[str]:
    """Return the passages of one record: one per entity its figures belong to, the notes with the record's own."""
    figures = [f for f in record.figures if prices or f.kind != "price"]
    groups: dict[str, list[Figure]] = {}
    for figure in figures:
        groups.setdefault(figure.of or record.entity, []).append(figure)
    if not groups or record.entity not in groups and record.notes:
        groups = {record.entity: [], **groups}
    render = {"card": _card, "article": _article, "notice": _notice}[shape]
    # The record's own passage (the first) carries its address and notes.
    return [render(record, entity, group, mapping, n == 0) for n, (entity, group) in enumerate(groups.items())]


def _value(figure: Figure, mapping: dict[str, str]) -> str:
    text = mapping.get(figure.text, figure.text)
    return f"{text}/{figure.per}" if figure.per else text


def _card(record: FactRecord, entity: str, figures: list[Figure], mapping: dict[str, str], own: bool) -> str:
    data = _data()["context"]
    notes = "; ".join(note.rstrip(".") for note in record.notes)
    if not figures and " và " in entity:  # the notes of a record comparing two subjects
        return data["card_shared_notes"].format(entity=entity, notes=notes)
    fields = [data["card_name"].format(entity=capitalised(entity))]
    if own and record.address:
        fields.append(data["card_address"].format(address=record.address))
    dated = False
    for figure in figures:
        label = figure.label
        if figure.kind == "price" and record.as_of and not dated:  # the first price says when it was updated
            label, dated = data["card_price"].format(label=label, as_of=record.as_of), True
        fields.append(f"{label}: {_value(figure, mapping)}")
    if own and record.notes:
        fields.append(data["card_notes"].format(notes=notes))
    return data["card_separator"].join(fields)


def _article(record: FactRecord, entity: str, figures: list[Figure], mapping: dict[str, str], own: bool) -> str:
    data = _data()["context"]
    if own and record.address:
        parts = [data["article_address"].format(Entity=capitalised(entity), located=record.located)]
    else:
        parts = [f"{capitalised(entity)}."]
    templates = {kind: data["article_fixed" if kind == "fixed" else "article_figure"] for kind in {f.kind for f in figures}}
    stated = [templates[f.kind].format(label=f.label, value=_value(f, mapping)) for f in figures]
    if stated:
        parts.append("; ".join(stated) + ".")
    if own:
        parts += list(record.notes)
    return " ".join(parts)


def _notice(record: FactRecord, entity: str, figures: list[Figure], mapping: dict[str, str], own: bool) -> str:
    data = _data()["context"]
    items = [data["notice_address"].format(address=record.address)] if own and record.address else []
    items += [data["notice_figure"].format(label=figure.label, value=_value(figure, mapping)) for figure in figures]
    title = data["notice_title"].format(as_of=record.as_of or "gần đây", entity=entity)
    notes = " ".join(record.notes) if own else ""
    return " ".join(part for part in (title, "; ".join(items) + "." if items else "", notes) if part)


def distractors(record: FactRecord, place: str, pool: Sequence[FactRecord], rng: random.Random) -> list[FactRecord]:
    """Return zero, one or two records about other subjects of the same destination, drawn from pool."""
    data = _data()
    if rng.random() >= data["distractor_share"]:
        return []
    own = _name_grams(record, place)
    others = [other for other in pool if other.seed_id != record.seed_id and other.varied and " và " not in other.entity
              and not own & _name_grams(other, place)]
    count = 2 if rng.random() < data["second_distractor_share"] else 1
    return rng.sample(others, min(count, len(others)))


def _name_grams(record: FactRecord, place: str) -> frozenset[str]:
    """Return the syllable pairs naming a record's subjects, its destination's name left out."""
    names = [record.entity, *(figure.of for figure in record.figures if figure.of)]
    place_folded = fold(place)
    grams = frozenset().union(*(shingles(fold(name).replace(place_folded, " ")) for name in names))
    return frozenset(gram for gram in grams if " " in gram)  # pairs only: "hồ" alone names no subject
