"""Wording checks on a user turn: one a native speaker would type.

No yes/no tag or softener on a question, one request, one first-person pronoun set paired with how the bot is
addressed, capitals only for names, the register's markers present (the answer's framing: quality/framing.py).
Words come from knowledge/data/wording.toml, written with diacritics, and are matched on the lower-cased words of
a text, unaccented when the text is typed without diacritics (so "tối" is never "tôi").
"""

from __future__ import annotations

import re
import tomllib
from functools import cache, lru_cache
from importlib import resources

from augment.knowledge.facts import load_facts
from augment.knowledge.places import VIETNAMESE_LETTER_RE, trie_pattern
from augment.records import Sample
from augment.text import strip_diacritics

_TOKEN_RE = re.compile(r"[^\W_]+")
CLAUSE_SPLIT_RE = re.compile(r"[,.;:!?\n]+")
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
def data() -> dict:
    """Return the wording data (sentence types, requests, pronouns, register markers, answer framing)."""
    return tomllib.loads(resources.files("augment.knowledge.data").joinpath("wording.toml").read_text("utf-8"))


def _alternatives(phrases, unaccented: bool) -> str:
    """Join phrases (regular expressions) into one alternation, longest first, unaccented if asked."""
    ordered = sorted({strip_diacritics(p) if unaccented else p for p in phrases}, key=len, reverse=True)
    return "|".join(ordered)


def words_re(phrases, unaccented: bool) -> re.Pattern:
    """Match any of the phrases (regular expressions) as whole words, unaccented if asked."""
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
    tags = rf"(?:{_alternatives(d['yesno_tags'], unaccented)})"
    tag = rf"{tags}(?: (?:{_alternatives(d['tag_tails'], unaccented)}))*"
    registers = {name: words_re(words, unaccented) for name, words in d["registers"].items()}
    return {
        "wh": words_re(d["wh_words"], unaccented),
        "yesno_before": words_re(d["yesno_openers"], unaccented),
        "tag_end": re.compile(rf"(?<!\w){tag}$"),
        "stacked_tags": re.compile(rf"(?<!\w){tags} (?:\w+ )?{tags}(?: (?:{_alternatives(d['tag_tails'], unaccented)}))*$"),
        "question_end": re.compile(
            rf"(?<!\w)(?:{_alternatives([*d['yesno_tags'], *d['question_particles']], unaccented)})"
            rf"(?: (?:{_alternatives(d['particle_tails'], unaccented)}))*$"
        ),
        "request": words_re(d["request_heads"], unaccented),
        "closer": re.compile(_alternatives([d["answer"]["closer"]], unaccented)),
        "terse_absent": words_re(d["register_absent"]["terse"], unaccented),
        "telling": words_re(d["telling_heads"], unaccented),
        "either_or": re.compile(rf"\w (?:{_alternatives(d['either_or'], unaccented)}) (?!không\b|ko\b|k\b|chưa\b)\w"),
        "soft": frozenset(strip_diacritics(p) if unaccented else p for p in d["soft_particles"]),
        "particle_end": re.compile(
            rf"(?<!\w)(?P<particle>{_alternatives([*d['soft_particles'], *d['plea_particles']], unaccented)})"
            rf"(?: (?:{_alternatives(d['particle_tails'], unaccented)}))*$"
        ),
        **{f"register:{name}": pattern for name, pattern in registers.items()},
    }


def tag_on_wh(user: str) -> bool:
    """Return True if a clause asks a wh-question and still ends with a yes/no tag ("vé bao nhiêu không ạ").

    A wh-word after "có", "được", "nên" ... asks yes/no ("có quán nào đẹp không"), so the tag fits there.
    """
    for clause in CLAUSE_SPLIT_RE.split(user):
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


def is_question(clause: str) -> bool:
    """Return True if the clause asks: it holds a wh-word or ends with a yes/no tag."""
    text, unaccented = key(clause)
    words = patterns(unaccented)
    return bool(words["wh"].search(text) or words["tag_end"].search(text))


