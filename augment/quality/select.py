"""Select exactly the target number of samples, balanced across intents and seeds, deterministically."""

from __future__ import annotations

from collections.abc import Sequence

from augment.records import INTENTS, Sample, Seed


def _split(total: int, parts: int) -> list[int]:
    """Split total into parts that differ by at most one, larger ones first."""
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def plan_quotas(seeds: Sequence[Seed], target: int) -> dict[str, int]:
    """Give each intent an equal share of the target, then each seed an equal share of its intent's."""
    intents = [intent for intent in INTENTS if any(s.intent == intent for s in seeds)]
    quotas: dict[str, int] = {}
    for intent, intent_quota in zip(intents, _split(target, len(intents))):
        members = [s for s in seeds if s.intent == intent]
        quotas.update({s.id: q for s, q in zip(members, _split(intent_quota, len(members)))})
    return quotas


def select(pools: dict[str, list[Sample]], seeds: Sequence[Seed], target: int) -> list[Sample]:
    """Take each seed's quota from its pool; fill any shortfall from the same intent first, then any seed."""
    quotas = plan_quotas(seeds, target)
    taken = {s.id: min(quotas[s.id], len(pools.get(s.id, ()))) for s in seeds}
    for intent in [*INTENTS, None]:
        wanted = _intent_quota(quotas, seeds, intent) - _intent_taken(taken, seeds, intent)
        members = [s for s in seeds if intent is None or s.intent == intent]
        wanted = min(wanted, target - sum(taken.values()))
        while wanted > 0:
            spare = [s for s in members if taken[s.id] < len(pools.get(s.id, ()))]
            if not spare:
                break
            for seed in spare[:wanted]:
                taken[seed.id] += 1
                wanted -= 1
    return [sample for s in seeds for sample in pools.get(s.id, [])[: taken[s.id]]]


def _intent_quota(quotas: dict[str, int], seeds: Sequence[Seed], intent: str | None) -> int:
    return sum(quotas[s.id] for s in seeds if intent is None or s.intent == intent)


def _intent_taken(taken: dict[str, int], seeds: Sequence[Seed], intent: str | None) -> int:
    return sum(taken[s.id] for s in seeds if intent is None or s.intent == intent)
