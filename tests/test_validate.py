"""Validator: each class of error is caught on a crafted file, by name and line; the CLI and the run use it."""

from __future__ import annotations

import json
import unicodedata

import pytest

from augment import run
from augment.dataset.bundle import check_data
from augment.errors import RunError
from augment.dataset.formats import read_turns
from augment.dataset.tokens import default_epochs, estimate_tokens, example_tokens
from augment.dataset.validate import main, validate_bytes
from seed_rows import small_seeds

SYSTEM = "Bạn là trợ lý du lịch."


def _openai(user: str, answer: str = "Dạ, vé khoảng 250.000 đồng ạ.", system: str | None = SYSTEM) -> dict:
    messages = [{"role": "system", "content": system}] if system is not None else []
    return {"messages": messages + [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]}


def _gemini(user: str, answer: str = "Dạ, có ạ.") -> dict:
    return {
        "systemInstruction": {"role": "system", "parts": [{"text": SYSTEM}]},
        "contents": [{"role": "user", "parts": [{"text": user}]}, {"role": "model", "parts": [{"text": answer}]}],
    }


def _sharegpt(user: str, answer: str = "Dạ, có ạ.") -> dict:
    return {"conversations": [{"from": "human", "value": user}, {"from": "gpt", "value": answer}], "system": SYSTEM}


def _file(*lines: object) -> bytes:
    """Return JSONL bytes: dicts are serialised, str and bytes are taken as the raw line."""
    raw = []
    for line in lines:
        if isinstance(line, dict | list):
            line = json.dumps(line, ensure_ascii=False)
        raw.append(line if isinstance(line, bytes) else line.encode("utf-8"))
    return b"".join(line + b"\n" for line in raw)


def _found(data: bytes, fmt: str | None = None) -> set[tuple[int, str, str]]:
    return {(p.line, p.level, p.check) for p in validate_bytes(data, "f.jsonl", fmt).problems}


GOOD = [_openai("Vé Thung lũng Tình Yêu bao nhiêu ạ?"), _openai("Chợ đêm Đà Lạt ở đâu ạ?")]


