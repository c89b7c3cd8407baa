"""The margin of extra variants on first requests: sized from the rejection rate the cache keeps, never a new call."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from augment.generators.gemini.cache import ResponseCache
from augment.generators.gemini.margin import NOTE, Margin, extra_variants, margins_to_try
from augment.run import main
from conftest import ROOT, seed_file
from fake_gemini import FakeGemini, seed_from_request
from test_gemini import point_at, read

sys.path.insert(0, str(ROOT / "bench"))
from bench_margin import NearDuplicates  # noqa: E402 - the benchmark's model: a share of near-duplicate variants

CACHE = Path(".augment-cache/gemini.sqlite")


def build(seeds_path, out, *flags: str) -> int:
    return main(["--seeds", str(seeds_path), "--out", str(out), "--quiet", "--n", "10", "--misconceptions", "0", *flags])


def test_the_margin_grows_with_the_rate_and_stays_within_a_quarter_more_output():
    assert extra_variants(9, 0.0) == 0 and extra_variants(0, 0.5) == 0
    margins = [extra_variants(9, rate) for rate in (0.01, 0.03, 0.1, 0.2, 0.5, 0.99)]
    assert margins == sorted(margins) and margins[0] >= 1 and margins[2] == 3
    for rate in (0.01, 0.1, 0.3, 0.6):
        assert 9 + extra_variants(9, rate) <= 1.25 * 9 / (1 - rate) + 1  # about 1.25 x today's output per kept variant
    assert margins_to_try(9, 3) == [3, 0, 2, 4, 1, 5] and margins_to_try(9, 0) == [0, 1, 2]


def test_the_rate_is_kept_in_the_cache_and_older_runs_count_half(tmp_path):
    with ResponseCache(tmp_path / "c.sqlite") as cache:
        assert Margin.load(cache).rate == 0.0  # the first night asks no margin
        first = Margin.load(cache)
        first.count(judged=100, rejected=10)
        first.save(cache)
        second = Margin.load(cache)
        assert second.rate == 0.1
        second.count(judged=50, rejected=20)
        second.save(cache)
        second.save(cache)  # saving twice (two generate() calls in a run) counts the run once
        assert json.loads(cache.note(NOTE)) == {"judged": 100.0, "rejected": 25.0}
        cache.put_note(NOTE, "not json")
        assert Margin.load(cache).rate == 0.0
    assert Margin.load(None).rate == 0.0


def test_a_night_learns_the_rate_and_the_next_asks_a_margin_without_follow_ups(tmp_path, monkeypatch, seeds, capsys):
    seeds_path = seed_file(tmp_path / "seeds.csv", seeds[:20])
    with FakeGemini(responder=NearDuplicates(0.1)) as fake:
        point_at(monkeypatch, fake)
        assert build(seeds_path, tmp_path / "n1" / "f.jsonl") == 0
        night1 = fake.calls()
        assert max(seed_from_request(r.body)["n"] for r in fake.requests) == 9 and night1 > 25  # no history: no margin
        _, _, report = read(tmp_path / "n1" / "f.jsonl")
        assert report["margin"]["rejection_rate"] == 0 and 0.05 < report["margin"]["run_rejection_rate"] < 0.2

        capsys.readouterr()
        assert main(["--seeds", str(seeds_path), "--out", str(tmp_path / "n2" / "f.jsonl"), "--n", "10", "--seed", "1",
                     "--misconceptions", "0", "--dry-run"]) == 0
        assert "margin: each seed's first request asks 3 variants more than needed" in capsys.readouterr().out

        assert build(seeds_path, tmp_path / "n2" / "f.jsonl", "--seed", "1") == 0
        night2 = fake.calls() - night1
        firsts = [seed_from_request(r.body)["n"] for r in fake.requests[night1:]]
        assert Counter(firsts)[12] == 20 and night2 <= 21 < night1  # 9 needed + 3: follow-ups become rare
        _, meta, report = read(tmp_path / "n2" / "f.jsonl")
        assert report["margin"]["extra_variants"] == 60 and report["margin"]["extra_output_tokens"] > 0
        assert Counter(m["generator"] for m in meta) == {"seed": 20, "gemini": 180}
        manifest = json.loads((tmp_path / "n2" / "f.manifest.json").read_text(encoding="utf-8"))
        assert manifest["margin"] == report["margin"]

        # The rate learnt since may call for another margin: the cached first replies are still found, no call made.
        with ResponseCache(CACHE) as cache:
            cache.put_note(NOTE, json.dumps({"judged": 100, "rejected": 1}))
        first = (tmp_path / "n2" / "f.jsonl").read_bytes()
        assert build(seeds_path, tmp_path / "n2" / "f.jsonl", "--seed", "1") == 0
        assert fake.calls() == night1 + night2 and (tmp_path / "n2" / "f.jsonl").read_bytes() == first
