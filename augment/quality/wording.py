"""Wording checks: a user turn and an answer that a native speaker would write.

User turn: no yes/no tag on a wh-question, one request, one first-person pronoun set, capitals only for names,
the register's markers present. Answer: one closing offer, no stacked openers, an opener that repeats no phrase
of the body. Words come from knowledge/data/wording.toml, written with diacritics, and are matched on the
lower-cased words of a text, unaccented when the text is typed without diacritics (so "tối" is never "tôi").
"""

from __future__ import annotations

import re
import tomllib
from functools import cache, lru_cache
from importlib import resources

from augment.knowledge.facts import load_facts
from augment.knowledge.places import VIETNAMESE_LETTER_RE, trie_pattern
from augment.records import Sample
from augment.text import sentences, strip_diacritics

_TOKEN_RE = re.compile(r"[^\W_]+")
_CLAUSE_SPLIT_RE = re.compile(r"[,.;:!?\n]+")
_SENTENCE_START_RE = re.compile(r"(?:^|[.!?:\n]\s*|[-•]\s+)$")
_NAME_SLOT = "\u2063"  # a name's span, replaced by an invisible separator so its capitals are not read


@cache
def names_re() -> re.Pattern:
    """Match every locked name (places, landmarks, dishes) as whole words, on lower-cased text (a trie: fast)."""
    return re.compile(r"(?<!\w)(?:" + trie_pattern(canonical_names()) + r")(?!\w)")


@cache
def canonical_names() -> dict[str, str]:
    """Map each locked name, lower-cased, to its own spelling ("hồ tuyền lâm" -> "hồ Tuyền Lâm")."""
    # Where a name is listed both ways, the small first letter wins: it is the name's own, the capital a sentence's.
    names = sorted(load_facts().locked_names(), key=lambda name: (name[:1].isupper(), name))
    return {" ".join(name.lower().split()): name for name in reversed(names)}


@cache
def known_openers() -> tuple[str, ...]:
    """Return the offline generator's answer openers, longest first (from offline.toml)."""
    raw = tomllib.loads(resources.files("augment.knowledge.data").joinpath("offline.toml").read_text("utf-8"))
    openers = {opener for options in raw["openers"].values() for opener in options if opener}
    return tuple(sorted(openers, key=len, reverse=True))


@cache
def data() -> dict:
    """Return the wording data (sentence types, requests, pronouns, register markers, answer framing)."""
    return tomllib.loads(resources.files("augment.knowledge.data").joinpath("wording.toml").read_text("utf-8"))


def _alternatives(phrases, unaccented: bool) -> str:
    """Join phrases (regular expressions) into one alternation, longest first, unaccented if asked."""
    ordered = sorted({strip_diacritics(p) if unaccented else p for p in phrases}, key=len, reverse=True)
    return "|".join(ordered)


def _words_re(phrases, unaccented: bool) -> re.Pattern:
    return re.compile(rf"(?<!\w)(?:{_alternatives(phrases, unaccented)})(?!\w)")


@lru_cache(maxsize=1 << 16)
def key(text: str) -> tuple[str, bool]:
    """Return text lower-cased as single-spaced words, and whether it is typed without diacritics."""
    lowered = text.lower()
    return " ".join(_TOKEN_RE.findall(lowered)), not VIETNAMESE_LETTER_RE.search(lowered)


@cache
def patterns(unaccented: bool) -> dict[str, re.Pattern]:
    """Return the compiled word patterns (wh, yes/no, tags, requests, closers, register markers) for one spelling."""
    d = data()
    tag = rf"(?:{_alternatives(d['yesno_tags'], unaccented)})(?: (?:{_alternatives(d['tag_tails'], unaccented)}))*"
    registers = {name: _words_re(words, unaccented) for name, words in d["registers"].items()}
    return {
        "wh": _words_re(d["wh_words"], unaccented),
        "yesno_before": _words_re(d["yesno_openers"], unaccented),
        "tag_end": re.compile(rf"(?<!\w){tag}$"),
        "request": _words_re(d["request_heads"], unaccented),
        "closer": re.compile(_alternatives([d["answer"]["closer"]], unaccented)),
        "terse_absent": _words_re(d["register_absent"]["terse"], unaccented),
        **{f"register:{name}": pattern for name, pattern in registers.items()},
    }


def tag_on_wh(user: str) -> bool:
    """Return True if a clause asks a wh-question and still ends with a yes/no tag ("vé bao nhiêu không ạ").

    A wh-word after "có", "được", "nên" ... asks yes/no ("có quán nào đẹp không"), so the tag fits there.
    """
    for clause in _CLAUSE_SPLIT_RE.split(user):
        text, unaccented = key(clause)
        words = patterns(unaccented)
        tag = words["tag_end"].search(text)
        if not tag:
            continue
        if words["wh"].search(text, 0, tag.start()) and not words["yesno_before"].search(text, 0, tag.start()):
            return True
    return False


def requests(user: str) -> int:
    """Return how many request heads ("cho mình hỏi", "cho mình xin", "tư vấn giúp") the turn holds."""
    text, unaccented = key(user)
    return len(patterns(unaccented)["request"].findall(text))


@cache
def _pronoun_table(unaccented: bool) -> tuple[dict[str, str], dict[str, frozenset[str]]]:
    d = data()
    plain = strip_diacritics if unaccented else str
    family = {}
    for name, spellings in d["pronouns"].items():
        for spelling in spellings:
            family.setdefault(plain(spelling), name)
    blocked = {name: frozenset(map(plain, words)) for name, words in d["not_pronoun"].items()}
    return family, blocked


