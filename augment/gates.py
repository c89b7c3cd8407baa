"""Quality gates: each check returns "" to keep a sample or the name of the reason to drop it."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from augment.errors import InputError
from augment.facts import load_facts
from augment.records import Sample, Seed
from augment.text import exact_key, loose_key, numbers

Check = Callable[[Sample], str]

_FENCE_RE = re.compile(r"```|^\s*[\[{]|[\]}]\s*$|\"(user|assistant)\"\s*:")
_AI_TALK_RE = re.compile(
    r"\b(mô hình ngôn ngữ|language model|là một AI|là AI|trí tuệ nhân tạo|as an AI|prompt|biến thể|variant)\b",
    re.IGNORECASE,
)
_VIETNAMESE_MARKS_RE = re.compile(r"[ăâđêôơưàáảãạèéẻẽẹìíỉĩịòóỏõọùúủũụỳýỷỹỵ]", re.IGNORECASE)


def check_form(sample: Sample) -> str:
    """Drop empty turns, leftover JSON or code fences, and talk about being an AI or about the prompt."""
    if not sample.user.strip() or not sample.assistant.strip():
        return "empty"
    if _FENCE_RE.search(sample.user.strip()) or _FENCE_RE.search(sample.assistant.strip()):
        return "markup-leftover"
    if _AI_TALK_RE.search(sample.assistant) or _AI_TALK_RE.search(sample.user):
        return "meta-talk"
    return ""


def check_language(sample: Sample) -> str:
    """Require a Vietnamese assistant answer with diacritics and a polite opening."""
    letters = sum(ch.isalpha() for ch in sample.assistant)
    marks = len(_VIETNAMESE_MARKS_RE.findall(sample.assistant))
    if letters == 0 or marks / letters < 0.08:
        return "not-vietnamese"
    if not sample.assistant.lstrip().startswith("Dạ"):
        return "impolite-opening"
    return ""


def check_length(sample: Sample) -> str:
    """Keep answers within a factor of the seed answer's length, and user turns reasonably short."""
    seed_len = len(sample.seed.answer)
    if not 0.5 * seed_len <= len(sample.assistant) <= 2.0 * seed_len + 200:
        return "answer-length"
    if len(sample.user) > max(300, 3 * len(sample.seed.question)):
        return "question-length"
    return ""


def _locked_entities(text: str) -> list[str]:
    """Return the destination and landmark names found in text, longest first, non-overlapping."""
    facts = load_facts()
    key = loose_key(text)
    found = []
    for name in facts.locked_names():
        name_key = loose_key(name)
        if name_key and re.search(rf"(?<!\w){re.escape(name_key)}(?!\w)", key):
            if not any(name_key in loose_key(f) for f in found):
                found.append(name)
    return found


def check_fidelity(sample: Sample) -> str:
    """Require the user turn to keep the seed question's names and numbers, and the answer its numbers."""
    if sample.generator == "seed":
        return ""
    user_key = loose_key(sample.user)
    for name in _locked_entities(sample.seed.question):
        if not re.search(rf"(?<!\w){re.escape(loose_key(name))}(?!\w)", user_key):
            return "lost-entity"
    if sorted(numbers(sample.seed.question)) != sorted(numbers(sample.user)):
        return "changed-number"
    if not sample.grounding and sorted(set(numbers(sample.seed.answer))) != sorted(set(numbers(sample.assistant))):
        return "changed-answer-number"
    if exact_key(sample.user) == exact_key(sample.seed.question) and sample.generator != "seed":
        return "echo-of-seed"
    return ""


CHECKS: tuple[Check, ...] = (check_form, check_language, check_length, check_fidelity)


def check_sample(sample: Sample, checks: Sequence[Check] = CHECKS) -> str:
    """Return the first failing check's reason, or "" if the sample passes every check."""
    for check in checks:
        reason = check(sample)
        if reason:
            return reason
    return ""


def seed_sample(seed: Seed) -> Sample:
    """Return the seed's own pair as a sample."""
    return Sample(seed, seed.question, seed.answer, "seed", "seed", "original")


def check_seeds(seeds: Sequence[Seed], path: str) -> None:
    """Stop the run on the first seed that fails a check, naming its row."""
    for seed in seeds:
        reason = check_sample(seed_sample(seed))
        if reason:
            raise InputError(f"{path}: row {seed.row} (id {seed.id}) fails the '{reason}' check; fix the seed")
