"""Gemini Batch mode through main(): submit, exit 5 while pending, collect into the cache, then build with no live call."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from augment.generators.variants import RESPONSE_SCHEMA
from augment.run import main
from conftest import seed_file
from fake_gemini import FakeGemini, http_error, seed_from_request

KEY = "test-key"
N = 4  # the seed's own pair and 3 variants per seed
FAST = ("--backoff", "0.01", "--timeout", "2", "--batch-poll", "0.05", "--misconceptions", "0")  # counts of Gemini lines only


@pytest.fixture
def seeds_csv(tmp_path, ten_seeds) -> Path:
    return seed_file(tmp_path / "seeds.csv", ten_seeds)


def serve(monkeypatch, **options) -> FakeGemini:
    server = FakeGemini(**options).start()
    monkeypatch.setenv("GEMINI_API_KEY", KEY)
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", server.base_url)
    return server


@pytest.fixture
def fake(monkeypatch):
    server = serve(monkeypatch)
    yield server
    server.close()


def run(seeds: Path, out: Path, *flags: str) -> int:
    return main(["--seeds", str(seeds), "--out", str(out), "--quiet", "--n", str(N), *FAST, *flags])


def report_of(out: Path) -> dict:
    return json.loads(out.with_name(f"{out.stem}.report.json").read_text(encoding="utf-8"))


def meta_of(out: Path) -> list[dict]:
    return [json.loads(line) for line in out.with_name(f"{out.stem}.meta.jsonl").read_text(encoding="utf-8").splitlines()]


def inline_requests(fake: FakeGemini) -> list[dict]:
    create = next(r for r in fake.requests if r.kind == "batch_create")
    return [item["request"] for item in create.body["batch"]["inputConfig"]["requests"]["requests"]]


def test_submit_exit_5_then_collect_with_no_live_call(tmp_path, fake, seeds_csv, capsys):
    out = tmp_path / "out" / "f.jsonl"
    out.parent.mkdir()
    out.write_text("yesterday\n", encoding="utf-8")
    state = out.with_name("f.batch.json")

    assert run(seeds_csv, out, "--batch") == 5
    assert (fake.calls("batch_create"), fake.calls("batch_get"), fake.calls("generate")) == (1, 1, 0)
    # batches.create rewrites schema dicts in place; had it reached the shared one, every later cache key would change.
    assert "property_ordering" in RESPONSE_SCHEMA["properties"]["variants"]["items"]
    job = json.loads(state.read_text(encoding="utf-8"))
    assert job["name"] == fake.batch_names()[0] and len(job["keys"]) == 10 and job["model"] == "gemini-3.5-flash-lite"
    assert out.read_text(encoding="utf-8") == "yesterday\n" and not out.with_name("f.report.json").exists()
    err = capsys.readouterr().err
    assert "is running" in err and "outputs were left as they were; run again with --batch" in err

    assert main(["--seeds", str(seeds_csv), "--out", str(out), "--n", str(N), "--dry-run"]) == 0
    assert f"{job['name']} (10 requests" in capsys.readouterr().out

    assert run(seeds_csv, out, "--batch") == 0
    assert (fake.calls("batch_create"), fake.calls("batch_get"), fake.calls("generate")) == (1, 2, 0)
    assert not state.exists()
    assert len(out.read_text(encoding="utf-8").splitlines()) == 10 * N
    assert Counter(m["generator"] for m in meta_of(out)) == {"seed": 10, "gemini": 30}
    report = report_of(out)
    assert (report["api_calls"], report["cache_hits"]) == (0, 10)
    assert report["batch"] | {"tokens": {}, "cost_usd": 0} == {"name": job["name"], "state": "SUCCEEDED", "submitted": 10, "collected": 10, "failed_items": 0, "tokens": {}, "cost_usd": 0}
    tokens = report["batch"]["tokens"]  # priced at the catalogue's Batch prices of gemini-3.5-flash-lite: $0.15 / $1.25
    assert report["batch"]["cost_usd"] == pytest.approx((tokens["prompt"] * 0.15 + (tokens["output"] + tokens["thoughts"]) * 1.25) / 1e6)
    manifest = json.loads(out.with_name(f"{out.stem}.manifest.json").read_text(encoding="utf-8"))
    assert manifest["cost_usd"] == pytest.approx(report["batch"]["cost_usd"], abs=1e-6) and manifest["cost_usd"] > 0  # no live call
    assert manifest["served_models"] == {"gemini-3.5-flash-lite": 10}  # batch replies keep who served them too
    assert report["batch"]["tokens"]["total"] > 0

    assert run(seeds_csv, out, "--batch") == 0  # everything cached: nothing to submit
    assert fake.calls(None) == 3
    assert KEY not in capsys.readouterr().err
    assert all(KEY.encode() not in path.read_bytes() for path in tmp_path.rglob("*") if path.is_file())


def test_batch_requests_equal_the_live_ones_and_give_the_same_file(tmp_path, fake, seeds_csv):
    batched, live = tmp_path / "b" / "f.jsonl", tmp_path / "l" / "f.jsonl"
    assert run(seeds_csv, batched, "--batch", "--batch-wait", "5") == 0
    assert run(seeds_csv, live, "--cache", str(tmp_path / "other.sqlite")) == 0
    live_bodies = {seed_from_request(r.body)["id"]: r.body for r in fake.requests if r.kind == "generate"}
    for request in inline_requests(fake):
        assert request == live_bodies[seed_from_request(request)["id"]]
    assert len(live_bodies) == 10
    assert batched.read_bytes() == live.read_bytes()


def test_batch_wait_polls_until_done_in_one_run(tmp_path, monkeypatch, seeds_csv):
    server = serve(monkeypatch, batch_running_polls=3)
    try:
        assert run(seeds_csv, tmp_path / "o" / "f.jsonl", "--batch", "--batch-wait", "10") == 0
    finally:
        server.close()
    assert (server.calls("batch_create"), server.calls("batch_get"), server.calls("generate")) == (1, 4, 0)
    gaps = [b.timestamp - a.timestamp for a, b in zip(server.requests[1:], server.requests[2:])]
    assert min(gaps) >= 0.04  # --batch-poll 0.05 between checks


def test_failed_items_go_through_the_live_path(tmp_path, fake, seeds_csv, ten_seeds):
    first = ten_seeds[0].id
    fake.fault_for(lambda body: (seed_from_request(body) or {}).get("id") == first, http_error(429), times=1)
    out = tmp_path / "o" / "f.jsonl"
    assert run(seeds_csv, out, "--batch", "--batch-wait", "5") == 0
    assert [seed_from_request(r.body)["id"] for r in fake.requests if r.kind == "generate"] == [first]
    report = report_of(out)
    assert (report["batch"]["collected"], report["batch"]["failed_items"]) == (9, 1)
    assert (report["api_calls"], report["cache_hits"], report["fallbacks"]) == (1, 9, {})


@pytest.mark.parametrize("ending", ["FAILED", "EXPIRED"])
def test_a_job_that_ends_badly_is_reported_forgotten_and_the_run_goes_live(tmp_path, monkeypatch, seeds_csv, capsys, ending):
    server = serve(monkeypatch, batch_running_polls=0, batch_final_state=f"BATCH_STATE_{ending}")
    out = tmp_path / "o" / "f.jsonl"
    try:
        assert run(seeds_csv, out, "--batch") == 0
    finally:
        server.close()
    assert (server.calls("batch_create"), server.calls("batch_get"), server.calls("generate")) == (1, 1, 10)
    assert f"ended {ending}; its seeds go through the live path" in capsys.readouterr().err
    assert not out.with_name("f.batch.json").exists()
    assert report_of(out)["batch"]["state"] == ending and len(out.read_text(encoding="utf-8").splitlines()) == 10 * N


def test_an_unknown_recorded_job_is_forgotten(tmp_path, fake, seeds_csv, capsys):
    out = tmp_path / "o" / "f.jsonl"
    out.parent.mkdir()
    out.with_name("f.batch.json").write_text(json.dumps({"name": "batches/gone", "model": "m", "keys": []}), encoding="utf-8")
    assert run(seeds_csv, out, "--batch") == 0
    assert "batches/gone ended NOT_FOUND" in capsys.readouterr().err
    assert fake.calls("batch_create") == 0 and fake.calls("generate") == 10


def test_an_unreadable_record_stops_the_run_with_one_line(tmp_path, fake, seeds_csv, capsys):
    out = tmp_path / "o" / "f.jsonl"
    out.parent.mkdir()
    out.with_name("f.batch.json").write_text("{not json", encoding="utf-8")
    assert run(seeds_csv, out, "--batch") == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "f.batch.json: unreadable batch state" in err[0] and "delete it" in err[0]
    assert fake.calls(None) == 0 and not out.exists()


def test_a_batch_over_the_inline_limit_is_refused(tmp_path, fake, seeds_csv, monkeypatch, capsys):
    monkeypatch.setattr("augment.generators.gemini.batch.INLINE_LIMIT_BYTES", 1000)
    out = tmp_path / "o" / "f.jsonl"
    assert run(seeds_csv, out, "--batch") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--batch: 10 requests take about" in err[0] and "over the 0.001 MB limit" in err[0]
    assert fake.calls(None) == 0 and not out.exists() and not out.with_name("f.batch.json").exists()


def test_a_run_without_batch_mentions_a_pending_job(tmp_path, fake, seeds_csv, capsys):
    out = tmp_path / "o" / "f.jsonl"
    assert run(seeds_csv, out, "--batch") == 5
    capsys.readouterr()
    assert run(seeds_csv, out) == 0
    err = capsys.readouterr().err
    assert "f.batch.json records a batch job not collected yet" in err and "is left from an earlier run" not in err
    assert out.with_name("f.batch.json").exists()
