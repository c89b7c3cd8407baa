"""Measure the fact guard on the evaluation set: false sentences slipped into seed answers, faithful paraphrases."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

from augment.quality.gates import check_answer
from augment.records import Sample, Seed

DATA = Path(__file__).parent / "data"
FALSE = DATA / "fact_eval_false.jsonl"
FAITHFUL = DATA / "fact_eval_faithful.jsonl"
_FIRST_END = re.compile(r"[.!?](?=\s)|\n")
_LIST_ITEM = re.compile(r"\n-[^\n]*")


def load(path: Path) -> list[dict]:
    """Return the items of one evaluation file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def insertions(answer: str, sentence: str) -> dict[str, str]:
    """Return the answer with sentence appended, after its first sentence, and as (or inside) a list item."""
    inline = sentence[2:] if sentence.startswith("- ") else sentence
    first = _FIRST_END.search(answer)
    cut = first.end() if first else len(answer)
    item = _LIST_ITEM.search(answer)
    if item:
        listed = answer[: item.end()] + "\n- " + inline + answer[item.end() :]
    else:
        listed = answer[:cut] + "\n- " + inline + "\n" + answer[cut:].lstrip()
    return {
        "appended": f"{answer.rstrip()} {inline}",
        "mid-answer": f"{answer[:cut]} {inline} {answer[cut:].lstrip()}",
        "list-item": listed,
    }


def as_sample(seed: Seed, answer: str) -> Sample:
    """Return a Gemini sample of seed with this answer and a paraphrased question."""
    return Sample(seed, f"Cho mình hỏi với, {seed.question}", answer, "gemini", "register")


def false_kept(seeds: list[Seed], items: list[dict]) -> tuple[list[tuple], dict[str, tuple[int, int]]]:
    """Return the (item, seed id, position) kept by the answer checks and, per seed, (rejected, tried)."""
    kept, per_seed = [], defaultdict(lambda: [0, 0])
    for item in items:
        for seed in (s for s in seeds if s.place == item["place"]):
            for position, answer in insertions(seed.answer, item["text"]).items():
                rejected = bool(check_answer(as_sample(seed, answer)))
                per_seed[seed.id][0] += rejected
                per_seed[seed.id][1] += 1
                if not rejected:
                    kept.append((item["kind"], item["text"], seed.id, position))
    return kept, {key: (r, n) for key, (r, n) in per_seed.items()}


def faithful_rejected(seeds: list[Seed], items: list[dict]) -> list[tuple[str, str, str]]:
    """Return (seed id, paraphrase, reason) for each faithful paraphrase the answer checks reject."""
    by_id = {seed.id: seed for seed in seeds}
    lost = []
    for item in items:
        seed = by_id[item["seed_id"]]
        assert item["original"] in seed.answer, item
        answer = seed.answer.replace(item["original"], item["paraphrase"], 1)
        reason = check_answer(as_sample(seed, answer))
        if reason:
            lost.append((seed.id, item["paraphrase"], reason))
    return lost
