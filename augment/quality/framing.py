"""Answer framing checks: one opener that fits, one closing offer, particles that do not pile up.

An answer opens with at most one acknowledgement, which repeats no phrase of the body and never reads as a yes
before a denial or before the answer to a yes/no question; it ends with exactly one closing offer; and no more of
its sentences end with "nha"/"nhé" than the limit in knowledge/data/wording.toml [answer] (or its seed's own count).
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from importlib import resources

from augment.quality.wording import CLAUSE_SPLIT_RE, data, key, patterns, words_re
from augment.records import Sample
from augment.text import sentences


@cache
def known_openers() -> tuple[str, ...]:
    """Return the offline generator's answer openers, longest first (from offline.toml)."""
    raw = tomllib.loads(resources.files("augment.knowledge.data").joinpath("offline.toml").read_text("utf-8"))
    openers = {opener for options in raw["openers"].values() for opener in options if opener}
    return tuple(sorted(openers, key=len, reverse=True))


def is_closer(sentence: str) -> bool:
    """Return True if the sentence is a closing offer or wish ("cứ nhắn mình nha", "chúc bạn đi vui")."""
    text, unaccented = key(sentence)
    return patterns(unaccented)["closer"].search(text) is not None


def closers(answer: str) -> int:
    """Return how many closing offers end the answer in a row (its last two lines read)."""
    count = 0
    for sentence in reversed(sentences("\n".join(answer.rsplit("\n", 2)[-2:]))):
        if not is_closer(sentence):
            break
        count += 1
    return count


@cache
def _acks() -> frozenset[str]:
    return frozenset(data()["answer"]["acks"])


def is_ack(sentence: str) -> bool:
    """Return True if the sentence only acknowledges ("Dạ, có ngay ạ!", "Được ạ!")."""
    return key(sentence)[0] in _acks()


def stacked_opener(answer: str) -> bool:
    """Return True if the answer opens with two acknowledgements in a row ("Dạ, có ngay ạ! Được ạ!")."""
    first = sentences(answer.split("\n", 1)[0])[:2]
    return len(first) == 2 and all(map(is_ack, first))


def eager_on_denial(opener: str, body: str) -> bool:
    """Return True if an eager acknowledgement ("Dạ, có ngay ạ!") opens an answer whose first sentence denies."""
    answer = data()["answer"]
    said = key(opener)[0]
    if not any(word in said for word in answer["eager"]):
        return False
    first = (sentences(body.split("\n", 1)[0]) or [""])[0]
    clause = re.split(r"[,;:(]", first, maxsplit=1)[0]  # "khoảng 50.000 đồng, không gồm ..." answers yes
    head = " ".join(key(clause)[0].split()[: answer["denial_reach"]])
    return bool(_denial_re().search(head))


@cache
def _denial_re() -> re.Pattern:
    return words_re(data()["answer"]["denials"], False)


def eager_on_question(opener: str, user: str) -> bool:
    """Return True if a "yes, coming" acknowledgement ("Dạ, có ngay ạ!") opens the answer to a yes/no or either-or
    question, where it pre-empts the answer ("Tháng 12 đi có lạnh không?" -> "Dạ, có ngay ạ! ...")."""
    said = key(opener)[0]
    return bool(user) and any(word in said for word in data()["answer"]["eager_yes"]) and closed_question(user)


def closed_question(user: str) -> bool:
    """Return True if the turn asks yes or no ("... có lạnh không", "... hả") or to choose ("A hay B")."""
    for clause in CLAUSE_SPLIT_RE.split(user):
        text, unaccented = key(clause)
        words = patterns(unaccented)
        if words["either_or"].search(text):
            return True
        if words["question_end"].search(text) and not words["wh"].search(text):
            return True
    return False


@cache
def _final_particle_re() -> re.Pattern:
    words = "|".join(data()["answer"]["final_particles"])
    return re.compile(rf"(?<=\w) (?:{words})(?=[ \t]*(?:[.!?:]|$))", re.MULTILINE)


