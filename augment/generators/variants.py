"""The paraphrase request and its reply: prompt, response schema, tolerant JSON parsing, one seed's variant pool."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence

from augment.quality.corrections import check_misconception
from augment.quality.dedup import Deduper
from augment.quality.gates import check_sample, seed_sample
from augment.knowledge.prompting import render_prompt, system_prompt
from augment.records import Sample, Seed
from augment.text import nfc

REGISTERS = ("polite", "deferential", "casual", "teencode", "terse", "nodiacritics")
METHODS = ("inversion", "synonym", "register")
UNLABELLED = "other"

# OpenAPI-style schema (responseSchema). Register and method come first so the model picks them before writing.
RESPONSE_SCHEMA = {
    "type": "OBJECT",
    "properties": {
        "variants": {
            "type": "ARRAY",
            "items": {
                "type": "OBJECT",
                "properties": {
                    "register": {"type": "STRING", "enum": list(REGISTERS)},
                    "method": {"type": "STRING", "enum": list(METHODS)},
                    "user": {"type": "STRING"},
                    "assistant": {"type": "STRING"},
                },
                "required": ["register", "method", "user", "assistant"],
                "property_ordering": ["register", "method", "user", "assistant"],
            },
        }
    },
    "required": ["variants"],
}

_FENCE_RE = re.compile(r"```[a-zA-Z]*\s*\n?(.*?)(?:```|\Z)", re.DOTALL)
_DECODER = json.JSONDecoder()


def system_instruction() -> str:
    """Return the system instruction of a paraphrase call, with the guide persona inside."""
    return render_prompt("paraphrase_system", persona=system_prompt())


def paraphrase_prompt(seed: Seed, n: int, have: Sequence[str] = ()) -> str:
    """Return the user prompt asking for n variants of one seed, avoiding the questions already written."""
    line = {"id": seed.id, "intent": seed.intent, "place": seed.place, "question": seed.question, "answer": seed.answer, "n": n}
    # The "Seed:" line followed by one-line JSON is a contract: tests/fake_gemini.py reads the seed from it.
    return render_prompt("paraphrase", n=str(n), have=_have_block(have), seed=json.dumps(line, ensure_ascii=False))


def _have_block(have: Sequence[str]) -> str:
    if not have:
        return ""
    listed = "\n".join(f"- {user}" for user in have)
    return f"\nThese questions are already written; do not repeat or imitate them:\n{listed}\n"


def parse_variants(text: str) -> tuple[list[dict], str]:
    """Return the variant objects in a reply (fenced, wrapped in prose or cut off) and "" or what was wrong."""
    body = _unfence(text or "")
    data = _first_json_value(body)
    if data is None:
        items = _salvage_objects(body)
        return items, "truncated" if items else "bad-json"
    items = data.get("variants") if isinstance(data, dict) else data
    if not isinstance(items, list):
        return [], "bad-json"
    return [item for item in items if isinstance(item, dict)], ""


def _unfence(text: str) -> str:
    match = _FENCE_RE.search(text)
    return match.group(1) if match else text


def _first_json_value(body: str):
    """Decode the first complete JSON object or array in body, ignoring prose around it."""
    for start, char in enumerate(body):
        if char in "{[":
            try:
                return _DECODER.raw_decode(body, start)[0]
            except ValueError:
                return None
    return None


def _salvage_objects(body: str) -> list[dict]:
    """Return the complete objects of a cut-off variants array, in order."""
    anchor = body.find('"variants"')
    pos = body.find("[", anchor if anchor >= 0 else 0) + 1
    items: list[dict] = []
    while 0 < pos < len(body):
        while pos < len(body) and body[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(body) or body[pos] != "{":
            break
        try:
            item, pos = _DECODER.raw_decode(body, pos)
        except ValueError:
            break  # the cut-off item: everything before it is kept
        if isinstance(item, dict):
            items.append(item)
    return items


def to_sample(seed: Seed, item: dict) -> Sample | None:
    """Turn one reply object into a gemini sample, or None if a turn is missing or not text."""
    user, assistant = item.get("user"), item.get("assistant")
    if not (isinstance(user, str) and user.strip() and isinstance(assistant, str) and assistant.strip()):
        return None
    return Sample(
        seed, nfc(user).strip(), nfc(assistant).strip(), "gemini", _method(item.get("method")),
        _register(item.get("register")), misconception=seed.misconception,
    )


def _label(value: object) -> str:
    return re.sub(r"[\s_-]+", "", value.casefold()) if isinstance(value, str) else ""


def _register(value: object) -> str:
    label = _label(value)
    return label if label in REGISTERS else UNLABELLED


def _method(value: object) -> str:
    parts = [part for part in re.split(r"[+,/]", _label(value)) if part in METHODS]
    return "+".join(dict.fromkeys(parts)) or UNLABELLED


class VariantPool:
    """One seed's variants across attempts: all parsed samples kept, usable ones (pass gates, new) counted."""

    def __init__(self, seed: Seed, wanted: int):
        self.seed = seed
        self.wanted = wanted
        self.samples: list[Sample] = []
        self.usable: list[str] = []
        self.invalid = 0
        self.judged = 0  # items taken and judged (the rest of a reply past the last one missing is ignored)
        self._deduper = Deduper()
        self._deduper.admit(seed_sample(seed))
        # A misconception's synthetic seed is not what its rewrites are held to: its correction is.
        self._check = check_misconception if seed.misconception else check_sample

    @property
    def seen(self) -> list[str]:
        """Return every user turn received so far, usable or not, for the next request to avoid."""
        return list(dict.fromkeys(sample.user for sample in self.samples))

    @property
    def missing(self) -> int:
        """Return how many usable variants are still wanted."""
        return max(0, self.wanted - len(self.usable))

    def can_use(self, items: Iterable[dict]) -> bool:
        """Tell whether any item would be usable now (passes the gates, is new), without taking it."""
        for item in items:
            sample = to_sample(self.seed, item)
            if sample is not None and not check_sample(sample) and not self._deduper.duplicate(sample):
                return True
        return False

    def add(self, items: Iterable[dict]) -> int:
        """Take items until none is missing (extra items are ignored); return how many were usable."""
        added = 0
        for item in items:
            if not self.missing:
                break
            self.judged += 1
            sample = to_sample(self.seed, item)
            if sample is None:
                self.invalid += 1
                continue
            self.samples.append(sample)
            if not (self._check(sample) or self._deduper.admit(sample)):
                self.usable.append(sample.user)
                added += 1
        return added