def pronoun_families(user: str) -> frozenset[str]:
    """Return the first-person pronoun families the turn uses (mình, tôi, em, con ...), common nouns left out."""
    text, unaccented = key(user)
    family, blocked = _pronoun_table(unaccented)
    words = text.split()
    found = set()
    for i, word in enumerate(words):
        if word in family and _is_pronoun(words, i, blocked):
            found.add(family[word])
    return frozenset(found)


def pronoun_spans(text: str) -> list[tuple[int, int, str]]:
    """Return the start, end and family of each first-person pronoun in text, common nouns left out."""
    lowered = text.lower()
    family, blocked = _pronoun_table(not VIETNAMESE_LETTER_RE.search(lowered))
    matches = list(_TOKEN_RE.finditer(lowered))
    words = [match.group(0) for match in matches]
    return [(m.start(), m.end(), family[m.group(0)]) for i, m in enumerate(matches)
            if m.group(0) in family and _is_pronoun(words, i, blocked)]


def _is_pronoun(words: list[str], i: int, blocked: dict[str, frozenset[str]]) -> bool:
    """Return True if words[i], a pronoun's spelling, is used as one where it stands."""
    before = {words[i - 1] if i else "", " ".join(words[max(0, i - 2):i])}
    after = {" ".join(words[i + 1:i + 2]), " ".join(words[i + 1:i + 3])}
    if before & blocked["before"] or after & blocked["after"]:
        return False
    guarded = words[i] in blocked["guarded"] and i > 0
    return not guarded or bool(before & blocked["guard_before"] or after & blocked["guard_after"])


def _without_names(text: str, fill: str) -> str:
    """Return text with each locked name replaced by fill (names matched on the lower-cased text)."""
    pieces, last = [], 0
    for match in names_re().finditer(text.lower()):  # Vietnamese lower-casing keeps every position
        pieces += [text[last:match.start()], fill]
        last = match.end()
    return "".join(pieces) + text[last:]


def _capitalised_name_starts(text: str) -> list[tuple[str, int]]:
    """Return the names written with a capital their own spelling lacks ("Hồ Tuyền Lâm"), with where they start."""
    canonical = canonical_names()
    found = []
    for match in names_re().finditer(text.lower()):
        own = canonical.get(" ".join(match.group(0).split()), "")
        if own[:1].islower() and text[match.start()].isupper():
            found.append((text[match.start():match.end()].split()[0], match.start()))
    return found


def mid_capitals(user: str, allowed: str = "") -> list[str]:
    """Return the capitalised words inside a sentence that are not part of a name (the locked gazetteer, or a
    word capitalised in allowed, such as the seed question)."""
    if not any(char.isupper() for char in user[1:]):
        return []  # no capital past the first letter: nothing to look up
    masked = _without_names(user, _NAME_SLOT)
    keep = set(_TOKEN_RE.findall(allowed))
    found = [word for word, at in _capitalised_name_starts(user) if not _SENTENCE_START_RE.search(user, 0, at)]
    for match in _TOKEN_RE.finditer(masked):
        word = match.group(0)
        if not word[0].isupper() or word in keep or _SENTENCE_START_RE.search(masked, 0, match.start()):
            continue
        found.append(word)
    return found


def register_unmarked(user: str, register: str) -> bool:
    """Return True if the turn lacks its register's markers (teen-code with no teen-code, accents in nodiacritics)."""
    text, unaccented = key(user)
    words = patterns(unaccented)
    if register == "nodiacritics":
        return not unaccented
    if register == "terse":
        unnamed = key(_without_names(user, " "))[0]
        return bool(words["terse_absent"].search(unnamed) or pronoun_families(user)) or user != user.lower()
    if register == "deferential":
        return not (words["register:deferential"].search(text) and words["register:deferential_people"].search(text))
    pattern = words.get(f"register:{register}")
    return pattern is not None and not pattern.search(text)


def user_defect(user: str, register: str, allowed: str = "") -> str:
    """Return the name of the first wording defect of a user turn, or ""."""
    if tag_on_wh(user):
        return "tag-on-wh-question"
    if requests(user) > 1:
        return "stacked-request"
    if len(pronoun_families(user)) > 1:
        return "pronoun-clash"
    if mid_capitals(user, allowed):
        return "mid-sentence-capital"
    if register_unmarked(user, register):
        return "register-unmarked"
    return ""


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


def answer_defect(answer: str, openers=()) -> str:
    """Return the name of the first framing defect of an answer, or ""."""
    if closers(answer) > 1:
        return "double-closer"
    if stacked_opener(answer):
        return "stacked-opener"
    opener, body = split_opener(answer, openers)
    if opener.endswith(":") and body.split("\n", 1)[0].rstrip().endswith(":"):
        return "stacked-opener"  # "Dạ, mình xin tư vấn như sau ạ: Mình gợi ý lịch trình ... nha:"
    if opener and opener_phrase(opener, body):
        return "doubled-opener-phrase"
    return ""


def check_wording(sample: Sample) -> str:
    """Gate: drop a generated sample whose user turn or answer framing has a wording defect."""
    if sample.generator == "seed":
        return ""
    # The user-turn rules judge the offline generator's assembly (wrapper around a core); a model's paraphrase is
    # whole sentences of its own, and its register label is a guess.
    if sample.generator == "offline" and sample.method != "misconception":
        return user_defect(sample.user, sample.register, sample.seed.question) or check_answer_wording(sample)
    return check_answer_wording(sample)


def check_answer_wording(sample: Sample) -> str:
    """Gate on the answer alone: one closing offer, no stacked or repeated opener."""
    if sample.generator == "seed":
        return ""
    return answer_defect(sample.assistant, known_openers())
