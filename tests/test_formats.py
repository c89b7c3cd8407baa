"""Formats: every export loads with Hugging Face datasets, round-trips to the same turns and passes the validator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from datasets import load_dataset

from augment.dataset.export import chat_record, jsonl
from augment.dataset.formats import FORMATS, detect_format, format_path, read_turns, render_files
from augment.records import INTENTS, Sample, Seed
from augment.dataset.validate import validate_bytes

SYSTEM = "Bạn là trợ lý tư vấn du lịch, luôn mở đầu bằng \"Dạ\"."


def _samples() -> list[Sample]:
    """Return twelve samples whose text has what breaks naive writers: quotes, backslashes, newlines, emoji."""
    samples = []
    for index in range(12):
        seed = Seed(f"S{index}", INTENTS[index % len(INTENTS)], "Đà Lạt", "q", "a")
        user = f"Vé \"Thung lũng Tình Yêu\" {index} bao nhiêu ạ? 🌸"
        answer = f"Dạ, vé khoảng {index}0.000 đồng ạ.\n- Giá tham khảo \\ có thể đổi nha."
        samples.append(Sample(seed, user, answer, "offline", "register"))
    return samples


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict[str, Path]:
    """Write the samples once in every format and return {format: path}."""
    out = tmp_path_factory.mktemp("formats") / "fine_tune.jsonl"
    files = render_files(out, _samples(), SYSTEM, FORMATS)
    for path, (_, text) in files.items():
        path.write_text(text, encoding="utf-8")
    return {fmt: path for path, (fmt, _) in files.items()}


def test_file_names_keep_openai_at_out_and_put_others_beside_it(tmp_path):
    out = tmp_path / "fine_tune.jsonl"
    assert [format_path(out, fmt).name for fmt in FORMATS] == ["fine_tune.jsonl", "fine_tune.gemini.jsonl", "fine_tune.sharegpt.jsonl"]


def test_openai_is_byte_identical_to_the_original_export(written):
    expected = jsonl(chat_record(sample, SYSTEM) for sample in _samples())
    assert written["openai"].read_text(encoding="utf-8") == expected


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_loads_with_datasets_and_round_trips(fmt, written, tmp_path):
    records = [json.loads(line) for line in written[fmt].read_text(encoding="utf-8").splitlines()]
    loaded = load_dataset("json", data_files=str(written[fmt]), split="train", cache_dir=str(tmp_path / "hf"))
    assert len(loaded) == len(records) == 12
    assert loaded.to_list() == records
    for row, sample in zip(loaded, _samples()):
        assert detect_format(row) == fmt
        assert read_turns(row, fmt) == [("system", SYSTEM), ("user", sample.user), ("assistant", sample.assistant)]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_passes_the_validator_both_detected_and_declared(fmt, written):
    data = written[fmt].read_bytes()
    for declared in (None, fmt):
        report = validate_bytes(data, str(written[fmt]), declared)
        assert report.problems == []
        assert report.formats == {fmt: 12}


def test_shapes_follow_the_reference():
    sample = _samples()[0]
    gemini = render_files(Path("x.jsonl"), [sample], SYSTEM, ["gemini"])[Path("x.gemini.jsonl")][1]
    sharegpt = render_files(Path("x.jsonl"), [sample], SYSTEM, ["sharegpt"])[Path("x.sharegpt.jsonl")][1]
    assert json.loads(gemini) == {
        "systemInstruction": {"role": "system", "parts": [{"text": SYSTEM}]},
        "contents": [{"role": "user", "parts": [{"text": sample.user}]}, {"role": "model", "parts": [{"text": sample.assistant}]}],
    }
    assert json.loads(sharegpt) == {
        "conversations": [{"from": "human", "value": sample.user}, {"from": "gpt", "value": sample.assistant}],
        "system": SYSTEM,
    }
    assert "🌸" in gemini and "\\u" not in gemini  # real characters, not escapes


def test_detect_format_returns_none_for_other_shapes():
    assert detect_format({"prompt": "a", "completion": "b"}) is None
