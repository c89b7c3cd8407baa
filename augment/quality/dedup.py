"""Deduplicate samples: exact keys, then near-duplicate user turns by MinHash LSH over syllable n-grams."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from augment.quality.minhash import MinHasher, MinHashIndex
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


def is_near_duplicate(grams: frozenset[str], others: Iterable[frozenset[str]], threshold: float = NEAR_THRESHOLD) -> bool:
    """Return True if the n-gram set is a near-duplicate of any of the others (exact Jaccard, no index)."""
    return any(jaccard(grams, other) >= threshold for other in others)


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What dedup compares of a user turn: its exact key, its syllable n-grams and their MinHash signature."""

    key: str
    grams: frozenset[str]
    signature: np.ndarray


_HASHER = MinHasher(num_perm=64)


def fingerprint_of(user: str, grams: frozenset[str] | None = None) -> Fingerprint:
    """Return a user turn's fingerprint, the same in any process; grams, if known, must be its shingles()."""
    grams = shingles(user) if grams is None else grams
    return Fingerprint(exact_key(user), grams, _HASHER.signature(grams))


class Deduper:
    """Admit samples one at a time, refusing exact and near duplicates of those already admitted."""

    def __init__(self, near_threshold: float = NEAR_THRESHOLD):
        self.near_threshold = near_threshold
        self._answers: dict[str, str] = {}  # user key -> the answer admitted with it, keyed only if asked
        self._shingles: list[frozenset[str]] = []  # by index key
        # Candidates come from about 0.5 estimated similarity (16 bands of 4 rows); each is then checked exactly.
        self._index = MinHashIndex(num_perm=64, bands=16)
        self._checked: tuple[str, Fingerprint, list[int]] | None = None  # the last sample duplicate() found new

    def admit(self, sample: Sample) -> str:
        """Return "" and remember the sample if it is new, else the reason it is a duplicate."""
        reason = self.duplicate(sample)
        if not reason:
            self.remember(sample)
        return reason

    def duplicate(self, sample: Sample, fingerprint: Fingerprint | None = None) -> str:
        """Return the reason the sample duplicates an admitted one, or "" if it is new; remember nothing."""
        fingerprint = fingerprint or fingerprint_of(sample.user)
        if fingerprint.key in self._answers:  # answers are long: keyed only when the user turns match
            same = exact_key(self._answers[fingerprint.key]) == exact_key(sample.assistant)
            return "duplicate-pair" if same else "duplicate-user"
        bands = self._index.band_keys(fingerprint.signature)
        candidates = self._index.query(fingerprint.signature, self.near_threshold - _AGREEMENT_MARGIN, bands)
        if is_near_duplicate(fingerprint.grams, (self._shingles[key] for key in candidates), self.near_threshold):
            return "near-duplicate"
        self._checked = (sample.user, fingerprint, bands)
        return ""

    def remember(self, sample: Sample) -> Fingerprint:
        """Admit a sample that duplicate() found new, so later samples are compared with it; return its fingerprint."""
        if self._checked is None or self._checked[0] != sample.user:
            raise ValueError("remember() takes the sample duplicate() last found new")
        _, fingerprint, bands = self._checked
        self._checked = None
        self._index.insert(len(self._shingles), fingerprint.signature, bands)
        self._shingles.append(fingerprint.grams)
        self._answers[fingerprint.key] = sample.assistant
        return fingerprint
