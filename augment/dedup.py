"""Deduplicate samples: exact keys, then near-duplicate user turns by MinHash LSH over syllable n-grams."""

from __future__ import annotations

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


class Deduper:
    """Admit samples one at a time, refusing exact and near duplicates of those already admitted."""

    def __init__(self, near_threshold: float = NEAR_THRESHOLD):
        self.near_threshold = near_threshold
        self._pairs: set[tuple[str, str]] = set()
        self._users: set[str] = set()
        self._shingles: dict[int, set[str]] = {}
        # Candidates come from about 0.5 estimated similarity (16 bands of 4 rows); each is then checked exactly.
        self._index = MinHashIndex(num_perm=64, bands=16)

    def admit(self, sample: Sample) -> str:
        """Return "" and remember the sample if it is new, else the reason it is a duplicate."""
        user = exact_key(sample.user)
        if user in self._users:  # every admitted pair's user is here, so the answer's key is needed only now
            return "duplicate-pair" if (user, exact_key(sample.assistant)) in self._pairs else "duplicate-user"
        grams = shingles(sample.user)
        signature = self._index.signature(grams)
        if self._has_near_duplicate(grams, signature):
            return "near-duplicate"
        key = len(self._shingles)
        self._shingles[key] = grams
        self._index.insert(key, signature)
        self._pairs.add((user, exact_key(sample.assistant)))
        self._users.add(user)
        return ""

    def _has_near_duplicate(self, grams: set[str], signature) -> bool:
        candidates = self._index.query(signature, min_agreement=self.near_threshold - _AGREEMENT_MARGIN)
        return any(jaccard(grams, self._shingles[key]) >= self.near_threshold for key in candidates)
