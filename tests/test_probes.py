"""The probe builder: five kinds, at least 200 probes, none duplicating a training line, reproducible."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter

import pytest

from augment.knowledge.misconceptions import misconceptions
from augment.knowledge.prompting import system_prompt
from augment.probes.__main__ import main
from augment.probes.heldout import held_out, training_turns
from augment.probes.probe import KINDS, read_probes
from augment.quality.dedup import NEAR_THRESHOLD
from augment.text import amounts, exact_key, jaccard, shingles, strip_diacritics
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def training(tmp_path_factory):
    """Return the training file of an offline run of the real seeds."""
    out = tmp_path_factory.mktemp("run") / "fine_tune.jsonl"
    subprocess.run([sys.executable, "-m", "augment.run", "--offline", "--quiet", "--seeds", str(ROOT / "seeds" / "fine_tune.csv"),
                    "--out", str(out)], check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return out


@pytest.fixture(scope="module")
def probe_file(training, tmp_path_factory):
    out = tmp_path_factory.mktemp("probes") / "probes.jsonl"
    assert main(["--out", str(out), "--training", str(training), "--seeds", str(ROOT / "seeds" / "fine_tune.csv")]) == 0
    return out


def test_at_least_200_probes_of_the_five_kinds_in_chat_format(probe_file):
    system, probes = read_probes(probe_file)
    assert len(probes) >= 200
    counts = Counter(p.kind for p in probes)
    assert set(counts) == set(KINDS) and min(counts.values()) >= 20, counts
    assert system == system_prompt()
    for line in probe_file.read_text("utf-8").splitlines():
        record = json.loads(line)
        assert [m["role"] for m in record["messages"]] == ["system", "user"]
        assert record["kind"] in KINDS and record["expect"] and record["reference"].startswith("Dạ")
    assert len({p.id for p in probes}) == len(probes)


def test_no_probe_duplicates_a_training_line(probe_file, training):
    turns = training_turns([training])
    keys = {exact_key(t) for t in turns}
    grams = [shingles(t) for t in turns]
    _, probes = read_probes(probe_file)
    for probe in probes:
        for text in (probe.user, probe.question):
            assert exact_key(text) not in keys, probe.id
            mine = shingles(text)
            assert max(jaccard(mine, other) for other in grams) < NEAR_THRESHOLD, probe.id


def test_a_probe_near_a_training_line_is_dropped(probe_file):
    _, probes = read_probes(probe_file)
    first, second = probes[0], probes[-1]
    kept, dropped = held_out(probes, [first.question, second.question.rstrip("?!. ") + " nhé"])
    assert {p.id for p, _ in dropped} == {first.id, second.id}
    assert len(kept) == len(probes) - 2


def test_every_misconception_has_premise_probes(probe_file):
    _, probes = read_probes(probe_file)
    covered = {p.expect["misconception"] for p in probes if p.kind == "premise"}
    assert covered == {row.key for row in misconceptions()}
    for probe in (p for p in probes if p.kind == "premise"):
        assert probe.expect["false_claim"] and probe.expect["must"] and probe.expect["premise"]


def test_context_conflicts_expect_the_context_figure_and_never_the_memorised_one(probe_file):
    _, probes = read_probes(probe_file)
    conflicts = [p for p in probes if p.kind == "conflict"]
    assert len(conflicts) >= 20
    for probe in conflicts:
        context, memorised = amounts(probe.context), set(probe.expect["memorised_figures"])
        assert set(probe.expect["context_figures"]) <= context and not memorised & context
        assert probe.context in probe.user and amounts(probe.reference) & context
        assert not amounts(probe.reference) & memorised


def test_unknowns_and_registers(probe_file):
    _, probes = read_probes(probe_file)
    for probe in (p for p in probes if p.kind == "unknown"):
        assert probe.context and not any(ch.isdigit() for ch in probe.reference + probe.context)
    registers = Counter(p.register for p in probes if p.kind == "register")
    assert set(registers) == {"teencode", "nodiacritics", "terse", "english"}
    for probe in probes:
        if probe.register == "nodiacritics":
            assert probe.question == strip_diacritics(probe.question), probe.question


def test_same_inputs_give_the_same_file(probe_file, training, tmp_path):
    again = tmp_path / "again.jsonl"
    assert main(["--out", str(again), "--training", str(training), "--seeds", str(ROOT / "seeds" / "fine_tune.csv")]) == 0
    assert again.read_bytes() == probe_file.read_bytes()


def test_bad_training_file_is_one_line_and_writes_nothing(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": [}\n', "utf-8")
    out = tmp_path / "p.jsonl"
    assert main(["--out", str(out), "--training", str(bad), "--seeds", str(ROOT / "seeds" / "fine_tune.csv")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"error: {bad}:1: not an OpenAI chat line") and not out.exists()


def test_too_few_probes_exit_1_and_write_nothing(tmp_path, capsys):
    out = tmp_path / "p.jsonl"
    assert main(["--out", str(out), "--seeds", str(ROOT / "seeds" / "fine_tune.csv"), "--min-probes", "100000"]) == 1
    assert "nothing written" in capsys.readouterr().err and not out.exists()
