"""End to end through main(): the nightly offline job and its failure modes."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import multiprocessing.context
import os
import re
import subprocess
import sys
import threading
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from augment.knowledge.facts import load_facts
from augment.generators import prepare
from augment.generators.prepare import FORKED_PARALLEL_FROM, PARALLEL_FROM, default_workers
from augment.run import main
from augment.text import exact_key, loose_key
from conftest import SEEDS, digit_runs, write_csv


def _run(tmp_path: Path, *flags: str, out: str = "out/fine_tune.jsonl") -> tuple[int, Path]:
    path = tmp_path / out
    code = main(["--seeds", str(SEEDS), "--out", str(path), "--quiet", *flags])
    return code, path


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("run")
    code, out = _run(tmp_path, "--n", "10", "--offline")
    lines = out.read_text(encoding="utf-8").splitlines()
    meta = [json.loads(line) for line in out.with_name("fine_tune.meta.jsonl").read_text(encoding="utf-8").splitlines()]
    return code, out, [json.loads(line) for line in lines], meta, lines


def test_default_run_writes_exactly_1000_chat_lines(default_run):
    code, out, records, meta, lines = default_run
    assert code == 0
    assert len(records) == 1000 == len(meta)
    systems = {r["messages"][0]["content"] for r in records}
    assert len(systems) == 1
    for record in records:
        assert list(record) == ["messages"]
        assert [m["role"] for m in record["messages"]] == ["system", "user", "assistant"]
        assert all(m["content"].strip() for m in record["messages"])


def test_output_is_real_utf8_nfc_without_escapes(default_run):
    _, out, records, _, lines = default_run
    raw = out.read_bytes().decode("utf-8")
    assert "\\u" not in raw and "Đà Lạt" in raw
    assert unicodedata.is_normalized("NFC", raw)
    assert raw.endswith("\n") and not raw.endswith("\n\n")


def test_no_duplicates_and_intents_balanced(default_run):
    _, _, records, meta, _ = default_run
    pairs = [(exact_key(r["messages"][1]["content"]), exact_key(r["messages"][2]["content"])) for r in records]
    assert len(set(pairs)) == len(pairs)
    per_seed = Counter((m["seed_id"], exact_key(r["messages"][1]["content"])) for m, r in zip(meta, records))
    assert max(per_seed.values()) == 1
    for intent, count in Counter(m["intent"] for m in meta).items():
        assert 180 <= count <= 220, intent


def test_meta_lines_match_records_and_cover_registers(default_run):
    _, _, records, meta, _ = default_run
    assert {m["generator"] for m in meta} == {"seed", "offline"}
    assert {"seed_id", "intent", "place", "generator", "method", "register"} <= set(meta[0])
    assert len({m["register"] for m in meta}) == 7
    assert Counter(m["generator"] for m in meta)["seed"] == 100


def test_report_counts_what_was_written(default_run):
    _, out, _, meta, _ = default_run
    report = json.loads(out.with_name("fine_tune.report.json").read_text(encoding="utf-8"))
    assert report["written"] == report["target"] == 1000
    assert sum(report["by_intent"].values()) == 1000
    assert report["by_generator"] == dict(Counter(m["generator"] for m in meta).most_common())
    path = out.with_name("fine_tune.rejected.jsonl")  # written only when something was rejected: never empty
    rejected = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    assert sum(report["dropped"].values()) == len(rejected) and path.exists() == bool(rejected)
    assert all(json.loads(line)["reason"] for line in rejected)
    assert not [p.name for p in out.parent.iterdir() if p.is_file() and p.stat().st_size == 0 and not p.name.startswith(".")]


def test_every_variant_keeps_its_seed_names_and_numbers(default_run, seeds):
    _, _, records, meta, _ = default_run
    by_id = {s.id: s for s in seeds}
    names = [loose_key(name) for name in load_facts().locked_names()]
    for m, record in zip(meta, records):
        if m.get("misconception"):  # a false premise on a synthetic seed: test_misconceptions.py
            continue
        question_turn = record["messages"][1]["content"].split("\n\nCâu hỏi: ")[-1]  # grounded: after the context
        seed, user = by_id[m["seed_id"]], loose_key(question_turn)
        question = loose_key(seed.question)
        for name in names:
            if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", question):
                assert re.search(rf"(?<!\w){re.escape(name)}(?!\w)", user), (seed.question, user)
        assert digit_runs(user) == digit_runs(question)
        if not m.get("grounding"):  # grounded answers take their figures from the context (test_ground.py)
            assert set(digit_runs(record["messages"][2]["content"])) == set(digit_runs(seed.answer))


def test_same_seed_is_byte_identical_other_seed_differs(tmp_path, default_run):
    _, out, _, _, _ = default_run
    code_a, again = _run(tmp_path, "--n", "10", "--offline", out="a/fine_tune.jsonl")
    code_b, other = _run(tmp_path, "--n", "10", "--offline", "--seed", "1", out="b/fine_tune.jsonl")
    assert code_a == code_b == 0
    digest = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()  # noqa: E731
    assert digest(again) == digest(out)
    assert digest(again.with_name("fine_tune.meta.jsonl")) == digest(out.with_name("fine_tune.meta.jsonl"))
    assert digest(other) != digest(out)


def test_worker_processes_give_the_same_bytes(tmp_path, default_run):
    _, out, _, _, _ = default_run
    code, parallel = _run(tmp_path, "--n", "10", "--offline", "--workers", "2")
    assert code == 0
    for name in ("fine_tune.jsonl", "fine_tune.meta.jsonl", "fine_tune.report.json", "fine_tune.rejected.jsonl"):
        assert parallel.with_name(name).exists() == out.with_name(name).exists(), name
        if out.with_name(name).exists():
            assert parallel.with_name(name).read_bytes() == out.with_name(name).read_bytes(), name


def test_workers_start_only_for_a_large_seed_file(monkeypatch):
    monkeypatch.setattr(prepare, "can_fork", lambda: False)
    assert default_workers(PARALLEL_FROM - 1) == 1
    assert default_workers(PARALLEL_FROM) >= 1
    monkeypatch.setattr(prepare, "can_fork", lambda: True)
    assert default_workers(FORKED_PARALLEL_FROM - 1) == 1
    assert default_workers(FORKED_PARALLEL_FROM) == default_workers(PARALLEL_FROM)


def test_workers_are_forked_only_without_other_threads():
    alone = threading.active_count() == 1
    assert prepare.can_fork() == (alone and "fork" in multiprocessing.get_all_start_methods())
    assert isinstance(prepare._context(), multiprocessing.context.ForkContext) == prepare.can_fork()
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not prepare.can_fork() and isinstance(prepare._context(), multiprocessing.context.SpawnContext)
    finally:
        stop.set()
        thread.join()


def test_target_overrides_seeds_times_n(tmp_path):
    code, out = _run(tmp_path, "--n", "5", "--target", "333", "--offline")
    assert code == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 333


def test_unreachable_target_says_so_and_exits_3(tmp_path, capsys):
    seed_file = write_csv(tmp_path / "one.csv", [["S1", "price", "Đà Lạt", "Giá vé Datanla bao nhiêu?", "Dạ, vé khoảng 50.000 đồng ạ."]])
    out = tmp_path / "o" / "f.jsonl"
    code = main(["--seeds", str(seed_file), "--out", str(out), "--target", "5000", "--offline"])
    assert code == 3
    assert "short of target" in capsys.readouterr().err
    assert 0 < len(out.read_text(encoding="utf-8").splitlines()) < 5000


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--n", "0"], "argument --n: must be at least 1, got 0"),
        (["--n", "ten"], "argument --n: expected a whole number, got 'ten'"),
        (["--target", "-5"], "argument --target: must be at least 1"),
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["--max-fallback", "1.5"], "argument --max-fallback: must be between 0 and 1, got 1.5"),
        (["--workers", "0"], "argument --workers: must be at least 1, got 0"),
        (["--batch", "--offline"], "--batch needs Gemini; drop --offline"),
        (["--batch", "--no-cache"], "--batch keeps the job's replies in the response cache; drop --no-cache"),
    ],
)
def test_bad_flags_exit_2_with_one_line(tmp_path, capsys, flags, message):
    with pytest.raises(SystemExit) as exit_info:
        main(["--out", str(tmp_path / "o.jsonl"), *flags])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "o.jsonl").exists()


def test_bad_seed_file_exits_2_and_keeps_previous_output(tmp_path, capsys):
    out = tmp_path / "o" / "fine_tune.jsonl"
    out.parent.mkdir()
    out.write_text("yesterday\n", encoding="utf-8")
    bad = write_csv(tmp_path / "bad.csv", [["S1", "price", "Đà Lạt", "q?"]], header=("id", "intent", "place", "question"))
    code = main(["--seeds", str(bad), "--out", str(out), "--offline"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "missing column(s) answer" in err[0]
    assert out.read_text(encoding="utf-8") == "yesterday\n"
    assert sorted(p.name for p in out.parent.iterdir()) == ["fine_tune.jsonl"]


def test_help_explains_every_flag(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for flag in ("--n", "--target", "--seeds", "--out", "--seed", "--offline"):
        assert flag in text


def test_runs_as_a_module_without_a_key(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "m" / "fine_tune.jsonl"
    result = subprocess.run(
        [sys.executable, "-m", "augment.run", "--n", "2", "--seeds", str(SEEDS), "--out", str(out)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "offline mode" in result.stderr
    assert len(out.read_text(encoding="utf-8").splitlines()) == 200


def test_an_offline_run_imports_neither_the_gemini_client_nor_matplotlib(tmp_path):
    code = (
        "import sys; from augment.run import main; "
        f"assert main(['--offline', '--quiet', '--n', '2', '--out', {str(tmp_path / 'o' / 'f.jsonl')!r}, '--seeds', {str(SEEDS)!r}]) == 0; "
        "heavy = {'asyncio', 'tenacity', 'matplotlib', 'pandas', 'augment.generators.gemini.client', 'google.genai'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(SEEDS.parent.parent)}, check=True)
