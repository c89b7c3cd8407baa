"""Score one answer to one probe with the project's own checks; every failure is a (check, reason) pair."""

from __future__ import annotations

import unicodedata

from augment.probes.probe import Probe
from augment.quality.claims import contradiction
from augment.quality.corrections import check_correction
from augment.quality.gates import check_form, check_grounding, check_language
from augment.records import Sample, Seed
from augment.text import amounts, fold, sentences

# The checks, in the order a report lists them, and what each one asks of an answer.
# Named apart from the probe kinds, so one flag (--min NAME=SHARE) reaches either.
CHECKS = {
    "polite-register": "polite Vietnamese: opens with Dạ, NFC, diacritics, no English sentence",
    "facts": "no foundational error; a foundation question answered with the right fact",
    "premise-corrected": "a false premise corrected first and never restated as true",
    "context-figures": "figures only from the context, never the memorised ones",
    "no-invented-figure": "no invented figure, and a pointer to where to check",
}
# A reply the gates' language check passes, paired with each sentence so only the sentence is judged as English.
_POLITE = "Dạ, vâng ạ."


def score(probe: Probe, answer: str) -> list[tuple[str, str]]:
    """Return the failed checks of an answer as (check, reason) pairs, none for a good answer."""
    sample = Sample(Seed(probe.id, "suggestion", probe.place, probe.question, answer), probe.question, answer, "model", "probe")
    failures = [("polite-register", reason) for reason in _register(sample)]
    failures += [("facts", reason) for reason in _foundations(probe, answer)]
    if probe.kind == "premise":
        sample.misconception = probe.expect["misconception"]
        failures += [("premise-corrected", reason) for reason in [check_correction(sample)] if reason and not reason.startswith("fact-")]
    elif probe.kind == "conflict":
        failures += [("context-figures", reason) for reason in _context(probe, answer)]
    elif probe.kind == "unknown":
        failures += [("no-invented-figure", reason) for reason in _unknown(probe, answer)]
    return failures


def applies(probe: Probe) -> tuple[str, ...]:
    """Return the checks a probe's answer is scored on."""
    own = {"premise": "premise-corrected", "conflict": "context-figures", "unknown": "no-invented-figure"}.get(probe.kind)
    return ("polite-register", "facts", own) if own else ("polite-register", "facts")


def _register(sample: Sample) -> list[str]:
    answer = sample.assistant
    reason = check_form(Sample(sample.seed, _POLITE, answer, "model", "probe"))
    if reason:
        return [reason]
    reasons = []
    if unicodedata.normalize("NFC", answer) != answer:
        reasons.append("not-nfc")
    if reason := check_language(Sample(sample.seed, "", answer, "model", "probe")):
        reasons.append(reason)
    # The gates' user-turn language test tells an English sentence from unaccented Vietnamese and names.
    if any(check_language(Sample(sample.seed, part, _POLITE, "model", "probe")) for part in sentences(answer)):
        reasons.append("english-sentence")
    return reasons


def _foundations(probe: Probe, answer: str) -> list[str]:
    reasons = []
    finding = contradiction(answer, probe.place)
    if finding:
        reasons.append(finding.reason)
    if probe.kind == "foundation":
        folded = fold(answer)
        if not any(fold(phrase) in folded for phrase in probe.expect["must"]):
            reasons.append("missing-fact")
        if any(fold(phrase) in folded for phrase in probe.expect.get("must_not", ())):
            reasons.append("wrong-fact")
    return reasons


def _context(probe: Probe, answer: str) -> list[str]:
    found = amounts(answer)
    reasons = []
    if found & set(probe.expect["memorised_figures"]):
        reasons.append("memorised-figure")
    grounded = Sample(Seed(probe.id, "price", probe.place, probe.question, ""), probe.question, answer, "model", "probe",
                      context=f"{probe.context}\n{probe.question}", grounding="grounded")
    if check_grounding(grounded):
        reasons.append("figure-not-in-context")
    if not found & set(probe.expect["context_figures"]):
        reasons.append("missing-context-figure")
    return reasons


def _unknown(probe: Probe, answer: str) -> list[str]:
    sample = Sample(Seed(probe.id, "price", probe.place, probe.question, ""), probe.question, answer, "model", "probe",
                    context=probe.context, grounding="no-figure")
    reasons = [reason] if (reason := check_grounding(sample)) else []
    folded = fold(answer)
    if not any(fold(phrase) in folded for phrase in probe.expect["must"]):
        reasons.append("no-check-pointer")
    return reasons
