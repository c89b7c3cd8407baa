"""The Gemini path end to end: the real google-genai SDK, driven through main(), against the loopback fake."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from augment.run import main
from conftest import seed_file
from fake_gemini import (
    FakeGemini,
    blocked_prompt,
    default_responder,
    default_variants,
    delay,
    drop_connection,
    empty_candidates,
    http_error,
    prompt_text,
    raw_text,
    safety_finish,
    seed_from_request,
)

KEY = "test-key"
N = 4  # samples per seed: the seed's own pair and 3 variants, so one request asks for n=3
FAST = ("--backoff", "0.01", "--timeout", "2", "--misconceptions", "0")  # small backoff keeps retries fast; 2 s tolerates a slow CI box; the counts below are of Gemini and seed lines only


@pytest.fixture
def fake(monkeypatch):
    with FakeGemini() as server:
        point_at(monkeypatch, server)
        yield server


def point_at(monkeypatch, server: FakeGemini) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", KEY)
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", server.base_url)


def run(seeds_path: Path, out: Path, *flags: str) -> int:
    return main(["--seeds", str(seeds_path), "--out", str(out), "--quiet", "--n", str(N), *FAST, *flags])


def read(out: Path) -> tuple[list[dict], list[dict], dict]:
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    meta = [json.loads(line) for line in out.with_name(f"{out.stem}.meta.jsonl").read_text(encoding="utf-8").splitlines()]
    report = json.loads(out.with_name(f"{out.stem}.report.json").read_text(encoding="utf-8"))
    return records, meta, report


def about(seed_id: str):
    """Match the requests whose prompt carries this seed."""
    return lambda body: (seed_from_request(body) or {}).get("id") == seed_id


def requests_for(fake: FakeGemini, seed_id: str) -> list:
    return [r for r in fake.requests if (seed_from_request(r.body) or {}).get("id") == seed_id]


def seed_line(seed, n: int = N - 1) -> dict:
    return {"id": seed.id, "intent": seed.intent, "place": seed.place, "question": seed.question, "answer": seed.answer, "n": n}


def variants_json(seed, count: int, start: int = 0) -> str:
    return json.dumps({"variants": default_variants(seed_line(seed), start + count)[start:]}, ensure_ascii=False)


def no_key_anywhere(root: Path, *texts: str) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path
    for text in texts:
        assert KEY not in text


def test_clean_run_makes_one_call_per_seed_and_a_rerun_none(tmp_path, fake, ten_seeds, capsys):
    seeds = seed_file(tmp_path / "seeds.csv", ten_seeds)
    out = tmp_path / "out" / "f.jsonl"
    assert run(seeds, out, "--log-file", str(tmp_path / "log.jsonl")) == 0
    records, meta, report = read(out)
    assert len(records) == 10 * N and fake.calls() == 10
    assert Counter(m["generator"] for m in meta) == {"seed": 10, "gemini": 30}
    assert {m["register"] for m in meta} - {"original"} <= {"polite", "deferential", "casual", "teencode", "terse", "nodiacritics"}
    assert (report["api_calls"], report["cache_hits"], report["model"]) == (10, 0, "gemini-3.5-flash-lite")
    assert report["tokens"]["total"] > 0 and report["fallbacks"] == {}
    body = fake.requests[0].body
    assert body["generationConfig"]["responseMimeType"] == "application/json"
    assert body["generationConfig"]["responseSchema"]["properties"]["variants"]["type"] == "ARRAY"
    assert "Dạ" in body["systemInstruction"]["parts"][0]["text"]
    assert seed_from_request(body)["n"] == N - 1
    first = out.read_bytes()

    assert run(seeds, out) == 0
    _, _, again = read(out)
    assert fake.calls() == 10, "the rerun must be served from the cache"
    assert (again["api_calls"], again["cache_hits"]) == (0, 10)
    assert out.read_bytes() == first
    no_key_anywhere(tmp_path, capsys.readouterr().err)


def test_partial_run_then_full_run_calls_only_for_new_seeds(tmp_path, fake, ten_seeds):
    half = seed_file(tmp_path / "half.csv", ten_seeds[::2])
    full = seed_file(tmp_path / "full.csv", ten_seeds)
    assert run(half, tmp_path / "a" / "f.jsonl") == 0
    assert fake.calls() == 5
    assert run(full, tmp_path / "b" / "f.jsonl") == 0
    answered = {s.id for s in ten_seeds[::2]}
    later = fake.requests[5:]
    assert len(later) == 5 and not answered & {seed_from_request(r.body)["id"] for r in later}


def test_output_does_not_depend_on_response_order(tmp_path, monkeypatch, ten_seeds):
    def shuffled(body):
        rng = random.Random(seed_from_request(body)["id"])
        return delay(rng.uniform(0, 0.15))  # the fake sleeps, then answers normally

    seeds = seed_file(tmp_path / "seeds.csv", ten_seeds)
    with FakeGemini(responder=shuffled) as server:
        point_at(monkeypatch, server)
        assert run(seeds, tmp_path / "a" / "f.jsonl", "--no-cache", "--concurrency", "10") == 0
        assert run(seeds, tmp_path / "b" / "f.jsonl", "--no-cache", "--concurrency", "1") == 0
    for name in ("f.jsonl", "f.meta.jsonl"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_transient_errors_are_retried_and_retry_after_honoured(tmp_path, fake, ten_seeds, capsys):
    s = ten_seeds
    fake.fault_for(about(s[0].id), http_error(429, retry_after=1), times=1)
    fake.fault_for(about(s[1].id), http_error(503), times=2)
    fake.fault_for(about(s[2].id), delay(3), times=1)
    fake.fault_for(about(s[3].id), drop_connection(), times=1)
    fake.fault_for(about(s[4].id), http_error(500), times=None)
    fake.fault_for(about(s[5].id), http_error(429, retry_after=3600), times=1)  # a spent daily quota: no waiting
    seeds = seed_file(tmp_path / "seeds.csv", s)
    out = tmp_path / "out" / "f.jsonl"
    assert run(seeds, out, "--retries", "2") == 0

    assert [len(requests_for(fake, x.id)) for x in s] == [2, 3, 2, 2, 3, 1, 1, 1, 1, 1]
    first, second = requests_for(fake, s[0].id)
    assert second.timestamp - first.timestamp >= 1.0  # Retry-After: 1, while --backoff is 0.01
    records, meta, report = read(out)
    assert len(records) == 10 * N
    assert report["fallbacks"] == {"quota": 1, "server-error": 1}
    assert report["failed_attempts"] == {"connection": 1, "quota": 2, "server-error": 5, "timeout": 1}
    fallen = [m for m in meta if m["seed_id"] == s[4].id and m["generator"] != "seed"]
    assert len(fallen) == N - 1 and all(m["generator"] == "offline" and m["fallback"] == "server-error" for m in fallen)
    assert Counter(m["generator"] for m in meta)["gemini"] == 8 * (N - 1)
    no_key_anywhere(tmp_path, capsys.readouterr().err)

    calls = fake.calls()
    assert run(seeds, out, "--retries", "2") == 0
    rerun = Counter(seed_from_request(r.body)["id"] for r in fake.requests[calls:])
    assert rerun == {s[4].id: 3, s[5].id: 1}  # only the seeds that got no reply


def test_damaged_replies_are_salvaged_retried_or_filled_offline(tmp_path, fake, ten_seeds):
    s = ten_seeds
    # One complete item (the third default variant, so the follow-up's two are new), then a cut-off one.
    cut = variants_json(s[5], 1, start=2)[:-2] + ', {"register": "casual", "user": "Ad ơi'
    partial = json.loads(variants_json(s[7], 3, start=2))  # the fake's follow-up answer starts at variant 0
    for item in partial["variants"][1:]:
        del item["assistant"]
    fake.fault_for(about(s[0].id), blocked_prompt(), times=1)
    fake.fault_for(about(s[1].id), safety_finish(), times=1)
    fake.fault_for(about(s[2].id), empty_candidates(), times=1)
    fake.fault_for(about(s[3].id), raw_text(f"```json\n{variants_json(s[3], 3)}\n```"), times=1)
    fake.fault_for(about(s[4].id), raw_text(f"Kết quả đây:\n{variants_json(s[4], 3)}\nHết."), times=1)
    fake.fault_for(about(s[5].id), raw_text(cut, "MAX_TOKENS"), times=1)
    fake.fault_for(about(s[6].id), raw_text(variants_json(s[6], 6)), times=1)
    fake.fault_for(about(s[7].id), raw_text(json.dumps(partial, ensure_ascii=False)), times=1)
    fake.fault_for(about(s[8].id), raw_text("Xin lỗi, mình không thể trả lời."), times=None)
    seeds = seed_file(tmp_path / "seeds.csv", s)
    out = tmp_path / "out" / "f.jsonl"
    assert run(seeds, out, "--retries", "2") == 0

    assert [len(requests_for(fake, x.id)) for x in s] == [2, 2, 2, 1, 1, 2, 1, 2, 3, 1]
    assert [r.body["generationConfig"]["seed"] for r in requests_for(fake, s[0].id)] == [0, 1]  # a new sample
    follow_up = requests_for(fake, s[5].id)[1]
    assert seed_from_request(follow_up.body)["n"] == 2
    assert default_variants(seed_line(s[5]), 3)[2]["user"] in prompt_text(follow_up.body)
    records, meta, report = read(out)
    assert len(records) == 10 * N
    assert report["fallbacks"] == {"bad-json": 1}
    assert report["failed_attempts"] == {"bad-json": 3, "blocked": 2, "empty": 1, "too-few": 1, "truncated": 1}
    by_generator = Counter((m["seed_id"], m["generator"]) for m in meta)
    assert all(by_generator[(x.id, "gemini")] == N - 1 for x in s if x is not s[8])
    assert by_generator[(s[8].id, "offline")] == N - 1

    calls, first = fake.calls(), out.read_bytes()
    assert run(seeds, out, "--retries", "2") == 0
    # Replies that gave usable variants are replayed; junk ones (blocked, empty, prose) were recorded as junk and are
    # asked again, here answered the same way, so the output is the same.
    rerun = Counter(seed_from_request(r.body)["id"] for r in fake.requests[calls:])
    assert rerun == {s[0].id: 1, s[1].id: 1, s[2].id: 1, s[8].id: 3}
    assert out.read_bytes() == first


def test_rejected_key_switches_to_offline_once(tmp_path, monkeypatch, ten_seeds, capsys):
    seeds = seed_file(tmp_path / "seeds.csv", ten_seeds)
    out = tmp_path / "out" / "f.jsonl"
    with FakeGemini(valid_keys={"another-key"}) as server:
        point_at(monkeypatch, server)
        assert main(["--seeds", str(seeds), "--out", str(out), "--n", str(N), *FAST]) == 3  # all offline: over --max-fallback
        calls = server.calls()
    err = capsys.readouterr().err
    assert err.count("rejected the API key") == 1 and "offline" in err
    assert err.count("over --max-fallback 0.2: 75.0% of the written samples") == 1
    assert 1 <= calls <= 8  # at most the requests already in flight
    records, meta, report = read(out)
    assert len(records) == 10 * N
    assert report["fallbacks"] == {"key-rejected": 10}
    assert {m["generator"] for m in meta} == {"seed", "offline"}
    no_key_anywhere(tmp_path, err)


def test_rejected_key_with_no_fallback_exits_1_with_one_line(tmp_path, monkeypatch, ten_seeds, capsys):
    seeds = seed_file(tmp_path / "seeds.csv", ten_seeds)
    out = tmp_path / "out" / "f.jsonl"
    with FakeGemini(valid_keys={"another-key"}) as server:
        point_at(monkeypatch, server)
        assert run(seeds, out, "--no-fallback") == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "rejected the API key" in err[0] and "HTTP 400" in err[0]
    assert not out.exists()
    no_key_anywhere(tmp_path, *err)


def test_retired_model_stops_gemini_for_the_whole_run_with_one_line(tmp_path, fake, ten_seeds, capsys):
    seeds = seed_file(tmp_path / "seeds.csv", ten_seeds)
    assert run(seeds, tmp_path / "o" / "f.jsonl", "--model", "gemini-2.0-flash", "--no-fallback") == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no model gemini-2.0-flash" in err[0] and "HTTP 404 NOT_FOUND" in err[0]
    assert "is not found for API version" in err[0]  # Google's own message
    assert "current default is gemini-3.5-flash-lite: pass --model gemini-3.5-flash-lite" in err[0]
    assert fake.calls() <= 8  # the requests already in flight (--concurrency 8); no seed retries, none starts later
    assert run(seeds, tmp_path / "p" / "f.jsonl", "--model", "gemini-2.0-flash") == 3  # offline, over --max-fallback
    err = capsys.readouterr().err
    assert sum("no model gemini-2.0-flash" in line for line in err.splitlines()) == 1
    assert read(tmp_path / "p" / "f.jsonl")[2]["fallbacks"] == {"model-not-found": 10}


def test_without_a_key_the_run_says_how_to_set_one(tmp_path, ten_seeds, capsys):
    seeds = seed_file(tmp_path / "seeds.csv", ten_seeds[:5])
    assert run(seeds, tmp_path / "o" / "f.jsonl") == 0
    err = capsys.readouterr().err
    assert "offline mode: no GEMINI_API_KEY or GOOGLE_API_KEY found" in err and ".env" in err
    assert run(seeds, tmp_path / "p" / "f.jsonl", "--no-fallback") == 1


def test_key_and_base_url_from_dotenv(tmp_path, monkeypatch, ten_seeds):
    for name in ("GEMINI_API_KEY", "GOOGLE_GEMINI_BASE_URL"):
        monkeypatch.setenv(name, "unset-after-test")  # so that monkeypatch removes what load_dotenv sets
        monkeypatch.delenv(name)
    seeds = seed_file(tmp_path / "seeds.csv", ten_seeds[:5])
    with FakeGemini() as server:
        Path(".env").write_text(f"GEMINI_API_KEY={KEY}\nGOOGLE_GEMINI_BASE_URL={server.base_url}\n", encoding="utf-8")
        assert run(seeds, tmp_path / "o" / "f.jsonl") == 0
        assert server.calls() == 5
        assert server.requests[0].headers["x-goog-api-key"] == KEY


def test_concurrency_and_rpm_limits(tmp_path, monkeypatch, ten_seeds):
    lock = threading.Lock()
    in_flight, peak = [0], [0]

    def counting(body):
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        time.sleep(0.1)
        with lock:
            in_flight[0] -= 1
        return default_responder(body)

    seeds = seed_file(tmp_path / "seeds.csv", ten_seeds)
    with FakeGemini(responder=counting) as server:
        point_at(monkeypatch, server)
        assert run(seeds, tmp_path / "a" / "f.jsonl", "--no-cache", "--concurrency", "3") == 0
        assert peak[0] == 3
        before = len(server.requests)
        began = time.monotonic()
        assert run(seeds, tmp_path / "b" / "f.jsonl", "--no-cache", "--rpm", "600") == 0
        elapsed = time.monotonic() - began
        calls = len(server.requests) - before
    # One start every 0.1 s, so the 10th cannot start before 0.9 s: a lower bound a busy machine cannot break (the
    # spacing seen at the server also carries transport jitter, so it is tested on the limiter in test_ratelimit.py).
    assert calls == 10 and elapsed >= 0.9


def test_killed_run_resumes_without_repeating_answered_seeds(tmp_path, monkeypatch, ten_seeds):
    seeds = seed_file(tmp_path / "seeds.csv", ten_seeds)
    cache = tmp_path / ".augment-cache" / "gemini.sqlite"
    args = ["--seeds", str(seeds), "--out", str(tmp_path / "o" / "f.jsonl"), "--n", str(N), "--quiet", "--concurrency", "2", "--misconceptions", "0"]
    with FakeGemini(latency=0.3) as server:
        point_at(monkeypatch, server)
        # PYTHONPATH: the child imports this checkout's package, not whichever one is installed.
        root = str(Path(__file__).resolve().parent.parent)
        child = subprocess.Popen([sys.executable, "-m", "augment.run", *args], cwd=tmp_path, env={**os.environ, "PYTHONPATH": root})
        try:
            deadline = time.monotonic() + 60
            while _rows(cache) < 3 and child.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
        answered = _rows(cache)
        first_calls = server.calls()
        assert 3 <= answered < 10, "kill the run midway"
        assert main(args) == 0
        assert server.calls() - first_calls == 10 - answered
    assert len((tmp_path / "o" / "f.jsonl").read_text(encoding="utf-8").splitlines()) == 10 * N


def _rows(cache: Path) -> int:
    if not cache.exists():
        return 0
    try:
        with sqlite3.connect(cache, timeout=1) as db:
            return db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
    except sqlite3.OperationalError:  # the table is not created yet
        return 0


def test_retry_after_from_an_http_date_or_the_body_retry_info():
    import email.utils

    from google.genai import errors

    from augment.generators.gemini.sdk import _retry_after

    class Response:
        headers = {"retry-after": email.utils.formatdate(time.time() + 30, usegmt=True)}

    retry_info = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"}
    assert _retry_after(errors.ClientError(429, {"error": {"code": 429, "details": [retry_info]}})) == 7.0
    assert 28 <= _retry_after(errors.ClientError(429, {"error": {"code": 429}}, Response())) <= 30
    assert _retry_after(errors.ServerError(503, {"error": {"code": 503}})) is None


def test_offline_run_never_imports_the_sdk(tmp_path, ten_seeds):
    seeds = seed_file(tmp_path / "seeds.csv", ten_seeds[:5])
    code = (
        "import sys; from augment.run import main; "
        f"assert main(['--seeds', {str(seeds)!r}, '--out', 'o/f.jsonl', '--n', '2', '--quiet']) == 0; "
        "assert not [m for m in sys.modules if m.startswith('google.genai')]"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_a_caller_stopping_early_cancels_the_remaining_seeds(monkeypatch, ten_seeds):
    from augment.generators.gemini.client import GeminiGenerator
    from augment.generators.gemini.settings import GeminiSettings

    generator = GeminiGenerator(KEY, GeminiSettings(concurrency=1, cache=None))
    with FakeGemini(latency=0.3) as server:
        point_at(monkeypatch, server)
        stream = generator.generate(ten_seeds, N - 1)
        first = next(stream)
        stream.close()
        time.sleep(0.5)
        calls = server.calls()
    assert first.seed == ten_seeds[0] and len(first.samples) == N - 1 and not first.problem
    assert calls <= 2 and generator.stats["api_calls"] == calls
    assert "gemini" not in {thread.name for thread in threading.enumerate()}
    assert KEY not in repr(generator)


def test_too_much_offline_fallback_still_writes_and_exits_3(tmp_path, fake, ten_seeds, capsys):
    fake.fault_for(lambda body: True, http_error(503), times=None)
    seeds = seed_file(tmp_path / "seeds.csv", ten_seeds)
    out = tmp_path / "out" / "f.jsonl"
    assert run(seeds, out, "--retries", "0") == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "over --max-fallback 0.2: 75.0% of the written samples were made offline" in err[0]
    records, meta, report = read(out)
    assert len(records) == 10 * N and report["fallback_share"] == 0.75 and report["fallbacks"] == {"server-error": 10}
    assert json.loads(out.with_name("f.manifest.json").read_text(encoding="utf-8"))["exit_status"] == 3
    assert "seeds by reason: server-error 10; failed attempts: server-error 10" in err[0]  # the reason survives --quiet
    assert run(seeds, tmp_path / "lenient" / "f.jsonl", "--retries", "0", "--max-fallback", "0.8") == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "within --max-fallback 0.8" in err[0] and "server-error 10" in err[0]
