"""Diversity of the user turns written: distinct-n over syllables, and how alike the variants of one seed are."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from itertools import combinations

from augment.quality.dedup import Fingerprint
from augment.records import Sample
from augment.text import exact_key, jaccard, shingles


def distinct_n(texts: Iterable[str], n: int) -> float:
    """Return distinct-n: unique syllable n-grams over all n-grams, on the accented comparison key."""
    return _distinct([exact_key(text).split() for text in texts], n)


def _distinct(token_lists: Iterable[list[str]], n: int) -> float:
    seen: set[tuple[str, ...]] = set()
    total = 0
    for tokens in token_lists:
        grams = list(zip(*(tokens[i:] for i in range(n))))  # the n-grams as tuples, built in C
        seen.update(grams)
        total += len(grams)
    return len(seen) / total if total else 0.0


def within_seed_similarity(samples: Sequence[Sample]) -> tuple[float, float]:
    """Return the mean and the highest pairwise similarity of user turns that share a seed."""
    return similarity_within_seed((seed_id, grams) for seed_id, _, grams in _turns(samples, {}))


def similarity_within_seed(turns: Iterable[tuple[str, AbstractSet[str]]]) -> tuple[float, float]:
    """Return the mean (per seed, then over seeds) and highest similarity of (seed id, n-grams) turns sharing a seed."""
    # The similarity dedup uses (Jaccard of unaccented syllable 1-2-grams); the mean is taken per seed first, so
    # seeds with more samples do not weigh more.
    by_seed: dict[str, list[AbstractSet[str]]] = defaultdict(list)
    for seed_id, grams in turns:
        by_seed[seed_id].append(grams)
    means, highest = [], 0.0
    for grams in by_seed.values():
        scores = [jaccard(a, b) for a, b in combinations(grams, 2)]
        if scores:
            means.append(sum(scores) / len(scores))
            highest = max(highest, *scores)
    return (sum(means) / len(means) if means else 0.0), highest


def diversity(samples: Sequence[Sample], fingerprints: Mapping[str, Fingerprint] | None = None) -> dict[str, float]:
    """Return the diversity figures of the user turns for the run report; fingerprints saves keying known turns again."""
    turns = _turns(samples, fingerprints or {})
    tokens = [key.split() for _, key, _ in turns]  # split once for both n
    mean, highest = similarity_within_seed((seed_id, grams) for seed_id, _, grams in turns)
    return {
        "distinct_1": round(_distinct(tokens, 1), 4),
        "distinct_2": round(_distinct(tokens, 2), 4),
        "mean_similarity_within_seed": round(mean, 4),
        "max_similarity_within_seed": round(highest, 4),
    }


def _turns(samples: Sequence[Sample], fingerprints: Mapping[str, Fingerprint]) -> list[tuple[str, str, frozenset[str]]]:
    """Return each sample's seed id with its user turn's exact key and n-grams, taken from fingerprints where known."""
    turns = []
    for sample in samples:
        known = fingerprints.get(sample.user)
        key, grams = (known.key, known.grams) if known else (exact_key(sample.user), shingles(sample.user))
        turns.append((sample.seed.id, key, grams))
    return turns
