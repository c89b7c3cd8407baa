"""A small MinHash LSH index: candidate near-duplicates in sub-linear time, deterministic across runs.

Written here rather than taken from datasketch: datasketch imports scipy at load time (0.65 s of a 2 s budget
for the whole nightly run), and this needs only signatures and banded buckets.
"""

from __future__ import annotations

import zlib
from array import array
from collections import defaultdict
from collections.abc import Set as AbstractSet

import numpy as np

_PRIME = np.uint64(4_294_967_291)  # largest prime below 2**32: a*h + b stays inside uint64


class MinHasher:
    """MinHash signatures of sets of strings, the same in every process for the same num_perm and seed."""

    def __init__(self, num_perm: int = 64, seed: int = 1):
        generator = np.random.default_rng(seed)
        self._a = generator.integers(1, int(_PRIME), size=num_perm, dtype=np.uint64)
        self._b = generator.integers(0, int(_PRIME), size=num_perm, dtype=np.uint64)
        self._hashes: dict[str, int] = {}

    def signature(self, items: AbstractSet[str]) -> np.ndarray:
        """Return the MinHash signature of a set of strings (crc32 is stable across processes)."""
        known = self._hashes  # n-grams recur across turns: hash each once
        for item in items:
            if item not in known:
                known[item] = zlib.crc32(item.encode("utf-8"))
        hashes = np.array([known[item] for item in items] or [0], dtype=np.uint64)
        return ((np.outer(hashes, self._a) + self._b) % _PRIME).min(axis=0)


class MinHashIndex:
    """Index sets of strings by MinHash signature; query returns keys likely above the band threshold."""

    def __init__(self, num_perm: int = 64, bands: int = 16, seed: int = 1):
        if num_perm % bands:
            raise ValueError(f"num_perm ({num_perm}) must be a multiple of bands ({bands})")
        self.hasher = MinHasher(num_perm, seed)
        self._rows = num_perm // bands
        # A band is bucketed by a random linear mix of its values: one numpy call for all bands, int dict keys.
        self._mix = np.random.default_rng([seed, 1]).integers(1, 2**63, size=self._rows, dtype=np.uint64)
        # Bucket members are typed arrays, so a query gathers them into numpy without a Python loop.
        self._buckets: list[dict[int, array]] = [defaultdict(lambda: array("q")) for _ in range(bands)]
        # Row k holds the low 16 bits of the signature inserted under key k, so candidates can be ranked without
        # their sets; two different values share them once in 65,536, which biases the estimate negligibly.
        self._signatures = np.zeros((1024, num_perm), dtype=np.uint16)

    @property
    def threshold(self) -> float:
        """Return the similarity at which a pair becomes a candidate with probability about one half."""
        return (1 / len(self._buckets)) ** (1 / self._rows)

    def signature(self, items: AbstractSet[str]) -> np.ndarray:
        """Return the MinHash signature of a set of strings."""
        return self.hasher.signature(items)

    def band_keys(self, signature: np.ndarray) -> list[int]:
        """Return the signature's bucket key in each band; pass them to query and insert to compute them once."""
        return (signature.reshape(len(self._buckets), self._rows) * self._mix).sum(axis=1).tolist()

    def insert(self, key: int, signature: np.ndarray, bands: list[int] | None = None) -> None:
        """Add a signature under an integer key; keys are row numbers, so use 0, 1, 2, ..."""
        for bucket, band in zip(self._buckets, bands or self.band_keys(signature)):
            bucket[band].append(key)
        if key >= len(self._signatures):
            grown = np.zeros((max(2 * len(self._signatures), key + 1), self._signatures.shape[1]), dtype=np.uint16)
            grown[: len(self._signatures)] = self._signatures
            self._signatures = grown
        self._signatures[key] = signature.astype(np.uint16)

    def query(self, signature: np.ndarray, min_agreement: float = 0.0, bands: list[int] | None = None) -> list[int]:
        """Return the keys sharing a band with the signature, most similar first, agreeing on min_agreement or more."""
        # The share of agreeing values estimates the Jaccard similarity (standard error about 0.05 at 0.8 with 64
        # values): a floor well below the caller's threshold drops most candidates before any exact check, and the
        # order lets a caller looking for any near-duplicate stop at the first.
        members = [bucket[band] for bucket, band in zip(self._buckets, bands or self.band_keys(signature)) if band in bucket]
        if not members:
            return []
        keys = np.sort(np.frombuffer(b"".join(members), dtype=np.int64))  # one copy of every bucket hit
        keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))]  # unique: faster than np.unique here
        agreeing = np.count_nonzero(self._signatures[keys] == signature.astype(np.uint16), axis=1)
        close = agreeing >= min_agreement * len(signature)
        keys, agreeing = keys[close], agreeing[close]
        return keys[np.argsort(-agreeing, kind="stable")].tolist()
