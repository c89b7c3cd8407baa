"""Coherent figure variation: ranges stay rising, durations are not clock times, orders and bounds hold."""

from __future__ import annotations

import random
import re

import pytest

from augment.generators.figures import vary
from augment.knowledge.seed_facts import Figure, fact_records
from augment.text import parse_number

NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def _values(text: str) -> list[float]:
    return [parse_number(n) for n in NUMBER.findall(text)]


def _minutes(text: str) -> list[float]:
    """Return a duration's quantities in minutes ("45 phút đến 1 giờ" -> [45, 60])."""
    found = re.findall(r"(\d+(?:,\d+)?)(?:-(\d+(?:,\d+)?))? (phút|giờ)", text)
    scale = {"phút": 1, "giờ": 60}
    return [parse_number(v) * scale[unit] for a, b, unit in found for v in (a, b) if v]


def _all_draws():
    """Yield (record, mapping) for every record with a drifting figure, under 30 random draws each."""
    for record in fact_records().values():
        if record.varied:
            for seed in range(30):
                yield record, vary(record.varied, random.Random(seed))


def test_every_record_with_a_drifting_figure_can_be_varied():
    for record, mapping in _all_draws():
        assert mapping is not None, record.seed_id
        assert set(mapping) == {figure.text for figure in record.varied}
        assert all(new != old for old, new in mapping.items()), record.seed_id


def test_both_ends_of_a_range_move_together_and_stay_rising():
    for record, mapping in _all_draws():
        for figure in record.varied:
            new = mapping[figure.text]
            values = _minutes(new) if figure.kind == "duration" else _values(new)
            assert values == sorted(set(values)), (record.seed_id, figure.text, new)


def test_figures_an_answer_compares_keep_their_order():
    for record, mapping in _all_draws():
        for kind in ("price", "distance", "duration"):
            figures = [f for f in record.varied if f.kind == kind]
            read = _minutes if kind == "duration" else _values
            old = [v for f in figures for v in read(f.text)]
            new = [v for f in figures for v in read(mapping[f.text])]
            for i in range(len(old)):
                for j in range(len(old)):
                    assert (old[i] < old[j]) == (new[i] < new[j]), (record.seed_id, kind, old, new)


def test_clock_times_shift_as_times_and_durations_scale_as_durations():
    for record, mapping in _all_draws():
        for figure in record.varied:
            new = mapping[figure.text]
            assert not re.search(r"(?<![\d,])0 giờ|giờ 00", new), (record.seed_id, new)
            if figure.kind == "clock":
                hour, minute = re.fullmatch(r"(\d+) giờ(?: (\d\d))?", new).groups()
                whole = re.fullmatch(r"\d+ giờ", figure.text) is not None
                assert 4 <= int(hour) <= 23 and (minute is None or not whole), new  # "21 giờ" never becomes "21 giờ 30"
            if figure.kind == "duration":
                assert all(1 <= m <= 12 * 60 for m in _minutes(new)), (record.seed_id, new)


@pytest.mark.parametrize(
    "figure, low, high",
    [
        (Figure("price", "vé", "10.000-15.000 đồng"), 1000, 50_000_000),
        (Figure("price", "gửi xe", "5.000-10.000 đồng"), 1000, 50_000_000),
        (Figure("distance", "cách", "1-2 km"), 0.5, 300),
        (Figure("duration", "mất", "5-7 phút"), 1, 240),
    ],
)
def test_small_ranges_never_collapse_and_stay_in_bounds(figure, low, high):
    for seed in range(200):
        new = vary([figure], random.Random(seed))[figure.text]
        values = _values(new)
        assert values[0] < values[1] and low <= values[0] and values[1] <= high, new


def test_a_whole_hour_moves_by_whole_hours():
    figure = Figure("clock", "phun lửa", "21 giờ")
    seen = {vary([figure], random.Random(seed))[figure.text] for seed in range(100)}
    assert seen and all(re.fullmatch(r"\d+ giờ", text) for text in seen) and "21 giờ" not in seen
