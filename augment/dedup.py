"""Deduplicate samples: exact keys, then near-duplicate user turns by MinHash LSH over syllable n-grams."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from augment.minhash import MinHashIndex
from augment.records import Sample
from augment.text import exact_key, jaccard, shingles

# Two user turns whose unaccented syllable 1-2-gram sets overlap by this Jaccard or more are near-duplicates.
# Measured against the seed questions (bench/README.md): wrapper-only rewrites ("Xin hỏi, X?") have a median of
# 0.70-0.78 and about a fifth of them reach 0.8 (long questions, short greetings); synonym or inversion rewrites
# have a median of 0.45-0.58 and almost never reach it. 0.8 drops the rewrites that add nothing to learn from.
NEAR_THRESHOLD = 0.8
# LSH candidates whose signatures agree on less than the threshold minus this margin are dropped before the exact
# check: four standard errors (64 values) below the threshold, so a true near-duplicate is lost about once in 30,000.
_AGREEMENT_MARGIN = 0.2


def is_near_duplicate(grams: set[str], others: Iterable[set[str]], threshold: float = NEAR_THRESHOLD) -> bool:
    """Return True if the n-gram set is a near-duplicate of any of the others (exact Jaccard, no index)."""
    return any(jaccard(grams, other) >= threshold for other in others)


class Deduper:
    """Admit samples one at a time, refusing exact and near duplicates of those already admitted."""

    def __init__(self, near_threshold: float = NEAR_THRESHOLD):
        self.near_threshold = near_threshold
        self._pairs: set[tuple[str, str]] = set()
        self._users: set[str] = set()
        self._shingles: dict[int, set[str]] = {}
        # Candidates come from about 0.5 estimated similarity (16 bands of 4 rows); each is then checked exactly.
        self._index = MinHashIndex(num_perm=64, bands=16)
        self._siblings: defaultdict[str, list[int]] = defaultdict(list)  # admitted keys by seed id
        self._checked: tuple | None = None  # the last sample duplicate() found new, with its n-grams and signature

    def admit(self, sample: Sample) -> str:
        """Return "" and remember the sample if it is new, else the reason it is a duplicate."""
        reason = self.duplicate(sample)
        if not reason:
            self.remember(sample)
        return reason

    def duplicate(self, sample: Sample) -> str:
        """Return the reason the sample duplicates an admitted one, or "" if it is new; remember nothing."""
        user = exact_key(sample.user)
        if user in self._users:  # every admitted pair's user is here, so the answer's key is needed only now
            return "duplicate-pair" if (user, exact_key(sample.assistant)) in self._pairs else "duplicate-user"
        grams = shingles(sample.user)
        # Most near-duplicates are siblings, variants of one seed: a few exact checks settle them without the index.
        if is_near_duplicate(grams, (self._shingles[key] for key in self._siblings[sample.seed.id]), self.near_threshold):
            return "near-duplicate"
        signature = self._index.signature(grams)
        if self._has_near_duplicate(grams, signature):
            return "near-duplicate"
        self._checked = (sample.user, grams, signature)
        return ""

    def remember(self, sample: Sample) -> None:
        """Admit a sample that duplicate() found new, so later samples are compared with it."""
        if self._checked is None or self._checked[0] != sample.user:
            raise ValueError("remember() takes the sample duplicate() last found new")
        _, grams, signature = self._checked
        self._checked = None
        key = len(self._shingles)
        self._shingles[key] = grams
        self._siblings[sample.seed.id].append(key)
        self._index.insert(key, signature)
        user = exact_key(sample.user)
        self._pairs.add((user, exact_key(sample.assistant)))
        self._users.add(user)

    def _has_near_duplicate(self, grams: set[str], signature) -> bool:
        candidates = self._index.query(signature, min_agreement=self.near_threshold - _AGREEMENT_MARGIN)
        return any(jaccard(grams, self._shingles[key]) >= self.near_threshold for key in candidates)
