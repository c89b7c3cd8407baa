"""Diversity of the user turns written: distinct-n over syllables, and how alike the variants of one seed are."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from itertools import combinations

from augment.records import Sample
from augment.text import exact_key, jaccard, shingles


def distinct_n(texts: Iterable[str], n: int) -> float:
    """Return distinct-n: unique syllable n-grams over all n-grams, on the accented comparison key."""
    seen: set[tuple[str, ...]] = set()
    total = 0
    for text in texts:
        tokens = exact_key(text).split()
        grams = [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
        seen.update(grams)
        total += len(grams)
    return len(seen) / total if total else 0.0


def within_seed_similarity(samples: Sequence[Sample]) -> tuple[float, float]:
    """Return the mean and the highest pairwise similarity of user turns that share a seed."""
    # The similarity dedup uses (Jaccard of unaccented syllable 1-2-grams); the mean is taken per seed first, so
    # seeds with more samples do not weigh more.
    by_seed: dict[str, list[set[str]]] = defaultdict(list)
    for sample in samples:
        by_seed[sample.seed.id].append(shingles(sample.user))
    means, highest = [], 0.0
    for grams in by_seed.values():
        scores = [jaccard(a, b) for a, b in combinations(grams, 2)]
        if scores:
            means.append(sum(scores) / len(scores))
            highest = max(highest, *scores)
    return (sum(means) / len(means) if means else 0.0), highest


def diversity(samples: Sequence[Sample]) -> dict[str, float]:
    """Return the diversity figures of the user turns for the run report."""
    users = [sample.user for sample in samples]
    mean, highest = within_seed_similarity(samples)
    return {
        "distinct_1": round(distinct_n(users, 1), 4),
        "distinct_2": round(distinct_n(users, 2), 4),
        "mean_similarity_within_seed": round(mean, 4),
        "max_similarity_within_seed": round(highest, 4),
    }
