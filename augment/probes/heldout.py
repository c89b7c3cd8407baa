"""Keep probes held out: drop any whose user turn is an exact or near duplicate of a training line."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path

from augment.errors import InputError
from augment.generators.misconceptions import REGISTERS, misconception_sample
from augment.knowledge.misconceptions import misconceptions
from augment.knowledge.prompting import read_prompt
from augment.probes.probe import Probe
from augment.quality.dedup import NEAR_THRESHOLD, fingerprint_of, is_near_duplicate
from augment.quality.minhash import MinHashIndex
from augment.records import Seed
from augment.text import exact_key


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
    rng = random.Random(0)
    turns = [seed.question for seed in seeds]
    for row in misconceptions():
        turns += [misconception_sample(row, register, rng).user for register in REGISTERS for _ in range(3)]
    return turns


class TrainingIndex:
    """Every training turn, near-duplicates of each other included, for exact and near-duplicate lookups."""

    def __init__(self, turns: Iterable[str]):
        # Unlike Deduper, which forgets a line it refuses, every turn stays: a probe near a refused line is still near.
        self._keys: set[str] = set()
        self._grams: list[frozenset[str]] = []
        self._index = MinHashIndex(num_perm=64, bands=16)
        for turn in turns:
            fingerprint = fingerprint_of(turn)
            self._keys.add(fingerprint.key)
            self._index.insert(len(self._grams), fingerprint.signature)
            self._grams.append(fingerprint.grams)

    def duplicate(self, text: str) -> str:
        """Return "duplicate" or "near-duplicate" if text repeats a training turn, else ""."""
        fingerprint = fingerprint_of(text)
        if fingerprint.key in self._keys:
            return "duplicate"
        candidates = self._index.query(fingerprint.signature, NEAR_THRESHOLD - 0.3)  # a wide net; checked exactly
        return "near-duplicate" if is_near_duplicate(fingerprint.grams, (self._grams[c] for c in candidates)) else ""


def held_out(probes: Sequence[Probe], training: Iterable[str]) -> tuple[list[Probe], list[tuple[Probe, str]]]:
    """Return the probes that duplicate no training turn nor an earlier probe, and the dropped ones with why."""
    index = TrainingIndex(training)
    kept, dropped, seen = [], [], set()
    for probe in probes:
        reason = index.duplicate(probe.user) or index.duplicate(probe.question)
        if not reason and exact_key(probe.user) in seen:
            reason = "duplicate-probe"
        if reason:
            dropped.append((probe, reason))
            continue
        seen.add(exact_key(probe.user))
        kept.append(probe)
    return kept, dropped
