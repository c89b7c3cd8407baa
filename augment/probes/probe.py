"""The probe record: one held-out question, its kind, what a good answer must (not) hold, and a reference answer."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

from augment.errors import InputError
from augment.knowledge.prompting import render_prompt

KINDS = ("foundation", "premise", "conflict", "unknown", "register")
DEFAULT_PROBES = Path("outputs/probes.jsonl")


@dataclass(frozen=True, slots=True)
class Probe:
    """One held-out question and the expectation its answer is scored against."""

    id: str
    kind: str  # one of KINDS
    place: str  # the destination the question is about: the fact guard's default subject
    question: str
    reference: str  # a good answer: `evaluate --reference` scores these
    register: str = "diacritics"  # how the question is typed; the register kind names its register
    context: str = ""  # retrieved-context block, filled into prompts/grounded_user.txt
    expect: dict = field(default_factory=dict)

    @property
    def user(self) -> str:
        """Return the user turn as the production bot sends it: with the context block when there is one."""
        return render_prompt("grounded_user", context=self.context, question=self.question) if self.context else self.question

    def line(self, system: str) -> dict:
        """Return the probe as one JSONL record in chat format."""
        return {
            "id": self.id,
            "kind": self.kind,
            "place": self.place,
            "register": self.register,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": self.user}],
            "question": self.question,
            "context": self.context,
            "expect": self.expect,
            "reference": self.reference,
        }


@cache
def probe_data() -> dict:
    """Return augment/knowledge/data/probes.toml: the probes' wordings, expectations and reference answers."""
    return tomllib.loads(resources.files("augment.knowledge.data").joinpath("probes.toml").read_text("utf-8"))


def read_probes(path: Path) -> tuple[str, list[Probe]]:
    """Read a probe file; return its system prompt and probes, or raise InputError naming the line."""
    try:
        text = Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot read the probe file ({error}); write it with `python -m augment.probes`") from None
    system, probes = "", []
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
            system = record["messages"][0]["content"]
            probes.append(_from_record(record))
        except (ValueError, KeyError, IndexError, TypeError) as error:
            raise InputError(f"{path}:{number}: not a probe line ({error!r}); rewrite the file with `python -m augment.probes`") from None
    if not probes:
        raise InputError(f"{path}: no probes; write them with `python -m augment.probes`")
    return system, probes


# What the scorers read of each kind's expectation.
_EXPECTED = {
    "foundation": ("must",), "premise": ("misconception",), "conflict": ("context_figures", "memorised_figures"),
    "unknown": ("must",), "register": (),
}


def _from_record(record: dict) -> Probe:
    if record["kind"] not in KINDS:
        raise ValueError(f"unknown kind {record['kind']!r}")
    missing = [key for key in _EXPECTED[record["kind"]] if key not in record["expect"]]
    if missing:
        raise KeyError(f"expect.{missing[0]}")
    return Probe(
        record["id"], record["kind"], record["place"], record["question"], record["reference"],
        record.get("register", "diacritics"), record.get("context", ""), dict(record.get("expect", {})),
    )
