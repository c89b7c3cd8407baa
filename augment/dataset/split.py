"""Split samples into train and validation by seed, stratified by intent, deterministically."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from pathlib import Path

from augment.errors import InputError
from augment.dataset.export import sibling
from augment.records import Sample

SPLITS = ("train", "val")


def split_path(out: Path, name: str) -> Path:
    """Return a split's file beside --out, e.g. fine_tune.train.jsonl; its formats and meta are its siblings."""
    return sibling(out, f"{name}.jsonl")


def check_splittable(ratio: float, seeds: int, target: int) -> None:
    """Refuse, before any generation, a split that could leave validation empty."""
    if ratio > 0 and min(seeds, target) < 2:
        raise InputError(f"--val-ratio {ratio} needs at least 2 seeds and --target 2 or more, so both sides get a seed")


def split_by_seed(samples: Sequence[Sample], ratio: float, random_seed: int) -> dict[str, list[Sample]]:
    """Return {"train": [...], "val": [...]}, every variant of a seed on one side, sample order kept."""
    held_out = validation_seeds(samples, ratio, random_seed)
    return {
        "train": [sample for sample in samples if sample.seed.id not in held_out],
        "val": [sample for sample in samples if sample.seed.id in held_out],
    }


def validation_seeds(samples: Sequence[Sample], ratio: float, random_seed: int) -> set[str]:
    """Pick round(ratio x seeds) seeds for validation (at least one, never all), shared out over intents."""
    if ratio <= 0:
        return set()
    by_intent = _seeds_by_intent(samples)
    total = sum(len(ids) for ids in by_intent.values())
    if total < 2:
        raise InputError(f"--val-ratio needs samples from at least 2 seeds, got {total}")
    wanted = min(max(math.floor(ratio * total + 0.5), 1), total - 1)
    shares = _allocate(wanted, {intent: len(ids) for intent, ids in by_intent.items()})
    held_out: set[str] = set()
    for intent, ids in by_intent.items():
        held_out.update(sorted(ids, key=lambda seed_id: _rank(seed_id, random_seed))[: shares[intent]])
    return held_out


def _seeds_by_intent(samples: Sequence[Sample]) -> dict[str, list[str]]:
    by_intent: dict[str, dict[str, None]] = {}  # dicts as ordered sets
    for sample in samples:
        by_intent.setdefault(sample.seed.intent, {})[sample.seed.id] = None
    return {intent: list(ids) for intent, ids in by_intent.items()}


def _rank(seed_id: str, random_seed: int) -> str:
    """Order seeds by a hash of --seed and the seed id: stable across runs and file order, new with --seed."""
    return hashlib.sha256(f"{random_seed}:{seed_id}".encode("utf-8")).hexdigest()


def _allocate(wanted: int, sizes: dict[str, int]) -> dict[str, int]:
    """Share wanted out in proportion to sizes by largest remainder; ties go to larger groups, then by name."""
    total = sum(sizes.values())
    exact = {name: wanted * size / total for name, size in sizes.items()}
    shares = {name: math.floor(value) for name, value in exact.items()}
    order = sorted(sizes, key=lambda name: (shares[name] - exact[name], -sizes[name], name))
    for name in order[: wanted - sum(shares.values())]:
        shares[name] += 1
    return shares
