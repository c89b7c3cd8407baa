"""User turns by sentence type: which wrappers fit a question core, and one pronoun set per turn."""

from __future__ import annotations

import re
from functools import cache, lru_cache

from augment.quality.wording import (
    address_mismatch, data, key, particle_on_question, patterns, pronoun_families, pronoun_spans, requests,
    stacked_tags, tag_on_wh,
)

TYPES = ("wh", "yesno", "request", "keyword")
_CLAUSE_SPLIT_RE = re.compile(r"[,.;:!?]+")
_SLOT_RE = re.compile(r"⟦\d+⟧")


def sentence_type(core: str, asked: bool = False) -> str:
    """Return the core's type: wh, yesno (ends with a yes/no particle), request (asks for something) or keyword.

    The last clause that asks decides, so a statement after a question ("cầu Rồng ở đâu? tối nay muốn xem") keeps
    the question's type. asked says the seed question ended with "?" or a question particle the core lost ("... có biển luôn hả
    ad?"): with a predicate ("có", "được", "nên" ...) and no wh-word or request, it is a yes/no question, never a
    topic to ask for ("Ad gợi ý ... có biển luôn với").
    """
    clauses = [clause for clause in _CLAUSE_SPLIT_RE.split(_SLOT_RE.sub(" X ", core)) if clause.strip()] or [core]
    for clause in reversed(clauses):
        kind = _clause_type(clause)
        if kind in ("wh", "yesno"):
            return kind
    if requests(core):
        return "request"
    return "yesno" if asked and _has_predicate(clauses[-1]) else "keyword"


def _has_predicate(clause: str) -> bool:
    """Return True if the clause states something that can be asked yes or no ("Đà Lạt có biển luôn"), unlike a
    bare topic ("vé Datanla")."""
    text, unaccented = key(clause)
    return bool(patterns(unaccented)["yesno_before"].search(text))


def _clause_type(clause: str) -> str:
    """Return wh or yesno for a clause that asks, else ""."""
    text, unaccented = key(clause)
    words = patterns(unaccented)
    if words["tag_end"].search(text):
        return "yesno"
    if words["wh"].search(text) or re.search(r"(?<!\w)(?:hay|hoặc|hay là)(?!\w)", text):
        return "wh"
    return ""


def asked_in(question: str) -> bool:
    """Return True if the seed question ends as a question: a "?" or a question particle ("... hả ad")."""
    text, unaccented = key(question)
    return question.rstrip().endswith("?") or bool(patterns(unaccented)["question_end"].search(text))


def ends_in_statement(core: str) -> bool:
    """Return True if a statement follows the core's question ("cầu Rồng ở đâu? tối nay muốn xem phun lửa")."""
    _, mark, tail = core.rpartition("?")
    return bool(mark) and bool(tail.strip())


def untag_wh(core: str) -> str:
    """Return the core without a yes/no tag closing a wh-question ("ăn vặt j ngon k" -> "ăn vặt j ngon")."""
    text, unaccented = key(core)
    if not tag_on_wh(core):
        return core
    tag = patterns(unaccented)["tag_end"].search(text)
    words = len(tag.group(0).split()) if tag else 0
    return " ".join(core.split()[:-words]) if words else core


@cache
def _wrapper_info(wrapper: str) -> tuple[bool, str]:
    """Return whether the wrapper asks for something itself, and its pronoun family ("" if it has none)."""
    frame = wrapper.replace("{q}", " ")
    families = sorted(pronoun_families(frame))
    return bool(requests(frame)), families[0] if families else ""


def fitting_wrappers(register_wrappers: dict[str, list[str]], core: str, asked: bool = False) -> list[tuple[str, str]]:
    """Return the register's wrappers that fit the core's type, each with the pronoun family it sets."""
    kind = sentence_type(core, asked)
    pool = [*register_wrappers.get(kind, [])]
    if kind in ("wh", "yesno"):
        pool += register_wrappers.get("ask", [])
    asks = bool(requests(core))
    statement_last = ends_in_statement(core)
    fitting = []
    for wrapper in dict.fromkeys(pool):
        wrapper_asks, family = _wrapper_info(wrapper)
        if asks and wrapper_asks:
            continue  # one request per turn
        if statement_last and _tail_words(wrapper) - {"ạ"}:
            continue  # "... tối nay muốn xem phun lửa vậy ad?": a question's particle would close the statement
        if kind == "yesno" and _tail_words(wrapper) & _yesno_tags():
            continue  # "... nước trong không được không ạ?": the core keeps its own tag
        fitting.append((wrapper, family))
    return fitting


@cache
def _yesno_tags() -> frozenset[str]:
    return frozenset(data()["yesno_tags"])


@cache
def _tail_words(wrapper: str) -> frozenset[str]:
    """Return the words a wrapper puts after the core."""
    return frozenset(key(wrapper.partition("{q}")[2])[0].split())


@lru_cache(maxsize=1 << 14)
def with_pronoun(core: str, spelling: str) -> str:
    """Return the core with each first-person pronoun replaced by spelling (the wrapper's), common nouns kept."""
    if not spelling:
        return core
    out, last = [], 0
    for start, end, _ in pronoun_spans(core):
        word = core[start:end]
        out.append(core[last:start])
        out.append(spelling.capitalize() if word[:1].isupper() else spelling)
        last = end
    out.append(core[last:])
    return "".join(out)


def fits(user: str) -> bool:
    """Return True if the written turn has no misplaced or doubled yes/no tag, no softener on a question, one request
    at most, and a pronoun that pairs with how it addresses the bot."""
    return not (tag_on_wh(user) or stacked_tags(user) or requests(user) > 1 or particle_on_question(user)
                or address_mismatch(user))
