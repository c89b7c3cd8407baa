"""Pipeline: a seed that runs dry is made up by its neighbours, so the file stays full."""

from __future__ import annotations

import gc
from collections import Counter
from itertools import islice

from augment.generators.offline import OfflineGenerator
from augment.pipeline import Pipeline
from augment.generators.prepare import PreparedVariants, checked_variants, collector_paused, process_pool
from augment.records import Seed

RICH = Seed("A1", "price", "Đà Lạt", "Cho mình hỏi giá vé Thung lũng Tình Yêu bao nhiêu tiền ạ?", "Dạ, vé khoảng 250.000 đồng/người ạ.")
THIN = Seed("A2", "price", "Đà Lạt", "Vé Datanla?", "Dạ, vé thác Datanla khoảng 50.000 đồng/người ạ.")


def _run(seeds, n):
    offline = OfflineGenerator(random_seed=0)
    return Pipeline(offline, offline, progress=False).run(seeds, n, len(seeds) * n)


def test_last_seeds_shortfall_is_made_up_by_the_seeds_before_it():
    outcome = _run([RICH, THIN], 40)
    per_seed = Counter(sample.seed.id for sample in outcome.selected)
    assert len(outcome.selected) == 80
    assert per_seed["A2"] < 40 < per_seed["A1"]  # the thin seed ran dry; the rich one made up the difference


def test_a_seed_running_dry_passes_its_shortfall_to_the_next():
    outcome = _run([THIN, RICH], 40)
    per_seed = Counter(sample.seed.id for sample in outcome.selected)
    assert len(outcome.selected) == 80 and per_seed["A1"] > 40


def test_every_seed_gets_its_quota_and_every_drop_is_on_file(seeds):
    outcome = _run(seeds[:10], 10)
    assert len(outcome.selected) == 100
    assert set(Counter(sample.seed.id for sample in outcome.selected).values()) == {10}
    assert sum(outcome.dropped.values()) == len(outcome.rejected)


def _fields(variant):
    sample, fingerprint = variant.sample, variant.fingerprint
    return (
        sample.seed, sample.user, sample.assistant, sample.generator, sample.method, sample.register, variant.gates,
        fingerprint.key, fingerprint.grams, fingerprint.signature.tolist(),
    )


def test_variants_prepared_by_workers_match_those_made_here_beyond_what_was_prepared(seeds):
    offline = OfflineGenerator(random_seed=3)
    chosen = [THIN, *seeds[:5], RICH]
    prepared = PreparedVariants(offline, chosen, {seed.id: 4 for seed in chosen}, workers=2)
    try:
        for seed in chosen:  # 40 each: past the 3 prepared, and past the end for the thin seed
            served = [_fields(v) for v in islice(prepared.variants(seed), 40)]
            made = [_fields(v) for v in islice(checked_variants(offline, seed), 40)]
            assert served == made, seed.id
    finally:
        prepared.close()


def test_the_collector_is_paused_inside_the_block_and_restored_after():
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with collector_paused(pause=False):
        assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # a caller's own choice is kept
    finally:
        gc.enable()


def test_worker_processes_run_without_the_cyclic_collector():
    pool = process_pool(1)
    try:
        assert pool.submit(gc.isenabled).result(timeout=60) is False
    finally:
        pool.shutdown()


def test_one_pipeline_run_twice_gives_the_same_selection(seeds):
    offline = OfflineGenerator(random_seed=0)
    pipeline = Pipeline(offline, offline, progress=False)
    first = pipeline.run([THIN, RICH, *seeds[:3]], 12, 60)
    second = pipeline.run([THIN, RICH, *seeds[:3]], 12, 60)
    assert [(s.user, s.assistant) for s in first.selected] == [(s.user, s.assistant) for s in second.selected]
    assert first.dropped == second.dropped and len(first.selected) == 60
