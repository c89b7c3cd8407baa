"""Coherent figure variation: the drifting figures of an answer move together and stay plausible and ordered."""

from __future__ import annotations

import random
import re
import tomllib
from collections.abc import Sequence
from functools import cache
from importlib import resources
from itertools import combinations

from augment.knowledge.seed_facts import Figure
from augment.text import parse_number

# A quantity: a number and the unit written after it, if any ("100.000-170.000 đồng": the first takes the second's).
_QUANTITY_RE = re.compile(r"(\d+(?:[.,]\d+)*)(?:\s*(đồng|km|phút|giờ)(?!\w))?")
_CLOCK_RE = re.compile(r"(\d{1,2})(?: giờ(?: (\d{2}))?|:(\d{2}))")
_MINUTES = {"giờ": 60}  # durations compare in minutes, so "45 phút đến 1 giờ" is an ordered range


@cache
def _data() -> dict:
    return tomllib.loads(resources.files("augment.knowledge.data").joinpath("grounding.toml").read_text("utf-8"))["vary"]


def vary(figures: Sequence[Figure], rng: random.Random) -> dict[str, str] | None:
    """Map each varied figure's text to a new text, or None if no draw keeps them all plausible and ordered.

    One factor per kind (one shift for clock times) moves every figure of that kind, so both ends of a range and
    two figures an answer compares keep their order; each result is rounded as the unit is written.
    """
    data = _data()
    figures = [figure for figure in figures if figure.kind in ("price", "distance", "duration", "clock")]
    if not figures:
        return None
    for _ in range(data["tries"]):
        draw = {kind: rng.choice(data[f"{kind}_factors"]) for kind in ("price", "distance")}
        # A trip that gets longer takes longer: the travel time moves the same way as the distance.
        draw["duration"] = rng.choice([f for f in data["duration_factors"] if (f > 1) == (draw["distance"] > 1)])
        draw["clock"] = rng.choice(data["clock_shifts"])
        mapping = _draw(figures, draw)
        if mapping is not None:
            return mapping
    return None


def _draw(figures: Sequence[Figure], draw: dict[str, float]) -> dict[str, str] | None:
    """Return the mapping one draw gives, or None if a figure stays the same, leaves its bounds or an order breaks."""
    mapping: dict[str, str] = {}
    values: dict[str, list[tuple[float, float]]] = {}
    for figure in figures:
        if figure.kind == "clock":
            varied = _shift_clock(figure.text, int(draw["clock"]))
        else:
            varied = _scale(figure.text, draw[figure.kind])
        if varied is None or varied[0] == figure.text:
            return None
        mapping[figure.text] = varied[0]
        values.setdefault(figure.kind, []).extend(varied[1])
    return mapping if all(map(_order_kept, values.values())) else None


def _order_kept(pairs: list[tuple[float, float]]) -> bool:
    """Return True if every two (old, new) values of one kind compare the same way before and after."""
    return all((a < b) == (c < d) and (a == b) == (c == d) for (a, c), (b, d) in combinations(pairs, 2))


def _scale(text: str, factor: float) -> tuple[str, list[tuple[float, float]]] | None:
    """Scale every quantity of text by factor, rounded as its unit is written; None if one leaves its bounds."""
    matches = list(_QUANTITY_RE.finditer(text))
    units = [m.group(2) or next((n.group(2) for n in matches[i + 1:] if n.group(2)), "") for i, m in enumerate(matches)]
    pieces, pairs, last = [], [], 0
    for match, unit in zip(matches, units):
        old = parse_number(match.group(1))
        new = _rounded(old * factor, unit)
        low, high = _data()["bounds"].get(unit, [0, float("inf")])
        if not low <= new <= high or unit == "phút" and new >= 60 and "giờ" in units:  # not "65 phút đến 1,5 giờ"
            return None
        scale = _MINUTES.get(unit, 1)
        pairs.append((old * scale, new * scale))
        pieces += [text[last:match.start(1)], _shown(new, unit)]
        last = match.end(1)
    if any(b[1] <= a[1] for a, b in zip(pairs, pairs[1:])):  # a range must stay a rising range
        return None
    return "".join(pieces) + text[last:], pairs


def _rounded(value: float, unit: str) -> float:
    """Round a value the way its unit is usually written: prices to 1.000-50.000 đồng, short distances to 0,5 km."""
    if unit == "đồng":
        step = 1000 if value < 20_000 else 5000 if value < 200_000 else 10_000 if value < 2_000_000 else 50_000
    elif unit == "phút":
        step = 1 if value < 10 else 5
    elif unit == "km":
        step = 0.5 if value < 3 else 1
    else:
        step = 0.5  # hours of a duration: "1,5 giờ"
    return round(value / step) * step


def _shown(value: float, unit: str) -> str:
    """Write a value as Vietnamese does: "1.250.000", "2,5"."""
    if unit == "đồng":
        return f"{int(value):,}".replace(",", ".")
    return str(int(value)) if value == int(value) else f"{value:.1f}".replace(".", ",")


def _shift_clock(text: str, minutes: int) -> tuple[str, list[tuple[float, float]]] | None:
    """Shift every clock time of text by minutes; None if one is written in whole hours and the shift is not."""
    pieces, pairs, last = [], [], 0
    for match in _CLOCK_RE.finditer(text):
        hour, minute = int(match.group(1)), int(match.group(2) or match.group(3) or 0)
        written_whole = match.group(2) is None and match.group(3) is None
        if written_whole and minutes % 60:
            return None
        old = hour * 60 + minute
        new = old + minutes
        earliest, latest = _data()["bounds"]["clock"]
        if not earliest <= new <= latest:
            return None
        pairs.append((old, new))
        pieces += [text[last:match.start()], _clock(new, colon=match.group(3) is not None)]
        last = match.end()
    return ("".join(pieces) + text[last:], pairs) if pairs else None


def _clock(minutes: int, colon: bool) -> str:
    """Write a clock time as the text did: "7:30", or "21 giờ" and "4 giờ 30" (never "5 giờ 00")."""
    hour, minute = divmod(minutes, 60)
    if colon:
        return f"{hour}:{minute:02d}"
    return f"{hour} giờ {minute:02d}" if minute else f"{hour} giờ"
