"""Selection: exact target, balanced across intents and seeds, shortfalls refilled."""

from __future__ import annotations

from collections import Counter

from augment.records import INTENTS, Sample, Seed
from augment.quality.select import plan_quotas, select


def _seeds(per_intent: dict[str, int]) -> list[Seed]:
    return [Seed(f"{intent}-{i}", intent, "Đà Lạt", "q", "a") for intent, count in per_intent.items() for i in range(count)]


def _pools(seeds, size):
    return {s.id: [Sample(s, f"{s.id} u{i}", "Dạ", "offline", "m") for i in range(size(s))] for s in seeds}


def test_quotas_split_evenly_across_intents_then_seeds():
    seeds = _seeds({"price": 30, "address": 10, "suggestion": 20, "itinerary": 20, "comparison": 20})
    quotas = plan_quotas(seeds, 1000)
    by_intent = Counter()
    for seed in seeds:
        by_intent[seed.intent] += quotas[seed.id]
    assert set(by_intent.values()) == {200}
    assert sum(quotas.values()) == 1000
    assert quotas["address-0"] == 20 and quotas["price-0"] in (6, 7)


def test_select_takes_exactly_target_in_seed_order():
    seeds = _seeds({intent: 3 for intent in INTENTS})
    chosen = select(_pools(seeds, lambda s: 10), seeds, 97)
    assert len(chosen) == 97
    order = [s.seed.id for s in chosen]
    assert order == sorted(order, key=[s.id for s in seeds].index)


def test_short_seed_is_refilled_from_its_own_intent_first():
    seeds = _seeds({intent: 2 for intent in INTENTS})
    chosen = select(_pools(seeds, lambda s: 2 if s.id == "price-0" else 20), seeds, 100)
    counts = Counter(s.seed.intent for s in chosen)
    assert len(chosen) == 100
    assert set(counts.values()) == {20}
    assert Counter(s.seed.id for s in chosen)["price-1"] == 18


def test_short_overall_returns_what_there_is():
    seeds = _seeds({"price": 2})
    assert len(select(_pools(seeds, lambda s: 3), seeds, 10)) == 6
