"""The circuit breaker: a dead endpoint stops the calls within two waves, a live one never trips it."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import pytest

from augment.generators.gemini.breaker import Breaker, BreakerOpen, trip_after
from augment.run import main
from conftest import seed_file
from fake_gemini import FakeGemini, default_responder, delay, drop_connection, http_error, raw_body
from test_gemini import point_at, read


def build(seeds_path, out, *flags: str) -> int:
    return main(["--seeds", str(seeds_path), "--out", str(out), "--quiet", "--backoff", "0.01", "--misconceptions", "0", *flags])


def test_a_hanging_endpoint_is_given_up_after_two_waves_and_the_file_is_full(tmp_path, monkeypatch, seeds, capsys):
    seeds_path = seed_file(tmp_path / "seeds.csv", seeds[:30])  # bench/bench_breaker.py runs all 100 at --timeout 5
    out = tmp_path / "out" / "f.jsonl"
    with FakeGemini(responder=lambda body: delay(600)) as fake:  # accepts the connection, never answers
        point_at(monkeypatch, fake)
        assert build(seeds_path, out, "--timeout", "1", "--retries", "1", "--concurrency", "4") == 3
        calls = fake.calls()
    limit = trip_after(4)
    assert limit <= calls < limit + 4  # the requests in flight when it tripped were cut off, none sent after
    records, meta, report = read(out)
    assert len(records) == 300
    assert report["breaker"] == {"after": limit, "failures": {"timeout": limit}, "skipped_seeds": report["fallbacks"]["breaker"]}
    assert report["fallbacks"]["breaker"] >= 30 - calls and sum(report["fallbacks"].values()) == 30
    assert Counter(m["generator"] for m in meta) == {"seed": 30, "offline": 270}
    assert all(m["fallback"] for m in meta if m["generator"] == "offline")
    err = capsys.readouterr().err.strip().splitlines()
    assert "Traceback" not in "\n".join(err) and len(err) == 2
    assert f"Gemini failed {limit} requests in a row with no success in between (timeout {limit}); circuit breaker" in err[0]
    assert "seeds by reason: breaker" in err[1]
    assert json.loads(out.with_name("f.manifest.json").read_text(encoding="utf-8"))["exit_status"] == 3


def test_junk_pages_and_server_errors_trip_it_too(tmp_path, monkeypatch, ten_seeds, capsys):
    seeds_path = seed_file(tmp_path / "seeds.csv", ten_seeds)
    pages = iter([raw_body("<html>502 Bad Gateway</html>", code=502), raw_body("<html>Wi-Fi</html>")] * 50)
    with FakeGemini(responder=lambda body: next(pages)) as fake:
        point_at(monkeypatch, fake)
        assert build(seeds_path, tmp_path / "f.jsonl", "--n", "4", "--concurrency", "1", "--retries", "4") == 3
        assert fake.calls() == 8
    _, _, report = read(tmp_path / "f.jsonl")
    assert report["breaker"] == {"after": 8, "failures": {"bad-response": 4, "server-error": 4}, "skipped_seeds": 10}
    assert "circuit breaker" in capsys.readouterr().err


def test_a_flaky_endpoint_that_answers_in_between_never_trips_it(tmp_path, monkeypatch, ten_seeds, capsys):
    seeds_path = seed_file(tmp_path / "seeds.csv", ten_seeds[:6])
    out = tmp_path / "f.jsonl"
    kinds = [drop_connection(), http_error(503)] * 3 + [delay(3)]
    served = iter(range(1000))

    def flaky(body):  # 7 failures, an answer, 7 failures, ...: never 8 in a row at --concurrency 1
        i = next(served)
        return default_responder(body) if i % 8 == 7 else kinds[i % 8]

    with FakeGemini(responder=flaky) as fake:
        point_at(monkeypatch, fake)
        flags = ("--n", "4", "--concurrency", "1", "--retries", "4", "--timeout", "0.5", "--max-fallback", "1")
        assert build(seeds_path, out, *flags) == 0  # not degraded: the breaker never tripped
        assert fake.calls() > 20
    _, _, report = read(out)
    assert "breaker" not in report and report["fallbacks"] and set(report["failed_attempts"]) == {"connection", "server-error", "timeout"}
    err = capsys.readouterr().err.strip().splitlines()
    failed = ", ".join(f"{reason} {count}" for reason, count in report["failed_attempts"].items())
    assert len(err) == 1 and f"failed attempts: {failed}" in err[0]  # the reasons survive --quiet


def test_a_success_resets_the_count_and_only_dead_endpoint_failures_count():
    async def scenario():
        breaker = Breaker(3)
        assert [breaker.record(reason) for reason in ("timeout", "connection", "", "server-error", "quota")] == [False] * 5
        assert not breaker.open and not breaker.streak
        assert [breaker.record(reason) for reason in ("bad-response", "timeout", "timeout")] == [False, False, True]
        assert breaker.open and not breaker.record("timeout") and breaker.summary()["failures"] == {"bad-response": 1, "timeout": 2}
        with pytest.raises(BreakerOpen):
            breaker.check()

    asyncio.run(scenario())


def test_guard_cuts_off_the_call_in_flight_when_it_trips():
    async def scenario():
        breaker = Breaker(1)
        hanging = asyncio.ensure_future(asyncio.sleep(3600))
        guarded = asyncio.ensure_future(breaker.guard(hanging))
        await asyncio.sleep(0)
        breaker.record("timeout")
        with pytest.raises(BreakerOpen):
            await guarded
        assert hanging.cancelled()
        assert await Breaker(1).guard(asyncio.sleep(0, result="answer")) == "answer"

    asyncio.run(scenario())


def test_the_trip_size_follows_concurrency():
    assert [trip_after(c) for c in (1, 4, 8, 32)] == [8, 8, 16, 64]
