"""--dry-run: calls and tokens a run would spend, from the rendered prompts and the cache, with no call and no write."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from augment.generators.gemini.estimate import estimate_run, variant_tokens
from augment.generators.gemini.settings import GeminiSettings
from augment.generators.gemini.plan import RequestPlanner
from augment.run import main
from augment.dataset.tokens import estimate_tokens
from conftest import seed_file
from fake_gemini import FakeGemini, blocked_prompt, seed_from_request

KEY = "test-key"
N = 4


def dry_run(capsys, seeds: Path, out: Path, *flags: str) -> str:
    capsys.readouterr()
    # No misconception rows unless a test asks (the last --misconceptions wins): the counts below are the seeds'.
    assert main(["--seeds", str(seeds), "--out", str(out), "--n", str(N), "--dry-run", "--misconceptions", "0", *flags]) == 0
    return capsys.readouterr().out


def snapshot(root: Path) -> dict[str, bytes]:
    """Return every file's bytes under root, but sqlite's transient -wal/-shm files."""
    return {str(p): p.read_bytes() for p in root.rglob("*") if p.is_file() and not p.name.endswith(("-wal", "-shm"))}


def api_calls(text: str) -> int:
    return int(re.search(r"API calls: (\d+)", text).group(1))


def test_without_a_key_it_says_the_run_would_go_offline(tmp_path, ten_seeds, capsys):
    seeds = seed_file(tmp_path / "seeds.csv", ten_seeds)
    out = tmp_path / "o" / "f.jsonl"
    text = dry_run(capsys, seeds, out)
    assert "no GEMINI_API_KEY or GOOGLE_API_KEY found" in text and "would build offline and spend nothing (0 API calls, 0 tokens)" in text
    assert "--no-fallback" in dry_run(capsys, seeds, out, "--no-fallback")
    assert "--offline: the run would build offline" in dry_run(capsys, seeds, out, "--offline")
    assert not out.parent.exists() and not Path(".augment-cache").exists()


def test_counts_match_the_real_run_and_a_warm_cache_costs_nothing(tmp_path, monkeypatch, ten_seeds, capsys):
    half, full = seed_file(tmp_path / "half.csv", ten_seeds[::2]), seed_file(tmp_path / "full.csv", ten_seeds)
    out = tmp_path / "o" / "f.jsonl"
    cache = Path(".augment-cache/gemini.sqlite")
    with FakeGemini() as fake:
        monkeypatch.setenv("GEMINI_API_KEY", KEY)
        monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", fake.base_url)
        cold = dry_run(capsys, full, out, "--batch")
        assert api_calls(cold) == 10 and "served from the cache (free): 0 seeds" in cold
        assert "these 10 requests would go in one batch job" in cold
        assert fake.calls(None) == 0 and not cache.exists() and not out.parent.exists()

        # One blocked first reply: recorded as junk, so the live path asks that request again, and so counts the dry run.
        fake.fault_for(lambda body: seed_from_request(body)["id"] == ten_seeds[0].id, blocked_prompt(), times=1)
        assert main(["--seeds", str(half), "--out", str(out), "--n", str(N), "--quiet", "--misconceptions", "0"]) == 0
        assert fake.calls() == 6
        before = snapshot(tmp_path)
        partial = dry_run(capsys, full, out)
        assert api_calls(partial) == 6 and "served from the cache (free): 4 seeds" in partial
        assert snapshot(tmp_path) == before  # neither outputs nor cache touched
        assert main(["--seeds", str(full), "--out", str(out), "--n", str(N), "--quiet", "--misconceptions", "0"]) == 0
        assert json.loads(out.with_name("f.report.json").read_text(encoding="utf-8"))["api_calls"] == 6

        warm = dry_run(capsys, full, out, "--batch")
        assert api_calls(warm) == 0 and "served from the cache (free): 10 seeds" in warm and "batch job" not in warm
        assert "input ~0 " in warm and "output ~0 " in warm
        assert fake.calls(None) == 12


def test_misconception_rows_are_counted_as_the_run_asks_them(tmp_path, monkeypatch, ten_seeds, capsys):
    seeds, out = seed_file(tmp_path / "seeds.csv", ten_seeds), tmp_path / "o" / "f.jsonl"
    with FakeGemini() as fake:
        monkeypatch.setenv("GEMINI_API_KEY", KEY)
        monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", fake.base_url)
        cold = dry_run(capsys, seeds, out, "--misconceptions", "0.25")  # 10 of 40 lines: 11 rows, one to spare
        assert api_calls(cold) == 10 and "misconception rows: 11 more calls for 11 rows" in cold
        assert "live, outside the batch job" in dry_run(capsys, seeds, out, "--misconceptions", "0.25", "--batch")
        assert main(["--seeds", str(seeds), "--out", str(out), "--n", str(N), "--quiet", "--misconceptions", "0.25"]) == 0
        rows = {seed_from_request(r.body)["id"] for r in fake.requests if seed_from_request(r.body)["id"].startswith("M-")}
        assert len(rows) == 11
        assert "misconception rows" not in dry_run(capsys, seeds, out, "--misconceptions", "0.25")  # all cached


def test_tokens_come_from_the_rendered_prompts_and_typical_variant_sizes(ten_seeds):
    planner = RequestPlanner(GeminiSettings(cache=None))
    estimate = estimate_run(planner, ten_seeds, N - 1, None)
    assert [request.seed for request in estimate.requests] == ten_seeds
    assert estimate.input_tokens == sum(estimate_tokens(planner.system) + estimate_tokens(r.prompt) for r in estimate.requests)
    assert estimate.output_tokens == sum((N - 1) * variant_tokens(seed) for seed in ten_seeds)
    assert Counter(request.n for request in estimate.requests) == {N - 1: 10}
    assert estimate_run(planner, ten_seeds, 0, None).requests == []  # nothing to ask for: no call
