"""Gemini token counts from countTokens when a key is present: exact, cached, counted as calls; else the estimate."""

from __future__ import annotations

import json
import re

from augment.dataset.formats import read_turns
from augment.dataset.tokens import GEMINI, counter
from fake_gemini import FakeGemini, http_error, token_count
from test_gemini import no_key_anywhere, point_at, read, run, seed_file


def _gemini_rows(out):
    """Return each example of the Gemini file as its turns."""
    path = out.with_name(f"{out.stem}.gemini.jsonl")
    return [read_turns(json.loads(line), "gemini") for line in path.read_text(encoding="utf-8").splitlines()]


def _card_row(out, name: str) -> re.Match:
    card = (out.parent / "README.md").read_text(encoding="utf-8")
    return re.search(rf"^\| {name} \| [^|]+ \| (\w+) \| (\d+) / (\d+) / (\d+) \| ([\d,]+) \|", card, re.M)


def test_a_gemini_run_counts_its_gemini_tokens_with_count_tokens_once(tmp_path, monkeypatch, ten_seeds, capsys):
    seeds = seed_file(tmp_path / "seeds.csv", ten_seeds)
    out = tmp_path / "out" / "f.jsonl"
    with FakeGemini() as fake:
        point_at(monkeypatch, fake)
        assert run(seeds, out, "--format", "openai", "--format", "gemini") == 0
        texts = {text for row in _gemini_rows(out) for _, text in row}
        assert fake.calls("count_tokens") == len(texts)  # each distinct text once
        _, _, report = read(out)
        assert report["count_tokens_calls"] == len(texts)
        # The fake counts words + 2, a rule of its own: card, report and manifest carry its numbers, labelled exact.
        encoding = counter(GEMINI).encoding
        per_example = [encoding.tokens_per_reply + sum(encoding.tokens_per_message + token_count(t) for _, t in row)
                       for row in _gemini_rows(out)]
        row = _card_row(out, GEMINI)
        assert row and row[1] == "exact" and int(row[5].replace(",", "")) == sum(per_example)
        manifest = json.loads(out.with_name("f.manifest.json").read_text(encoding="utf-8"))
        assert manifest["example_tokens"][GEMINI] == {**manifest["example_tokens"][GEMINI], "counted": "exact", "total": sum(per_example)}
        assert manifest["count_tokens_calls"] == len(texts)
        assert not counter(GEMINI).exact  # measured for that run only: the next run starts from the estimate

        assert run(seeds, out, "--format", "openai", "--format", "gemini") == 0
        assert fake.calls("count_tokens") == len(texts), "a rerun counts from the cache"
        assert read(out)[2]["count_tokens_calls"] == 0 and _card_row(out, GEMINI)[1] == "exact"
    no_key_anywhere(tmp_path, capsys.readouterr().err)


def test_when_count_tokens_fails_the_counts_stay_the_labelled_estimate(tmp_path, monkeypatch, ten_seeds, capsys):
    seeds = seed_file(tmp_path / "seeds.csv", ten_seeds)
    out = tmp_path / "out" / "f.jsonl"
    with FakeGemini() as fake:
        fake.count_fault = http_error(500, "INTERNAL", "backend error")
        point_at(monkeypatch, fake)
        assert run(seeds, out, "--format", "gemini", "--no-cache") == 0
    assert _card_row(out, GEMINI)[1] == "estimate"
    err = capsys.readouterr().err
    assert "Gemini countTokens failed (HTTP 500 INTERNAL: backend error)" in err and "calibrated estimate" in err


def test_an_offline_run_never_counts_with_gemini(tmp_path, ten_seeds):
    seeds = seed_file(tmp_path / "seeds.csv", ten_seeds)
    out = tmp_path / "out" / "f.jsonl"
    assert run(seeds, out, "--offline", "--format", "gemini") == 0
    report = json.loads(out.with_name("f.report.json").read_text(encoding="utf-8"))
    assert _card_row(out, GEMINI)[1] == "estimate" and "count_tokens_calls" not in report