def particle_on_question(user: str) -> bool:
    """Return True if a question ends with a softener ("... ở đâu nhé?", "... bao nhiêu nè") no request licenses.

    "nhé", "nha", "nè" soften a request or a proposal: "Nhờ bạn cho mình biết ... nhé?" is right, "cho mình hỏi
    ... ở đâu nhé?" is not. "với" closes a question only after a request ("cho mình hỏi ... với").
    """
    text, unaccented = key(user)
    words = patterns(unaccented)
    telling = bool(words["telling"].search(text))
    asking = telling or bool(words["request"].search(text))
    for clause in CLAUSE_SPLIT_RE.split(user):
        said, _ = key(clause)
        ending = words["particle_end"].search(said)
        if not ending or not is_question(said[:ending.start()]):
            continue
        soft = ending.group("particle") in words["soft"]
        if (soft and not telling) or (not soft and not asking):
            return True
    return False


@cache
def _addressee_table(unaccented: bool) -> tuple[re.Pattern, dict[str, frozenset[str]]]:
    """Return a pattern finding an addressee where it calls out, and the pronoun families each pairs with."""
    d = data()
    plain = strip_diacritics if unaccented else str
    allowed = {plain(name): frozenset(families) for name, families in d["addressees"].items()}
    names = _alternatives(d["addressees"], unaccented)
    after = _alternatives(d["address_calls"]["after"], unaccented)
    before = _alternatives(d["address_calls"]["before"], unaccented)
    call = rf"(?:(?<!\w)(?:{before}) (?P<greeted>{names})(?!\w)|(?<!\w)(?P<called>{names}) (?:{after})(?!\w))"
    return re.compile(call), allowed


def address_mismatch(user: str) -> bool:
    """Return True if the turn's pronoun does not pair with how it addresses the bot ("anh chị cho con hỏi")."""
    families = pronoun_families(user)
    if not families:
        return False
    text, unaccented = key(user)
    pattern, allowed = _addressee_table(unaccented)
    for match in pattern.finditer(text):
        if families - allowed[match.group("greeted") or match.group("called")]:
            return True
    return False


def register_leak(user: str, register: str) -> bool:
    """Return True if the turn holds a word its register never uses ("ko" in a polite turn, "tôi" in teen-code)."""
    listed = data()["register_leaks"]["applies"].get(register)
    if not listed:
        return False
    text, unaccented = key(user)
    return bool(_leak_re(listed, unaccented).search(text))


@cache
def _leak_re(listed: str, unaccented: bool) -> re.Pattern:
    return words_re(data()["register_leaks"][listed], unaccented)


def stacked_tags(user: str) -> bool:
    """Return True if a clause ends with two yes/no tags ("... xa không được không ạ?")."""
    for clause in CLAUSE_SPLIT_RE.split(user):
        text, unaccented = key(clause)
        if patterns(unaccented)["stacked_tags"].search(text):
            return True
    return False


def user_defect(user: str, register: str, allowed: str = "") -> str:
    """Return the name of the first wording defect of a user turn, or ""."""
    if tag_on_wh(user):
        return "tag-on-wh-question"
    if stacked_tags(user):
        return "stacked-tags"
    if particle_on_question(user):
        return "particle-on-question"
    if requests(user) > 1:
        return "stacked-request"
    if len(pronoun_families(user)) > 1:
        return "pronoun-clash"
    if address_mismatch(user):
        return "address-mismatch"
    if mid_capitals(user, allowed):
        return "mid-sentence-capital"
    if register_unmarked(user, register):
        return "register-unmarked"
    if register_leak(user, register):
        return "register-leak"
    return ""


def check_user_wording(sample: Sample) -> str:
    """Gate: drop an offline sample whose user turn has a wording defect."""
    # The rules judge the offline generator's assembly (wrapper around a core); a model's paraphrase is whole
    # sentences of its own, and its register label is a guess.
    if sample.generator != "offline" or sample.method == "misconception":
        return ""
    return user_defect(sample.user, sample.register, sample.seed.question)
