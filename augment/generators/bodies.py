"""Answer bodies that vary without touching a fact: list items reordered, equivalent phrases, connectors, tips dropped.

A seed answer is read as an opener ("Dạ, ..."), a body of lines and sentences, and a closing offer. The body
changes only in ways that keep every fact: independent list items and comparison points are shuffled (never an
itinerary's days or any list whose items read as a sequence), curated equivalent phrases are swapped, a connector
opens a later sentence, and a tip without a number may be left out. The generator then puts one opener and
exactly one closing offer around it.
"""

from __future__ import annotations

import random
import re
import tomllib
from functools import cache, lru_cache
from importlib import resources

from augment.quality.framing import (
    eager_on_denial, eager_on_question, is_ack, is_closer, lead_in_before_prose, opener_phrase,
)
from augment.quality.wording import canonical_names, names_re
from augment.text import sentences

_SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+")
_ITEM_RE = re.compile(r"^\s*[-•*]\s+")
_DIGIT_RE = re.compile(r"\d")
_LEAD_RE = re.compile(r"^Dạ(?:\s+vâng)?\s*[,!.]?\s*")
_TIP_SHARE = 0.35  # how often a tip that may be left out is left out
_SWAP_SHARE = 0.5  # how often an equivalent phrase is swapped
_CONNECTOR_SHARE = 0.3
COPY_LIMIT = 0.8  # a body that keeps this share of the seed's sentences word for word is a copy


@cache
def _data() -> dict:
    raw = tomllib.loads(resources.files("augment.knowledge.data").joinpath("offline.toml").read_text("utf-8"))
    return raw["answer"]


@cache
def _phrases() -> tuple[tuple[re.Pattern, tuple[str, ...]], ...]:
    return tuple((re.compile(group["match"]), tuple(group["options"])) for group in _data()["phrases"])


@cache
def _ordered_re() -> re.Pattern:
    return re.compile(_data()["ordered_items"], re.IGNORECASE)


@lru_cache(maxsize=4096)
def split_frame(answer: str) -> tuple[tuple[str, ...], str, bool]:
    """Return the answer's body lines without its opener and closing offers, its last closer ("" if none), and
    whether that closer stood on a line of its own."""
    lines = answer.strip().split("\n")
    first = _LEAD_RE.sub("", lines[0], count=1)
    pieces = _SENTENCE_END_RE.split(first)
    while len(pieces) > 1 and is_ack(pieces[0]):  # "Dạ, được ạ! Mình gợi ý ..." -> "Mình gợi ý ..."
        pieces.pop(0)
    lines[0] = " ".join(pieces)
    closer, alone = "", False
    while lines:
        pieces = _SENTENCE_END_RE.split(lines[-1].strip())
        if not pieces or not is_closer(pieces[-1]):
            break
        closer = closer or pieces[-1]
        alone = len(pieces) == 1
        rest = " ".join(pieces[:-1])
        if rest:
            lines[-1] = rest
            continue
        lines.pop()
    return tuple(line for line in lines if line.strip()), closer, alone


@lru_cache(maxsize=1 << 15)  # a seed's lines recur in every variant
def _parts(line: str) -> tuple[str, ...]:
    """Return the line's sentences."""
    return tuple(_SENTENCE_END_RE.split(line))


def vary_body(lines: tuple[str, ...] | list[str], intent: str, rng: random.Random, seed_length: int) -> list[str]:
    """Return the body lines with list items reordered, phrases swapped, a connector added and tips dropped."""
    lines = list(lines)
    if intent != "itinerary":
        lines = _shuffle_items(lines, rng)
    lines = [_swap_phrases(line, rng) for line in lines]
    lines = _drop_tips(lines, rng, seed_length)
    return _add_connector(lines, rng) if intent != "itinerary" else lines


def _shuffle_items(lines: list[str], rng: random.Random) -> list[str]:
    """Shuffle each run of list items whose order carries no meaning."""
    out, run = [], []
    for line in [*lines, ""]:
        if _ITEM_RE.match(line):
            run.append(line)
            continue
        if len(run) > 1 and not any(_ordered_re().match(item) for item in run):
            run = _shuffled_around_pins(run, rng)
        out.extend(run)
        run = []
        out.append(line)
    return out[:-1]


def _shuffled_around_pins(items: list[str], rng: random.Random) -> list[str]:
    """Return the items shuffled, those pinned (a caveat: "- Lưu ý: ...") left in their places."""
    pinned = _pinned_re()
    free = [item for item in items if not pinned.match(item)]
    rng.shuffle(free)
    queue = iter(free)
    return [item if pinned.match(item) else next(queue) for item in items]


@cache
def _pinned_re() -> re.Pattern:
    return re.compile(_data()["pinned_items"], re.IGNORECASE)


def _swap_phrases(line: str, rng: random.Random) -> str:
    """Swap each curated phrase of the line for an equivalent one, each with a fair chance."""
    # One phrase a sentence at most: a sentence then has a few versions, which the gates read once each.
    out, last, done = [], 0, set()
    for start, end, word, options, sentence in _phrase_sites(line):
        if start < last or sentence in done or rng.random() >= _SWAP_SHARE:
            continue
        out += [line[last:start], rng.choice([option for option in options if option != word])]
        last = end
        done.add(sentence)
    return "".join(out) + line[last:] if out else line


