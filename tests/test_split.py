"""Split: grouped by seed, stratified by intent, deterministic, never an empty side; and through main()."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from augment.errors import InputError
from augment.records import INTENTS, Sample, Seed
from augment.run import main
from augment.dataset.split import check_splittable, split_by_seed, split_path, validation_seeds
from seed_rows import small_seeds


def _samples(seeds_per_intent: int = 10, variants: int = 3) -> list[Sample]:
    samples = []
    for intent in INTENTS:
        for index in range(seeds_per_intent):
            seed = Seed(f"{intent}-{index:02d}", intent, "Đà Lạt", "q", "a")
            samples += [Sample(seed, f"q{v}", f"a{v}", "offline", "register") for v in range(variants)]
    return samples


def test_every_variant_of_a_seed_lands_on_one_side():
    parts = split_by_seed(_samples(), 0.2, random_seed=0)
    train = {s.seed.id for s in parts["train"]}
    val = {s.seed.id for s in parts["val"]}
    assert not train & val
    assert len(parts["train"]) + len(parts["val"]) == 150


def test_split_is_stratified_by_intent_and_sized_by_ratio():
    held_out = validation_seeds(_samples(), 0.2, random_seed=0)
    assert len(held_out) == 10
    assert Counter(seed_id.split("-")[0] for seed_id in held_out) == {intent: 2 for intent in INTENTS}


def test_split_is_deterministic_and_follows_the_random_seed():
    samples = _samples()
    first = validation_seeds(samples, 0.2, random_seed=0)
    assert validation_seeds(list(reversed(samples)), 0.2, random_seed=0) == first  # file order does not matter
    assert any(validation_seeds(samples, 0.2, random_seed=seed) != first for seed in range(1, 5))


def test_split_keeps_sample_order_on_each_side():
    samples = _samples()
    parts = split_by_seed(samples, 0.3, random_seed=1)
    for part in parts.values():
        assert part == [s for s in samples if s in part]


def test_validation_is_never_empty_nor_everything():
    two = _samples(seeds_per_intent=1)[:6]  # two seeds, three variants each
    assert len(validation_seeds(two, 0.01, random_seed=0)) == 1
    assert len(validation_seeds(two, 0.99, random_seed=0)) == 1
    assert validation_seeds(two, 0.0, random_seed=0) == set()


def test_one_seed_cannot_be_split():
    with pytest.raises(InputError, match="at least 2 seeds"):
        validation_seeds(_samples(seeds_per_intent=1)[:3], 0.5, random_seed=0)
    with pytest.raises(InputError, match="at least 2 seeds"):
        check_splittable(0.1, seeds=1, target=10)
    check_splittable(0.0, seeds=1, target=1)


def test_split_file_names(tmp_path):
    assert split_path(tmp_path / "fine_tune.jsonl", "val").name == "fine_tune.val.jsonl"


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_run_with_val_ratio_writes_disjoint_splits_beside_the_full_file(tmp_path):
    out = tmp_path / "out" / "fine_tune.jsonl"
    code = main(["--seeds", str(small_seeds(tmp_path / "seeds.csv")), "--out", str(out), "--n", "3",
                 "--offline", "--quiet", "--val-ratio", "0.2", "--format", "openai,gemini", "--misconceptions", "0"])
    assert code == 0
    full, train, val = _lines(out), _lines(split_path(out, "train")), _lines(split_path(out, "val"))
    assert len(full) == 30 and len(train) + len(val) == 30 and val
    train_meta = _lines(out.with_name("fine_tune.train.meta.jsonl"))
    val_meta = _lines(out.with_name("fine_tune.val.meta.jsonl"))
    assert len(train_meta) == len(train) and len(val_meta) == len(val)
    assert not {m["seed_id"] for m in train_meta} & {m["seed_id"] for m in val_meta}
    assert sorted(map(json.dumps, train + val)) == sorted(map(json.dumps, full))
    assert len(_lines(out.with_name("fine_tune.val.gemini.jsonl"))) == len(val)
    report = json.loads(out.with_name("fine_tune.report.json").read_text(encoding="utf-8"))
    assert report["split"] == {"val_ratio": 0.2, "train": len(train), "val": len(val), "train_seeds": 8, "val_seeds": 2}


def test_run_refuses_a_split_of_one_seed(tmp_path):
    seeds = small_seeds(tmp_path / "seeds.csv")
    seeds.write_text("\n".join(seeds.read_text(encoding="utf-8").splitlines()[:2]) + "\n", encoding="utf-8")
    out = tmp_path / "out" / "fine_tune.jsonl"
    assert main(["--seeds", str(seeds), "--out", str(out), "--offline", "--quiet", "--val-ratio", "0.1"]) == 2
    assert not out.exists()
