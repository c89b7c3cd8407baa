"""The correction gate: a misconception sample's answer corrects its premise first and never restates it as true."""

from __future__ import annotations

import re

from augment.knowledge.misconceptions import backing, find_misconception, kind_table
from augment.quality.claims import contradiction
from augment.quality.gates import check_form, check_language
from augment.quality.support import unsupported
from augment.records import Sample
from augment.text import fold, sentences, strip_diacritics

# A sentence that holds a premise phrase must also deny it, else it restates the false belief as true.
_NEGATION = re.compile(r"\b(?:không|chẳng|chả|chưa|đâu có|đính chính|nhầm|hiểu lầm)\b")


def check_correction(sample: Sample) -> str:
    """Return "missing-correction" or "repeats-premise" for a misconception sample that fails, "" otherwise."""
    if not sample.misconception:
        return ""
    row = find_misconception(sample.misconception)
    if row is None:
        return "missing-correction"
    table = kind_table(row.kind)
    parts = [fold(part) for part in sentences(sample.assistant)]
    if not any(fold(row.fill(phrase)) in part for phrase in table["must"] for part in parts[:2]):
        return "missing-correction"
    premises = [fold(row.fill(phrase)) for phrase in table["premise"]]
    for part in parts:
        if any(premise in part for premise in premises) and not _NEGATION.search(part):
            return "repeats-premise"
    finding = contradiction(sample.assistant, row.place)
    return finding.reason if finding else ""


def check_premise(sample: Sample) -> str:
    """Return "premise-lost" when the user turn no longer carries its misconception's false premise."""
    row = find_misconception(sample.misconception) if sample.misconception else None
    if row is None:
        return ""
    user = _plain(sample.user)
    for group in kind_table(row.kind)["cues"]:
        if not any(re.search(rf"(?<!\w){re.escape(_plain(row.fill(cue)))}(?!\w)", user) for cue in group):
            return "premise-lost"
    return ""


def _plain(text: str) -> str:
    """Return text folded and without diacritics: users type the premise either way."""
    return strip_diacritics(fold(text))


def check_backed(sample: Sample) -> str:
    """Return "unsupported-claim" when an answer sentence is backed by none of its row's hand-checked sentences."""
    row = find_misconception(sample.misconception) if sample.misconception else None
    if row is None:
        return ""
    # The generator never vouches for itself: a paraphrased answer may say only what the table says.
    return "unsupported-claim" if unsupported(sample.assistant, backing(row), row.place, names=sample.user) else ""


# A misconception sample hangs on a synthetic seed: fidelity to it is not the test, its correction is.
MISCONCEPTION_CHECKS = (check_form, check_language, check_premise, check_correction, check_backed)


def check_misconception(sample: Sample) -> str:
    """Return the first reason a misconception sample fails: form, language, or its correction."""
    return next((reason for check in MISCONCEPTION_CHECKS if (reason := check(sample))), "")