@lru_cache(maxsize=1 << 14)  # a seed's lines recur in every variant: their phrases are found once
def _phrase_sites(line: str) -> tuple[tuple[int, int, str, tuple[str, ...], int], ...]:
    """Return where the line holds a curated phrase: start, end, the phrase, its group and which sentence of the
    line holds it, in text order."""
    marker = _ITEM_RE.match(line)
    offset = marker.end() if marker else 0
    sites = []
    starts = [offset] + [offset + m.end() for m in _SENTENCE_END_RE.finditer(line[offset:])]
    ends = [*starts[1:], len(line)]
    taken: set[int] = set()
    for number, (begin, stop) in enumerate(zip(starts, ends)):
        sentence = line[begin:stop]
        for pattern, options in _phrases():
            for match in pattern.finditer(sentence):
                at = begin + match.start(1)
                if at not in taken and len(options) > 1:
                    taken.add(at)
                    sites.append((at, begin + match.end(1), match.group(1), options, number))
    return tuple(sorted(sites))


def _is_tip(sentence: str) -> bool:
    return sentence.startswith(tuple(_data()["tip_starts"])) and not _DIGIT_RE.search(sentence)


def _drop_tips(lines: list[str], rng: random.Random, seed_length: int) -> list[str]:
    """Leave out a tip sentence that ends its paragraph, now and then, keeping the answer long enough."""
    out = []
    length = sum(map(len, lines))
    for index, line in enumerate(lines):
        parts = _parts(line)
        tip = parts[-1]
        # Only a paragraph's last sentence, never the first line's, so no later sentence leans on it.
        if index and len(parts) > 1 and not _ITEM_RE.match(line) and _is_tip(tip) and rng.random() < _TIP_SHARE:
            if length - len(tip) >= 0.6 * seed_length:
                length -= len(tip)
                line = " ".join(parts[:-1])
        out.append(line)
    return out


def _add_connector(lines: list[str], rng: random.Random) -> list[str]:
    """Open one later sentence of a paragraph with a connector ("Ngoài ra, ..."), now and then."""
    data = _data()
    blockers = tuple(data["connector_blockers"])
    sites = []
    for index, line in enumerate(lines):
        if _ITEM_RE.match(line):
            continue
        parts = _parts(line)
        sites += [(index, at) for at, part in enumerate(parts) if at > 1 and not part.startswith(blockers)]
    if not sites or rng.random() >= _CONNECTOR_SHARE:
        return lines
    index, at = rng.choice(sites)
    parts = list(_parts(lines[index]))
    part = parts[at]
    parts[at] = f"{rng.choice(data['connectors'])}{lower_first(part)}"
    return [*lines[:index], " ".join(parts), *lines[index + 1:]]


@lru_cache(maxsize=4096)
def _sentence_set(lines: tuple[str, ...]) -> frozenset[str]:
    return frozenset(part for line in lines for part in _parts(_ITEM_RE.sub("", line)))


def copied_share(seed_lines: tuple[str, ...], lines: list[str]) -> float:
    """Return the share of the seed body's sentences that the varied body keeps word for word."""
    seed = _sentence_set(tuple(seed_lines))
    return len(seed & _sentence_set(tuple(lines))) / len(seed) if seed else 0.0


def pick_opener(openers: list[str], body: str, rng: random.Random, user: str = "") -> str:
    """Return a random opener that repeats no phrase of the body and pre-empts no answer ("" if each would)."""
    order = list(openers)
    rng.shuffle(order)
    lead = body.split("\n", 1)[0].rstrip().endswith(":")  # the body opens with its own lead-in
    for opener in order:
        if not opener or not _misfits(opener, body, lead, user):
            return opener
    return ""


def _misfits(opener: str, body: str, lead: bool, user: str) -> bool:
    """Return True if the opener repeats the body, doubles its lead-in, or reads as a yes the body or question denies."""
    return bool(
        opener_phrase(opener, body) or (lead and opener.endswith(":")) or eager_on_denial(opener, body)
        or eager_on_question(opener, user) or lead_in_before_prose(opener, body)
    )


def assemble(opener: str, lines: list[str], closer: str, alone: bool) -> str:
    """Return the opener, the body and exactly one closing offer as one answer."""
    first = lines[0] if lines else ""
    if opener:
        first = f"{opener} {first[:1].upper()}{first[1:]}"
    elif not first.startswith("Dạ"):
        first = f"Dạ, {lower_first(first)}"
    body = [first, *lines[1:]]
    if not closer:
        return "\n".join(body)
    if alone or _ITEM_RE.match(body[-1]):
        return "\n".join([*body, closer])
    return "\n".join([*body[:-1], f"{body[-1]} {closer}"])


def lower_first(text: str) -> str:
    """Return text with its first letter lower-cased, unless it starts with a name spelt with a capital ("Đà Lạt
    ...", not "lẩu gà lá é", which only a sentence's start capitalised)."""
    named = names_re().match(text.lower())
    own = canonical_names().get(" ".join(named.group(0).split()), "") if named else ""
    return text if own[:1].isupper() else text[:1].lower() + text[1:]


def body_sentences(answer: str) -> tuple[str, ...]:
    """Return the sentences of the answer's body: opener and closing offers left out (for measuring copies)."""
    lines, _, _ = split_frame(answer)
    return sentences("\n".join(lines))
