"""Render samples in the fine-tuning formats (OpenAI, Gemini, ShareGPT) and read records back as plain turns."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from augment.dataset.export import chat_record, json_string, jsonl, sibling, user_content
from augment.records import Sample, Seed

FORMATS = ("openai", "gemini", "sharegpt")
DEFAULT_FORMAT = "openai"

# The native name of the user and assistant roles in each format, for messages that quote the file.
ROLE_NAMES = {
    "openai": {"system": "system", "user": "user", "assistant": "assistant"},
    "gemini": {"system": "systemInstruction", "user": "user", "assistant": "model"},
    "sharegpt": {"system": "system", "user": "human", "assistant": "gpt"},
}

Turn = tuple[str, str]  # (role, text) with role one of system, user, assistant


def gemini_record(sample: Sample, system: str) -> dict:
    """Return the Vertex AI supervised-tuning record of one sample."""
    instruction, turns = _split_system(chat_record(sample, system)["messages"])
    record: dict = {"systemInstruction": {"role": "system", "parts": [{"text": instruction}]}} if instruction is not None else {}
    record["contents"] = [
        {"role": "model" if m["role"] == "assistant" else "user", "parts": [{"text": m["content"]}]} for m in turns
    ]
    return record


def sharegpt_record(sample: Sample, system: str) -> dict:
    """Return the ShareGPT record of one sample, as LLaMA-Factory reads it."""
    instruction, turns = _split_system(chat_record(sample, system)["messages"])
    record: dict = {
        "conversations": [{"from": "gpt" if m["role"] == "assistant" else "human", "value": m["content"]} for m in turns]
    }
    if instruction is not None:
        record["system"] = instruction
    return record


def _split_system(messages: list[dict]) -> tuple[str | None, list[dict]]:
    """Return the system text (several system messages joined) and the remaining messages."""
    systems = [m["content"] for m in messages if m["role"] == "system"]
    return ("\n\n".join(systems) if systems else None), [m for m in messages if m["role"] != "system"]


# Every format is derived from export.chat_record: the default output stays byte-identical to what it always was,
# and whatever chat_record puts in the conversation (a retrieved context, say) reaches every format alike.
RENDERERS: dict[str, Callable[[Sample, str], dict]] = {
    "openai": chat_record,
    "gemini": gemini_record,
    "sharegpt": sharegpt_record,
}


def format_path(out: Path, fmt: str) -> Path:
    """Return where a format's file goes: --out itself for OpenAI, a sibling such as fine_tune.gemini.jsonl otherwise."""
    return out if fmt == DEFAULT_FORMAT else sibling(out, f"{fmt}.jsonl")


def render_files(out: Path, samples: Sequence[Sample], system: str, formats: Sequence[str]) -> dict[Path, tuple[str, str]]:
    """Return {path: (format, JSONL text)} for each requested format, lines in sample order."""
    return {format_path(out, fmt): (fmt, render_lines(fmt, samples, system)) for fmt in formats}


def render_lines(fmt: str, samples: Sequence[Sample], system: str) -> str:
    """Return the samples as JSONL in one format: the same text as jsonl() over RENDERERS[fmt], made faster."""
    # A renderer's record differs between samples only in the user turn and the answer (each format is derived from
    # chat_record), and the system prompt alone is about half of every line: so the record is serialised once around
    # two slots, and each line serialises just its two texts.
    head, middle, tail = _line_frame(fmt, system)
    return "".join(
        f"{head}{json_string(user_content(sample))}{middle}{json_string(sample.assistant)}{tail}\n" for sample in samples
    )


# Slots for the user turn and the answer: private-use characters, which JSON writes as they are and no text holds.
_USER_SLOT, _ANSWER_SLOT = "\ue000", "\ue001"


def _line_frame(fmt: str, system: str) -> tuple[str, str, str]:
    """Return a format's serialised record cut at its user turn and its answer: (before, between, after)."""
    slotted = Sample(Seed("", "", "", "", ""), _USER_SLOT, _ANSWER_SLOT, generator="", method="")
    line = jsonl([RENDERERS[fmt](slotted, system)]).removesuffix("\n")
    user, answer = json_string(_USER_SLOT), json_string(_ANSWER_SLOT)
    if line.count(user) != 1 or line.count(answer) != 1 or line.index(user) > line.index(answer):
        raise ValueError(f"the {fmt} record does not hold the user turn and then the answer exactly once")
    head, rest = line.split(user)
    middle, tail = rest.split(answer)
    return head, middle, tail


def detect_format(record: dict) -> str | None:
    """Return the format a record is written in, judged by its top-level list key, or None."""
    if "messages" in record:
        return "openai"
    if "contents" in record:
        return "gemini"
    if "conversations" in record:
        return "sharegpt"
    return None


def read_turns(record: dict, fmt: str) -> list[Turn]:
    """Return the (role, text) turns of a well-formed record, roles named system, user and assistant."""
    return _READERS[fmt](record)


def _openai_turns(record: dict) -> list[Turn]:
    return [(message["role"], message["content"]) for message in record["messages"]]


def _gemini_turns(record: dict) -> list[Turn]:
    # Vertex AI concatenates the parts of one turn, so the validator judges them joined.
    turns = []
    if "systemInstruction" in record:
        turns.append(("system", "".join(part["text"] for part in record["systemInstruction"]["parts"])))
    roles = {"user": "user", "model": "assistant"}
    for content in record["contents"]:
        turns.append((roles.get(content["role"], content["role"]), "".join(part["text"] for part in content["parts"])))
    return turns


def _sharegpt_turns(record: dict) -> list[Turn]:
    turns = [("system", record["system"])] if "system" in record else []
    roles = {"human": "user", "gpt": "assistant"}
    turns.extend((roles.get(turn["from"], turn["from"]), turn["value"]) for turn in record["conversations"])
    return turns


_READERS: dict[str, Callable[[dict], list[Turn]]] = {
    "openai": _openai_turns,
    "gemini": _gemini_turns,
    "sharegpt": _sharegpt_turns,
}
