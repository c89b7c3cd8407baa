"""Diversity of the user turns written: distinct-n over syllables, and how alike the variants of one seed are."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from itertools import combinations

from augment.records import Sample
from augment.text import exact_key, jaccard, shingles

UserTurn = tuple[str, str]  # (seed id, user turn)


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
    return _within_seed(user_turns(samples))


def _within_seed(turns: Iterable[UserTurn]) -> tuple[float, float]:
    # The similarity dedup uses (Jaccard of unaccented syllable 1-2-grams); the mean is taken per seed first, so
    # seeds with more samples do not weigh more.
    by_seed: dict[str, list[AbstractSet[str]]] = defaultdict(list)
    for seed_id, user in turns:
        by_seed[seed_id].append(shingles(user))
    means, highest = [], 0.0
    for grams in by_seed.values():
        scores = [jaccard(a, b) for a, b in combinations(grams, 2)]
        if scores:
            means.append(sum(scores) / len(scores))
            highest = max(highest, *scores)
    return (sum(means) / len(means) if means else 0.0), highest


def diversity(samples: Sequence[Sample]) -> dict[str, float]:
    """Return the diversity figures of the user turns for the run report."""
    return user_diversity(user_turns(samples))


def user_diversity(turns: Sequence[UserTurn]) -> dict[str, float]:
    """Return diversity() of user turns given as (seed id, text): plain data, cheap to hand to another process."""
    tokens = [exact_key(user).split() for _, user in turns]  # split once for both n
    mean, highest = _within_seed(turns)
    return {
        "distinct_1": round(_distinct(tokens, 1), 4),
        "distinct_2": round(_distinct(tokens, 2), 4),
        "mean_similarity_within_seed": round(mean, 4),
        "max_similarity_within_seed": round(highest, 4),
    }


def user_turns(samples: Sequence[Sample]) -> list[UserTurn]:
    """Return the samples' user turns as user_diversity takes them."""
    return [(sample.seed.id, sample.user) for sample in samples]
