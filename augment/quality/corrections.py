"""The correction gate: a misconception sample's answer corrects its premise first and never restates it as true."""

from __future__ import annotations

import re

from augment.knowledge.misconceptions import kind_table, misconceptions
from augment.quality.claims import contradiction
from augment.quality.gates import check_form, check_language
from augment.records import Sample
from augment.text import fold, sentences

# A sentence that holds a premise phrase must also deny it, else it restates the false belief as true.
_NEGATION = re.compile(r"\b(?:không|chẳng|chả|chưa|đâu có|đính chính|nhầm|hiểu lầm)\b")


def check_correction(sample: Sample) -> str:
    """Return "missing-correction" or "repeats-premise" for a misconception sample that fails, "" otherwise."""
    if not sample.misconception:
        return ""
    row = next((m for m in misconceptions() if m.key == sample.misconception), None)
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


# A misconception sample hangs on a synthetic seed: fidelity to it is not the test, its correction is.
MISCONCEPTION_CHECKS = (check_form, check_language, check_correction)


def check_misconception(sample: Sample) -> str:
    """Return the first reason a misconception sample fails: form, language, or its correction."""
    return next((reason for check in MISCONCEPTION_CHECKS if (reason := check(sample))), "")
