"""The evaluator against a loopback fake OpenAI-compatible server: scores, failures shown, retries, cache, resume."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from augment.evaluate.__main__ import main
from augment.evaluate.report import build_report, render_html
from augment.probes.__main__ import main as probes_main
from augment.probes.probe import KINDS, Probe, read_probes
from tests.conftest import ROOT
from tests.fake_openai import FakeOpenAI


@pytest.fixture(scope="module")
def probe_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("probes") / "probes.jsonl"
    assert probes_main(["--out", str(out), "--seeds", str(ROOT / "seeds" / "fine_tune.csv")]) == 0
    return out


@pytest.fixture(scope="module")
def probes(probe_file):
    return read_probes(probe_file)[1]


def _subset(probes: list[Probe], per_kind: int) -> list[Probe]:
    """Return the first few probes of each kind."""
    return [p for kind in KINDS for p in [q for q in probes if q.kind == kind][:per_kind]]


def _write(probe_file, chosen: list[Probe], path):
    ids = {p.id for p in chosen}
    keep = [line for line in probe_file.read_text("utf-8").splitlines() if json.loads(line)["id"] in ids]
    path.write_text("\n".join(keep) + "\n", "utf-8")
    return path


def _run(args: list[str], out) -> tuple[int, dict]:
    code = main([*args, "--out", str(out), "--quiet", "--backoff", "0.01"])
    return code, json.loads(out.read_text("utf-8")) if out.exists() else {}


def test_reference_answers_score_100_percent(probe_file, tmp_path):
    code, report = _run(["--probes", str(probe_file), "--reference"], tmp_path / "ref.json")
    assert code == 0 and report["score"] == 1.0 and report["answered"] == report["probes"] >= 200
    assert set(report["by_kind"]) == set(KINDS)
    assert all(row["score"] == 1.0 for row in report["by_check"].values())
    assert (tmp_path / "ref.html").read_text("utf-8").startswith("<!DOCTYPE html>")


def test_a_good_model_passes_and_a_rerun_asks_nothing(probe_file, probes, tmp_path):
    small = _write(probe_file, _subset(probes, 4), tmp_path / "small.jsonl")
    cache = tmp_path / "cache.sqlite"
    with FakeOpenAI(probes) as fake:
        args = ["--probes", str(small), "--base-url", fake.base_url, "--model", "good", "--cache", str(cache)]
        code, report = _run(args, tmp_path / "good.json")
        assert code == 0 and report["score"] == 1.0 and report["calls"] == 20
        asked = len(fake.requests)
        code, report = _run(args, tmp_path / "again.json")
        assert code == 0 and len(fake.requests) == asked and report["cache_hits"] == 20


@pytest.mark.parametrize(
    ("model", "kind", "check", "reasons"),
    [
        ("premise", "premise", "premise-corrected", {"missing-correction", "repeats-premise"}),
        ("memorised", "conflict", "context-figures", {"memorised-figure"}),
        ("inventor", "unknown", "no-invented-figure", {"invented-figure"}),
    ],
)
def test_each_bad_behaviour_is_caught_and_shown(probe_file, probes, tmp_path, model, kind, check, reasons):
    small = _write(probe_file, _subset(probes, 5), tmp_path / "small.jsonl")
    with FakeOpenAI(probes) as fake:
        args = ["--probes", str(small), "--base-url", fake.base_url, "--model", model, "--no-cache", "--min", f"{kind}=0.9"]
        code, report = _run(args, tmp_path / f"{model}.json")
    assert code == 1
    assert report["by_kind"][kind]["score"] == 0.0 and report["by_check"][check]["score"] == 0.0
    others = [k for k in KINDS if k != kind]
    assert all(report["by_kind"][k]["score"] == 1.0 for k in others)
    failing = [r for r in report["results"] if not r["passed"]]
    assert {f["reason"] for r in failing for f in r["failures"] if f["check"] == check} & reasons
    page = (tmp_path / f"{model}.html").read_text("utf-8")
    for result in failing:
        assert result["id"] in page
    assert any(reason in page for reason in reasons)


def test_english_answers_fail_the_register_check(probe_file, probes, tmp_path):
    small = _write(probe_file, _subset(probes, 2), tmp_path / "small.jsonl")
    with FakeOpenAI(probes) as fake:
        code, report = _run(["--probes", str(small), "--base-url", fake.base_url, "--model", "english", "--no-cache"], tmp_path / "en.json")
    assert code == 0  # no threshold given
    assert report["by_check"]["polite-register"]["score"] == 0.0 and report["score"] == 0.0
    assert all(row["score"] == 0.0 for row in report["by_kind"].values())
    assert report["failures_by_reason"]["not-vietnamese"] == 10


def test_429_500_malformed_json_and_timeouts_are_retried(probe_file, probes, tmp_path):
    small = _write(probe_file, _subset(probes, 1), tmp_path / "small.jsonl")
    with FakeOpenAI(probes) as fake:
        args = ["--probes", str(small), "--base-url", fake.base_url, "--model", "flaky", "--no-cache",
                "--timeout", "0.5", "--retries", "4", "--concurrency", "5"]
        code, report = _run(args, tmp_path / "flaky.json")
    assert code == 0 and report["score"] == 1.0 and report["unanswered"] == {}
    assert len(fake.requests) == 5 * 5  # four failures and one answer per probe


def test_a_server_that_keeps_failing_leaves_probes_unanswered_and_exits_1(probe_file, probes, tmp_path, capsys):
    small = _write(probe_file, _subset(probes, 1), tmp_path / "small.jsonl")
    cache = tmp_path / "cache.sqlite"
    with FakeOpenAI(probes) as fake:
        args = ["--probes", str(small), "--base-url", fake.base_url, "--model", "broken", "--cache", str(cache), "--retries", "1"]
        code, report = _run(args, tmp_path / "broken.json")
    assert code == 1 and report["answered"] == 0 and set(report["unanswered"].values()) == {"http-500"}
    assert "5 probes got no answer (http-500); run again" in capsys.readouterr().err
    assert sqlite3.connect(cache).execute("SELECT COUNT(*) FROM responses").fetchone()[0] == 0


def test_unknown_model_is_one_line_exit_1(probe_file, probes, tmp_path, capsys):
    with FakeOpenAI(probes) as fake:
        code, _ = _run(["--probes", str(probe_file), "--base-url", fake.base_url, "--model", "nope", "--no-cache"], tmp_path / "x.json")
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and "HTTP 404" in err[-1] and "--model" in err[-1] and not (tmp_path / "x.json").exists()


def test_no_server_is_one_line_exit_1_without_retrying_every_probe(probe_file, tmp_path, capsys):
    with FakeOpenAI([]) as fake:
        url = fake.base_url  # the port is free again once the fake has stopped
    start = time.monotonic()
    code, _ = _run(["--probes", str(probe_file), "--base-url", url, "--model", "good", "--no-cache", "--retries", "1"], tmp_path / "x.json")
    assert code == 1 and time.monotonic() - start < 10
    assert capsys.readouterr().err.strip().splitlines()[-1] == f"error: {url}: cannot connect; is the server running and --base-url right?"


def test_key_comes_from_the_named_variable_and_is_never_written(probe_file, probes, tmp_path, monkeypatch, capsys):
    small = _write(probe_file, _subset(probes, 1), tmp_path / "small.jsonl")
    cache = tmp_path / "cache.sqlite"
    with FakeOpenAI(probes, key="sk-secret-123") as fake:
        args = ["--probes", str(small), "--base-url", fake.base_url, "--model", "good", "--cache", str(cache), "--api-key-env", "MY_KEY"]
        monkeypatch.delenv("MY_KEY", raising=False)
        code, _ = _run(args, tmp_path / "nokey.json")
        assert code == 2 and "MY_KEY is not set" in capsys.readouterr().err
        monkeypatch.setenv("MY_KEY", "sk-secret-123")
        code, report = _run(args, tmp_path / "key.json")
    assert code == 0 and report["score"] == 1.0
    for path in (tmp_path / "key.json", tmp_path / "key.html", cache):
        assert b"sk-secret-123" not in path.read_bytes()


def test_kill_9_resumes_without_repeating_answered_probes(probe_file, probes, tmp_path):
    chosen = _subset(probes, 8)
    small = _write(probe_file, chosen, tmp_path / "small.jsonl")
    cache = tmp_path / "cache.sqlite"
    with FakeOpenAI(probes, delay=0.05) as fake:
        command = [sys.executable, "-m", "augment.evaluate", "--probes", str(small), "--base-url", fake.base_url,
                   "--model", "slow", "--cache", str(cache), "--concurrency", "1", "--quiet", "--out", str(tmp_path / "killed.json")]
        child = subprocess.Popen(command, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)})
        deadline = time.monotonic() + 60
        answered = 0
        while answered < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
            if cache.exists():
                try:
                    answered = sqlite3.connect(cache).execute("SELECT COUNT(*) FROM responses").fetchone()[0]
                except sqlite3.Error:
                    answered = 0
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        assert child.returncode == -signal.SIGKILL and not (tmp_path / "killed.json").exists()
        cached = sqlite3.connect(cache).execute("SELECT COUNT(*) FROM responses").fetchone()[0]
        assert 10 <= cached < len(chosen)
        before = list(fake.requests)
        code, report = _run(["--probes", str(small), "--base-url", fake.base_url, "--model", "slow", "--cache", str(cache)], tmp_path / "resumed.json")
    resumed = fake.requests[len(before):]
    assert code == 0 and report["answered"] == len(chosen) and report["cache_hits"] == cached
    assert len(resumed) == len(chosen) - cached
    assert not {user for _, user in resumed} & {user for _, user in before[:cached]}


def test_compare_reports_the_change_and_max_drop_fails(probe_file, probes, tmp_path, capsys):
    small = _write(probe_file, _subset(probes, 2), tmp_path / "small.jsonl")
    with FakeOpenAI(probes) as fake:
        _run(["--probes", str(small), "--base-url", fake.base_url, "--model", "english", "--no-cache"], tmp_path / "base.json")
        _run(["--probes", str(small), "--base-url", fake.base_url, "--model", "good", "--no-cache"], tmp_path / "tuned.json")
    capsys.readouterr()
    assert main(["--compare", str(tmp_path / "base.json"), str(tmp_path / "tuned.json"), "--out", str(tmp_path / "cmp.json"), "--max-drop", "0.05"]) == 0
    table = capsys.readouterr().out
    assert "english -> good" in table and "+100.0%" in table
    comparison = json.loads((tmp_path / "cmp.json").read_text("utf-8"))
    assert comparison["scores"]["all"] == {"before": 0.0, "after": 1.0, "change": 1.0}
    assert (tmp_path / "cmp.html").exists()
    assert main(["--compare", str(tmp_path / "tuned.json"), str(tmp_path / "base.json"), "--out", str(tmp_path / "cmp2.json"), "--max-drop", "0.05"]) == 1
    assert "all fell -100.0%" in capsys.readouterr().err


def test_html_escapes_everything(probes):
    probe = next(p for p in probes if p.kind == "register")
    report = build_report([probe], {probe.id: "<script>alert('x')</script> & <b>"}, {}, {"model": "<i>m</i>", "base_url": ""})
    page = render_html(report)
    assert "<script>" not in page and "&lt;script&gt;" in page and "<i>m</i>" not in page and "&amp; &lt;b&gt;" in page


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--probes", "missing.jsonl", "--reference"], "cannot read the probe file"),
        (["--reference"], "cannot read the probe file"),
        (["--model", "m"], "--base-url and --model are required"),
    ],
)
def test_bad_input_is_one_line_exit_2(probe_file, tmp_path, capsys, args, message):
    if "--model" in args:
        args = [*args, "--probes", str(probe_file)]
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_bad_probe_line_and_bad_threshold(probe_file, tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\n', "utf-8")
    assert main(["--probes", str(bad), "--reference"]) == 2
    assert f"{bad}:1: not a probe line" in capsys.readouterr().err
    record = json.loads(next(line for line in probe_file.read_text("utf-8").splitlines() if '"conflict"' in line))
    del record["expect"]["memorised_figures"]
    bad.write_text(json.dumps(record, ensure_ascii=False) + "\n", "utf-8")
    assert main(["--probes", str(bad), "--reference"]) == 2
    assert "expect.memorised_figures" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["--reference", "--min", "nonsense=0.5"])
    assert exit_info.value.code == 2
