"""Deduplicate samples: exact keys, then near-duplicate user turns by MinHash LSH over syllable n-grams."""

from __future__ import annotations

from datasketch import MinHash, MinHashLSH

from augment.records import Sample
from augment.text import exact_key, jaccard, shingles

# Two user turns whose unaccented syllable 1-2-gram sets overlap by this Jaccard or more are near-duplicates.
# Measured on the seed variants (bench/README): greeting-only rewrites of one question ("Xin hỏi, X?" vs "X?")
# score 0.80-0.95, while rewrites that change register, synonyms or word order score 0.35-0.75.
NEAR_THRESHOLD = 0.8
# LSH finds candidates at a lower estimated similarity; every candidate is then checked exactly.
_LSH_THRESHOLD = 0.5
_NUM_PERM = 64


class Deduper:
    """Admit samples one at a time, refusing exact and near duplicates of those already admitted."""

    def __init__(self, near_threshold: float = NEAR_THRESHOLD):
        self.near_threshold = near_threshold
        self._pairs: set[tuple[str, str]] = set()
        self._users: set[str] = set()
        self._shingles: dict[int, set[str]] = {}
        self._lsh = MinHashLSH(threshold=_LSH_THRESHOLD, num_perm=_NUM_PERM)
        self._permutations = MinHash(num_perm=_NUM_PERM, seed=1, scheme="affine32").permutations

    def admit(self, sample: Sample) -> str:
        """Return "" and remember the sample if it is new, else the reason it is a duplicate."""
        user = exact_key(sample.user)
        pair = (user, exact_key(sample.assistant))
        if pair in self._pairs:
            return "duplicate-pair"
        if user in self._users:
            return "duplicate-user"
        grams = shingles(sample.user)
        signature = self._signature(grams)
        if self._has_near_duplicate(grams, signature):
            return "near-duplicate"
        key = len(self._shingles)
        self._shingles[key] = grams
        self._lsh.insert(key, signature)
        self._pairs.add(pair)
        self._users.add(user)
        return ""

    def _signature(self, grams: set[str]) -> MinHash:
        signature = MinHash(num_perm=_NUM_PERM, permutations=self._permutations, scheme="affine32")
        signature.update_batch([g.encode("utf-8") for g in grams])
        return signature

    def _has_near_duplicate(self, grams: set[str], signature: MinHash) -> bool:
        return any(jaccard(grams, self._shingles[key]) >= self.near_threshold for key in self._lsh.query(signature))
