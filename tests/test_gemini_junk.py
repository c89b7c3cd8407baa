"""Junk replies from the endpoint: never a traceback, never replayed from the cache as an answer, never a huge cache."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from augment.generators.gemini.cache import ResponseCache
from augment.generators.gemini.plan import RequestPlanner
from augment.generators.gemini.replies import answer_record, cached_answer, junk_record, reply_limit, reply_record
from augment.generators.gemini.settings import GeminiSettings
from augment.generators.variants import VariantPool
from augment.pipeline import variants_wanted
from conftest import seed_file
from fake_gemini import FakeGemini, raw_body, raw_text
from test_gemini import N, about, point_at, read, requests_for, run, variants_json

CACHE = Path(".augment-cache/gemini.sqlite")  # the default, relative to the test's own folder
HTML = "<!DOCTYPE html><html><head><title>Đăng nhập Wi-Fi</title></head><body>Vui lòng đăng nhập</body></html>"


def cache_rows() -> list[dict]:
    with sqlite3.connect(CACHE) as db:
        return [json.loads(text) for (text,) in db.execute("SELECT text FROM responses")]


def test_a_200_that_is_not_json_is_a_retried_failure_never_a_traceback(tmp_path, monkeypatch, ten_seeds, capsys):
    s = ten_seeds
    seeds = seed_file(tmp_path / "seeds.csv", s)
    with FakeGemini() as fake:
        point_at(monkeypatch, fake)
        fake.fault_for(about(s[0].id), raw_body(HTML), times=1)
        fake.fault_for(about(s[1].id), raw_body("upstream says hello", "text/plain"), times=1)
        fake.fault_for(about(s[2].id), raw_body(variants_json(s[2], 3)[:40], "application/json"), times=1)  # cut off
        fake.fault_for(about(s[3].id), raw_body('{"candidates": [{"content": 5}]}', "application/json"), times=1)
        fake.fault_for(about(s[4].id), raw_body(HTML), times=None)  # a captive portal for this seed, all night
        out = tmp_path / "out" / "f.jsonl"
        assert run(seeds, out, "--retries", "2") == 0
        assert [len(requests_for(fake, x.id)) for x in s] == [2, 2, 2, 2, 3, 1, 1, 1, 1, 1]
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1 and "bad-response" in err
    records, meta, report = read(out)
    assert len(records) == 10 * N
    assert report["failed_attempts"] == {"bad-response": 7} and report["fallbacks"] == {"bad-response": 1}
    assert Counter(m["generator"] for m in meta) == {"seed": 10, "gemini": 27, "offline": 3}
    assert not any("<html" in json.dumps(row) for row in cache_rows())  # not one byte of the page is cached


def test_a_junk_night_does_not_poison_the_next_healthy_night(tmp_path, monkeypatch, ten_seeds, capsys):
    seeds = seed_file(tmp_path / "seeds.csv", ten_seeds)
    junk = raw_text(HTML + " " + "rác " * 250_000)  # a 200 with a 1 MB page where the variants should be
    with FakeGemini(responder=lambda body: junk) as fake:
        point_at(monkeypatch, fake)
        assert run(seeds, tmp_path / "night1" / "f.jsonl", "--retries", "1") == 3
        assert fake.calls() == 20
    assert "Traceback" not in capsys.readouterr().err
    rows = cache_rows()
    assert len(rows) == 20 and all(row == {"junk": "unusable", "chars": len(junk.text)} for row in rows)
    assert CACHE.stat().st_size < 100_000

    with FakeGemini() as healthy:
        point_at(monkeypatch, healthy)
        out = tmp_path / "night2" / "f.jsonl"
        assert run(seeds, out, "--retries", "1") == 0
        assert healthy.calls() == 10
    _, meta, report = read(out)
    assert Counter(m["generator"] for m in meta) == {"seed": 10, "gemini": 30} and report["cache_hits"] == 0


def test_a_reply_over_the_size_limit_is_used_but_not_stored(tmp_path, monkeypatch, ten_seeds):
    seed = ten_seeds[0]
    seeds = seed_file(tmp_path / "seeds.csv", [seed])
    limit = reply_limit(seed, N - 1)
    padded = raw_text(variants_json(seed, N - 1) + "\n" + "x" * limit)
    with FakeGemini(responder=lambda body: padded) as fake:
        point_at(monkeypatch, fake)
        out = tmp_path / "out" / "f.jsonl"
        assert run(seeds, out) == 0
        assert run(seeds, out) == 0
        assert fake.calls() == 2  # the rerun had nothing to replay
    assert cache_rows() == [{"junk": "too-large", "chars": len(padded.text)}]
    _, meta, _ = read(out)
    assert Counter(m["generator"] for m in meta) == {"seed": 1, "gemini": N - 1}


def test_a_fallback_on_cached_replies_says_so_and_refresh_cache_asks_again(tmp_path, monkeypatch, ten_seeds, capsys):
    seed = ten_seeds[0]
    seeds = seed_file(tmp_path / "seeds.csv", ten_seeds[:3])
    # A reply stored as usable (by an earlier version, or before a gate was added) that gives nothing usable today.
    wanted = variants_wanted(ten_seeds[:3], N, 3 * N)
    planner, pool, repeats = RequestPlanner(GeminiSettings(retries=1)), VariantPool(seed, wanted), Counter()
    with ResponseCache(CACHE) as cache:
        for _ in range(2):  # every attempt --retries 1 allows
            request = planner.request(pool, repeats)
            cache.put(request.key, planner.model, answer_record('{"variants": [{"user": "chỉ có câu hỏi"}]}'))
            repeats[request.identity] += 1
    with FakeGemini() as fake:
        point_at(monkeypatch, fake)
        out = tmp_path / "out" / "f.jsonl"
        assert run(seeds, out, "--retries", "1") == 0
        assert requests_for(fake, seed.id) == []
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "cached replies that give no usable variant today made 1 of these seeds fall back" in err[0]
        assert "--refresh-cache" in err[0]
        assert read(out)[2]["cached_fallbacks"] == 1

        assert run(seeds, out, "--retries", "1", "--refresh-cache") == 0
        assert len(requests_for(fake, seed.id)) == 1
    _, meta, report = read(out)
    assert Counter(m["generator"] for m in meta) == {"seed": 3, "gemini": 9} and report["refreshed"] == 1
    with pytest.raises(SystemExit) as stopped:
        run(seeds, out, "--refresh-cache", "--no-cache")
    assert stopped.value.code == 2


def test_only_usable_replies_become_answers():
    assert cached_answer(reply_record('{"variants": []}', "", usable=True, limit=100, served="m-001")) == ('{"variants": []}', "m-001")
    assert cached_answer(reply_record("x" * 101, "", usable=True, limit=100)) is None
    assert cached_answer(reply_record("", "blocked", usable=False, limit=100)) is None
    assert cached_answer(reply_record("Xin lỗi", "", usable=False, limit=100)) is None
    assert cached_answer(junk_record("bad-json", 5)) is None
    # Records of earlier versions: a failed reply was kept with its problem, and is asked again now.
    assert cached_answer(json.dumps({"text": "", "problem": "empty"})) is None
    assert cached_answer(json.dumps({"text": "{}", "problem": ""})) == ("{}", "")
    assert cached_answer("not json") is None and cached_answer(None) is None


def test_the_limit_fits_every_real_seed_with_room(seeds):
    for seed in seeds:
        assert reply_limit(seed, 9) > 9 * 2 * (len(seed.question) + len(seed.answer))