BAD_OPENAI_LINES = {
    "data_type": [1, 2],
    "missing_messages_list": {"messages": []},
    "message_missing_key": {"messages": [{"role": "system", "content": SYSTEM}, {"role": "user"}, {"role": "assistant", "content": "Dạ."}]},
    "message_unrecognized_key": {"messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "Hỏi?", "seed_id": "S1"}, {"role": "assistant", "content": "Dạ."}]},
    "unrecognized_role": {"messages": [{"role": "system", "content": SYSTEM}, {"role": "bot", "content": "Hỏi?"}, {"role": "assistant", "content": "Dạ."}]},
    "missing_content": _openai("Hỏi giá?", answer=""),
    "example_missing_assistant_message": {"messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "Hỏi?"}]},
    "unrecognized_top_level_key": {**_openai("Hỏi đường?"), "intent": "address"},
    "role_order": {"messages": [{"role": "system", "content": SYSTEM}, {"role": "assistant", "content": "Dạ."}, {"role": "user", "content": "Hỏi?"}]},
    "empty_turn": _openai("   \n"),
    "not_nfc": _openai(unicodedata.normalize("NFD", "Đà Lạt có gì vui?")),
    "system_prompt_mismatch": _openai("Hỏi thêm?", system="Bạn là trợ lý khác."),
    "duplicate_example": GOOD[0],
    "utf8": json.dumps(_openai("Hỏi \ud800 lạ?")),  # a lone surrogate escape: valid JSON, not valid UTF-8
    "unknown_format": {"prompt": "Hỏi?", "completion": "Dạ."},
    "mixed_format": _gemini("Hỏi kiểu Gemini?"),
}


@pytest.mark.parametrize("check", sorted(BAD_OPENAI_LINES))
def test_each_error_is_reported_on_its_line_and_only_there(check):
    found = _found(_file(*GOOD, BAD_OPENAI_LINES[check]))
    errors = {(line, name) for line, level, name in found if level == "error"}
    assert (3, check) in errors
    assert all(line == 3 for line, _ in errors), errors


@pytest.mark.parametrize("raw, check", [
    (b"{\"messages\": [", "invalid_json"),
    (b"", "blank_line"),
    (b"   ", "blank_line"),
    ("{\"messages\": \"Đà\"}".encode("utf-16-le"), "utf8"),
    (b"{\"x\": \"\xff\"}", "utf8"),
])
def test_raw_line_errors(raw, check):
    assert (3, "error", check) in _found(_file(*GOOD, raw))


def test_byte_order_mark_and_empty_file_are_errors():
    assert (1, "error", "utf8") in _found(b"\xef\xbb\xbf" + _file(*GOOD))
    assert _found(b"") == {(0, "error", "empty_file")}


@pytest.mark.parametrize("line, check", [
    ({"contents": []}, "missing_contents_list"),
    ({"contents": [{"role": "user", "parts": [{"text": "Hỏi?"}]}, {"role": "assistant", "parts": [{"text": "Dạ."}]}]}, "unrecognized_role"),
    ({"contents": [{"role": "user", "parts": [{"text": "Hỏi?"}]}, {"role": "model", "parts": []}]}, "missing_text"),
    ({"contents": [{"role": "user", "parts": [{"text": "Hỏi?"}]}]}, "example_missing_model_message"),
    ({"systemInstruction": {"text": SYSTEM}, "contents": [{"role": "user", "parts": [{"text": "Hỏi?"}]}, {"role": "model", "parts": [{"text": "Dạ."}]}]}, "invalid_system_instruction"),
    ({"contents": [{"role": "model", "parts": [{"text": "Dạ."}]}, {"role": "user", "parts": [{"text": "Hỏi?"}]}]}, "role_order"),
])
def test_gemini_errors(line, check):
    good = [_gemini("Hỏi một?"), _gemini("Hỏi hai?")]
    assert (3, "error", check) in _found(_file(*good, line), "gemini")


@pytest.mark.parametrize("line, check", [
    ({"conversations": []}, "missing_conversations_list"),
    ({"conversations": [{"from": "user", "value": "Hỏi?"}, {"from": "gpt", "value": "Dạ."}], "system": SYSTEM}, "unrecognized_role"),
    ({"conversations": [{"from": "human", "value": "Hỏi?"}], "system": SYSTEM}, "example_missing_gpt_message"),
    ({"conversations": [{"from": "gpt", "value": "Dạ."}, {"from": "human", "value": "Hỏi?"}], "system": SYSTEM}, "role_order"),
    ({"conversations": [{"from": "human", "value": "Hỏi?"}, {"from": "gpt", "value": 5}], "system": SYSTEM}, "missing_content"),
    ({"conversations": [{"from": "human", "value": "Hỏi?"}, {"from": "gpt", "value": "Dạ."}], "system": 1}, "invalid_system"),
])
def test_sharegpt_errors(line, check):
    good = [_sharegpt("Hỏi một?"), _sharegpt("Hỏi hai?")]
    assert (3, "error", check) in _found(_file(*good, line))


def test_warnings_do_not_count_as_errors():
    no_system = [_openai(f"Câu hỏi số {i}?", system=None) for i in range(12)]
    report = validate_bytes(_file(*no_system, _openai("Câu hỏi số 1?", answer="Dạ, khác ạ.", system=None)), "f.jsonl")
    assert not report.errors
    assert {p.check for p in report.warnings} == {"example_missing_system_message", "duplicate_prompt"}
    assert {p.check for p in validate_bytes(_file(*GOOD), "f.jsonl").warnings} == {"too_few_examples"}


def test_token_counts_limits_and_epochs():
    assert estimate_tokens("Đà Lạt") == 4  # the Gemini estimate: 10 UTF-8 bytes / 3, rounded up
    assert default_epochs(10) == 10 and default_epochs(1000) == 3 and default_epochs(20_000) == 1
    report = validate_bytes(_file(*GOOD), "f.jsonl", max_tokens=20)
    assert {(p.check, p.level) for p in report.problems} >= {("over_token_limit", "error")}
    stats = report.token_stats()
    assert stats["over_limit"] == 2 and stats["min"] <= stats["median"] <= stats["max"]
    assert stats["training_tokens_3_epochs"] == 3 * 2 * 20
    assert stats["encoding"] == "o200k_base" and stats["counted"] == "exact" and stats["method"].startswith("exact: o200k_base")
    assert report.tokens == [example_tokens(read_turns(line, "openai")) for line in GOOD]
    # Without a limit given, each encoding is held to its models' limit; Gemini files are counted as Gemini's.
    assert validate_bytes(_file(*GOOD), "f.jsonl").limit == 65_536
    assert validate_bytes(_file(*GOOD), "f.jsonl", encodings=("cl100k_base",)).limit == 16_385
    gemini = validate_bytes(_file(_gemini("Hỏi?")), "f.jsonl")
    assert gemini.encoding == "gemini" and gemini.token_stats()["counted"] == "estimate" and gemini.limit == 131_072


def test_over_limit_warning_names_the_encoding_and_whether_it_is_exact():
    exact = validate_bytes(_file(*GOOD), "f.jsonl", max_tokens=20)
    estimated = validate_bytes(_file(*GOOD), "f.jsonl", max_tokens=20, encodings=("gemini",))
    [first, *_] = [p.message for p in exact.problems if p.check == "over_token_limit"]
    [other, *_] = [p.message for p in estimated.problems if p.check == "over_token_limit"]
    assert "o200k_base tokens (exact)" in first and not first.startswith("about")
    assert other.startswith("about ") and "gemini tokens (estimate)" in other


def test_cli_prints_one_line_per_problem_and_exits_1(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(_file(*GOOD, BAD_OPENAI_LINES["not_nfc"], BAD_OPENAI_LINES["role_order"]))
    assert main([str(bad)]) == 1
    out = capsys.readouterr().out
    assert f"{bad}:3: error: not_nfc: " in out and f"{bad}:4: error: role_order: " in out
    assert "2 errors" in out and "tokens per example (exact)" in out and "3 epochs" in out
    assert main([str(bad), "--encoding", "gemini"]) == 1
    assert "tokens per example (estimate)" in capsys.readouterr().out


def test_cli_exits_0_on_a_clean_file_and_2_on_a_missing_one(tmp_path, capsys):
    good = tmp_path / "good.jsonl"
    good.write_bytes(_file(*[_sharegpt(f"Hỏi {i}?") for i in range(10)]))
    assert main([str(good)]) == 0
    assert main([str(good), "--format", "sharegpt"]) == 0
    assert main([str(good), "--format", "openai"]) == 1  # declared format wins over detection
    assert main([str(tmp_path / "missing.jsonl")]) == 2
    capsys.readouterr()


def test_run_that_builds_invalid_data_exits_1_and_keeps_previous_outputs(tmp_path, monkeypatch):
    seeds = small_seeds(tmp_path / "seeds.csv")
    out = tmp_path / "out" / "fine_tune.jsonl"
    args = ["--seeds", str(seeds), "--out", str(out), "--n", "2", "--offline", "--quiet"]
    assert run.main(args) == 0
    before = {path.name: path.read_bytes() for path in out.parent.iterdir()}
    monkeypatch.setattr(run, "system_prompt", lambda: unicodedata.normalize("NFD", "Bạn là trợ lý du lịch."))
    assert run.main([*args, "--target", "12"]) == 1
    assert {path.name: path.read_bytes() for path in out.parent.iterdir()} == before


def test_check_data_turns_a_lone_surrogate_into_a_run_error_not_a_crash(tmp_path):
    text = json.dumps(_openai("Hỏi \ud800?"), ensure_ascii=False) + "\n"
    with pytest.raises(RunError, match="failed validation"):
        check_data({tmp_path / "f.jsonl": ("openai", text)})


def test_a_turn_too_long_for_the_tokenizer_is_flagged_not_a_crash():
    report = validate_bytes(_file(_openai("Hỏi? " * 250_000)), "f.jsonl")  # 1.25 million characters
    assert [p.check for p in report.errors] == ["over_token_limit"] and [p.check for p in report.warnings] == ["too_few_examples"]
    assert report.tokens[0] > report.limit


@pytest.mark.parametrize("char", ["\x00", "\r", "\x1b", "\x85", "\u200b", "\u200f", "\u202e", "\u2066", "\ufeff", "\u2028"])
@pytest.mark.parametrize("make, user_role, answer_role", [(_openai, "user", "assistant"), (_gemini, "user", "model"), (_sharegpt, "human", "gpt")])
def test_each_control_zero_width_or_bidi_character_is_an_error_with_line_turn_and_code_point(char, make, user_role, answer_role):
    data = _file(make("Chợ đêm ở đâu ạ?", "Dạ, ở trung tâm ạ."), make(f"Vé{char} Thung lũng{char} Tình Yêu?", f"Dạ,{char} 250.000 đồng ạ."))
    found = [p for p in validate_bytes(data, "f.jsonl").errors if p.check == "bad_character"]
    assert [(p.line, p.message.split(" holds ")[0]) for p in found] == [(2, f"turn 2 ({user_role})")] * 2 + [(2, f"turn 3 ({answer_role})")]
    assert all(f"U+{ord(char):04X}" in p.message for p in found)
    assert [p.message.split(" at character ")[1].split(";")[0] for p in found] == ["3", "15", "4"]
