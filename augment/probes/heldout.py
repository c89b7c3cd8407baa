"""Keep probes held out: drop any whose user turn is an exact or near duplicate of a training line."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path

from augment.errors import InputError
from augment.generators.misconceptions import REGISTERS, misconception_sample
from augment.knowledge.misconceptions import misconceptions
from augment.knowledge.prompting import read_prompt
from augment.probes.probe import Probe
from augment.quality.dedup import Deduper
from augment.records import Sample, Seed

_NO_SEED = Seed("probe", "suggestion", "", "", "")


@cache
def _grounded_re() -> re.Pattern:
    """Match a user turn filled from prompts/grounded_user.txt, capturing its question."""
    text = re.escape(read_prompt("grounded_user"))
    text = text.replace(re.escape("$context"), r"(?P<context>.*)").replace(re.escape("$question"), r"(?P<question>.*)")
    return re.compile(text, re.S)


def training_turns(paths: Sequence[Path]) -> list[str]:
    """Return the user turns of chat-format training files, and each grounded turn's question alone."""
    turns = []
    for path in paths:
        try:
            lines = Path(path).read_text("utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as error:
            raise InputError(f"{path}: cannot read the training file ({error}); pass the file `augment.run` wrote with --training") from None
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                users = [m["content"] for m in json.loads(line)["messages"] if m["role"] == "user"]
            except (ValueError, KeyError, TypeError) as error:
                raise InputError(f"{path}:{number}: not an OpenAI chat line ({error!r}); pass a fine_tune.jsonl written by augment.run") from None
            for user in users:
                turns.append(user)
                if match := _grounded_re().fullmatch(user):
                    turns.append(match.group("question"))
    return turns


def generated_turns(seeds: Iterable[Seed]) -> list[str]:
    """Return the turns any run trains on without a training file: seed questions and every misconception wording."""
    import random

    rng = random.Random(0)
    turns = [seed.question for seed in seeds]
    for row in misconceptions():
        turns += [misconception_sample(row, register, rng).user for register in REGISTERS for _ in range(3)]
    return turns


def held_out(probes: Sequence[Probe], training: Iterable[str]) -> tuple[list[Probe], list[tuple[Probe, str]]]:
    """Return the probes that duplicate no training turn nor an earlier probe, and the dropped ones with why."""
    deduper = Deduper()
    for turn in training:
        deduper.admit(Sample(_NO_SEED, turn, "", "seed", "training"))
    kept, dropped, seen = [], [], set()
    for probe in probes:
        texts = {probe.user, probe.question}
        reason = next((r for text in texts if (r := deduper.duplicate(Sample(_NO_SEED, text, "", "seed", "probe")))), "")
        if not reason and probe.user in seen:
            reason = "duplicate-probe"
        if reason:
            dropped.append((probe, reason))
            continue
        seen.add(probe.user)
        kept.append(probe)
    return kept, dropped