def final_particles(answer: str) -> int:
    """Return how many sentences of the answer end with "nha" or "nhé"."""
    return len(_final_particle_re().findall(answer))


def particle_pileup(answer: str, seed_answer: str = "") -> bool:
    """Return True if more sentences end with "nha"/"nhé" than the limit allows, or than the seed's own answer has
    where that is more (a paraphrase may keep its hand-checked seed's voice)."""
    limit = data()["answer"]["final_particle_limit"]
    return final_particles(answer) > max(limit, final_particles(seed_answer) if seed_answer else 0)


def tame_particles(answer: str, keep_from: int = 0) -> str:
    """Return the answer with the earliest sentence-final "nha"/"nhé" dropped until the limit holds, those before
    keep_from (an opener's) dropped last."""
    limit = data()["answer"]["final_particle_limit"]
    found = list(_final_particle_re().finditer(answer))
    extra = len(found) - limit
    if extra <= 0:
        return answer
    spared = [m for m in found if m.start() < keep_from]
    order = [m for m in found[:-1] if m.start() >= keep_from] + spared  # the closer's particle stays
    cut = sorted(order[:extra], key=lambda m: m.start(), reverse=True)
    for match in cut:
        answer = answer[:match.start()] + answer[match.end():]
    return answer


def opener_phrase(opener: str, body: str) -> str:
    """Return a two-word phrase of the opener the body repeats ("như sau"), ignoring particles and pronouns, or ""."""
    pairs = _opener_pairs(opener)
    lowered = body.lower()
    if not any(pair[0] in lowered and pair[1] in lowered for pair in pairs):  # most bodies: no need to key them
        return ""
    text = f" {key(body)[0]} "
    for pair in pairs:
        if f" {' '.join(pair)} " in text:
            return " ".join(pair)
    return ""


@cache
def _opener_pairs(opener: str) -> tuple[tuple[str, str], ...]:
    """Return the opener's two-word phrases that hold a word beyond particles and pronouns."""
    common = frozenset(data()["answer"]["common"])
    words = key(opener)[0].split()
    return tuple(pair for pair in zip(words, words[1:]) if not set(pair) <= common)


def split_opener(answer: str, openers) -> tuple[str, str]:
    """Return the answer's opener among openers (longest first) and the rest, or ("", answer)."""
    for opener in openers:
        if answer.startswith(opener + " ") or answer.startswith(opener + "\n"):
            return opener, answer[len(opener):].lstrip()
    return "", answer


def lead_in_before_prose(opener: str, body: str) -> bool:
    """Return True if a lead-in that announces a list ("mình xin tư vấn như sau ạ:") opens a single paragraph."""
    if not opener.endswith(":"):
        return False
    lines = [line for line in body.split("\n") if line.strip() and not is_closer(line.strip())]
    return len(lines) < 2


def answer_defect(answer: str, openers=(), user: str = "", seed_answer: str = "") -> str:
    """Return the name of the first framing defect of an answer (to user, from seed_answer, if given), or ""."""
    if closers(answer) > 1:
        return "double-closer"
    if stacked_opener(answer):
        return "stacked-opener"
    if particle_pileup(answer, seed_answer):
        return "particle-pileup"
    opener, body = split_opener(answer, openers)
    if opener and user and eager_on_question(opener, user):
        return "eager-opener-on-question"
    if opener.endswith(":") and body.split("\n", 1)[0].rstrip().endswith(":"):
        return "stacked-opener"  # "Dạ, mình xin tư vấn như sau ạ: Mình gợi ý lịch trình ... nha:"
    if lead_in_before_prose(opener, body):
        return "lead-in-before-prose"
    if opener and opener_phrase(opener, body):
        return "doubled-opener-phrase"
    if opener and eager_on_denial(opener, body):
        return "eager-opener-on-denial"
    return ""


def check_answer_wording(sample: Sample) -> str:
    """Gate on the answer alone: one closing offer, no stacked or repeated opener."""
    if sample.generator == "seed":
        return ""
    return answer_defect(sample.assistant, known_openers(), sample.user, sample.seed.answer)
