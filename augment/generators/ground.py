"""Context-grounded samples: the answer's prices, times and distances come from a retrieved-context block."""

from __future__ import annotations

import random
import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import cache, lru_cache
from importlib import resources

from augment.generators.offline import answer_openers, mask, starts_with_locked
from augment.records import Sample, Seed
from augment.text import sentences

Check = Callable[[Sample], str]

# Figures that drift in the real world and so may differ between the seed and retrieval. Altitudes ("1.500 m"),
# temperatures, days and dates are foundational or come from the question: they are never varied.
_PRICE_RE = re.compile(r"(?<![\d.,])\d{1,3}(?:\.\d{3})+(?![\d.,]|\s*m\b)")
# Keys include their unit ("21 giờ", "3 km"), so substitution never touches the same digits elsewhere ("bé 5 tuổi").
_CLOCK_RE = re.compile(r"(?<![\d:])(?P<h>[01]?\d|2[0-3])(?P<sep>:| giờ |h)(?P<m>[0-5]\d)(?!\d)|(?<![\d:])(?P<h2>[01]?\d|2[0-3]) giờ(?!\s*\d)")
_DISTANCE_RE = re.compile(r"(?<![\d.,])(?P<d>\d+(?:,\d)?)(?P<unit>\s*km)\b")
_NUMBER_RE = re.compile(r"\d+")
_OPENING_RE = re.compile(r"^Dạ(?:\s+vâng)?\s*,\s*")
_PARTICLE_RE = re.compile(r"\s+(?:ạ|nha|nhé)(?=[.!]?$)")


@cache
def _data() -> dict:
    return tomllib.loads(resources.files("augment.knowledge.data").joinpath("grounding.toml").read_text("utf-8"))


@lru_cache(maxsize=1 << 16)  # the variants of a seed share a few answers, so most are scanned once
def _figure_matches(answer: str) -> tuple[tuple[re.Match, ...], tuple[re.Match, ...], tuple[re.Match, ...]]:
    """Return the answer's price, clock time and distance matches, in the order varied_figures draws for them."""
    return tuple(_PRICE_RE.finditer(answer)), tuple(_CLOCK_RE.finditer(answer)), tuple(_DISTANCE_RE.finditer(answer))


def varied_figures(answer: str, rng: random.Random) -> dict[str, str]:
    """Map each price, clock time and distance in the answer to a different plausible value."""
    data = _data()
    prices, clocks, distances = _figure_matches(answer)
    mapping: dict[str, str] = {}
    for match in prices:
        old = int(match.group(0).replace(".", ""))
        new = max(5000, round(old * rng.choice(data["price_factors"]) / 5000) * 5000)
        mapping.setdefault(match.group(0), f"{new if new != old else old + 5000:,}".replace(",", "."))
    for match in clocks:
        mapping.setdefault(match.group(0), _shift_clock(match, rng.choice(data["clock_shifts"])))
    for match in distances:
        text = match.group("d")
        old = float(text.replace(",", "."))
        new = round(old * rng.choice(data["distance_factors"]), 1 if "," in text else 0)
        new = new if new != old else old + 1
        shown = f"{new:.1f}".replace(".", ",") if "," in text else str(int(new))
        mapping.setdefault(match.group(0), shown + match.group("unit"))
    return mapping


def _shift_clock(match: re.Match, minutes: int) -> str:
    """Shift a clock time, keeping its form; a whole hour ("21 giờ") moves by whole hours, never by zero."""
    if match.group("h2"):
        hours = round(minutes / 60) or (1 if minutes > 0 else -1)
        hour = int(match.group("h2"))
        shifted = hour + hours if 5 <= hour + hours <= 23 else hour - hours
        return f"{shifted} giờ"
    start = int(match.group("h")) * 60 + int(match.group("m"))
    total = start + minutes if 5 * 60 <= start + minutes <= 23 * 60 + 30 else start - minutes
    return f"{total // 60}{match.group('sep')}{total % 60:02d}"


def _substitute(text: str, mapping: dict[str, str]) -> str:
    if not mapping:
        return text
    pieces = list(_split_at_figures(text, tuple(sorted(mapping, key=len, reverse=True))))
    pieces[1::2] = [mapping[figure] for figure in pieces[1::2]]
    return "".join(pieces)


@lru_cache(maxsize=1 << 16)  # where the figures sit depends only on the answer, not on their new values
def _split_at_figures(text: str, olds: tuple[str, ...]) -> tuple[str, ...]:
    """Split text around the figures, longest tried first: the text between them at even indexes, figures at odd."""
    # Whole figures only: not inside a longer number ("1.250.000", "12:30"), but a comma or full stop may follow.
    pattern = "|".join(rf"(?<!\d)(?<!\d[.,:]){re.escape(old)}(?!\d)(?![.,:]\d)" for old in olds)
    return tuple(re.split(f"({pattern})", text))


def _sentences(answer: str) -> list[str]:
    """Return the answer's sentences without list markers (the fact guard's splitter: "TP. HCM" stays whole)."""
    return [s.strip(" -•") for s in sentences(answer) if s.strip(" -•")]


def _context_from(sentences: list[str]) -> str:
    lines = []
    for sentence in sentences:
        sentence = _PARTICLE_RE.sub("", _split_opener(sentence)[1])  # a retrieved snippet is not polite talk
        lines.append(f"- {sentence[:1].upper()}{sentence[1:]}")
    return "\n".join(lines)


def ground_with_figures(sample: Sample, rng: random.Random) -> Sample | None:
    """Return the sample with varied figures in both its context and its answer, or None if it has none."""
    mapping = varied_figures(sample.assistant, rng)
    if not mapping:
        return None
    answer = _substitute(sample.assistant, mapping)
    context = _context_from([s for s in _sentences(answer) if _NUMBER_RE.search(s)])
    return replace(sample, assistant=_lead_in(answer), context=context, grounding="grounded")


def _split_opener(text: str) -> tuple[str, str]:
    """Split text into its opener ("Dạ, chào bạn nha!", "Dạ, ") and the rest; no opener gives ("", text)."""
    for opener in answer_openers():
        if text.startswith(opener):
            return opener, text[len(opener):].lstrip()
    match = _OPENING_RE.match(text)
    return (match.group(0).strip(), text[match.end():]) if match else ("", text)


def _lead_in(answer: str) -> str:
    """Say, right after the opener, that the figures come from retrieval."""
    opener, body = _split_opener(answer)
    if not opener or not body:
        return answer
    if not starts_with_locked(body):  # a locked name keeps its capital (the one position mask() would slot)
        body = body[:1].lower() + body[1:]
    lead = _data()["lead_in"]
    if opener.endswith(","):  # a plain "Dạ," continues the sentence
        return f"{opener} {lead}{body}"
    return f"{opener} {lead[:1].upper()}{lead[1:]}{body}"


def ground_without_figure(sample: Sample, rng: random.Random) -> Sample:
    """Return the sample with a context that lacks the asked figure, and an answer that invents none."""
    data = _data()["no_figure"]
    subject = _subject(sample.seed)
    context = _figureless_context(sample.assistant, subject)
    answer = rng.choice(data["answers"]).format(what=data["what"], subject=subject)
    return replace(sample, assistant=answer, context=context, grounding="no-figure")


@lru_cache(maxsize=1 << 16)  # the same for every variant of a seed that shares the answer
def _figureless_context(answer: str, subject: str) -> str:
    """Return up to two of the answer's sentences without a figure as context, else a line saying nothing was found."""
    data = _data()["no_figure"]
    kept = [s for s in _sentences(answer) if not _NUMBER_RE.search(s) and not _OPENING_RE.match(s)][:2]
    return _context_from(kept) or data["empty_context"].format(what=data["what"], subject=subject)


@lru_cache(maxsize=1 << 16)  # the same for every variant of a seed
def _subject(seed: Seed) -> str:
    """Return the first landmark or place named in the seed question, else the seed's place."""
    _, slots = mask(seed.question)
    names = [slot for slot in slots if not slot[:1].isdigit()]
    return names[0] if names else seed.place


def ground(samples: Sequence[Sample], ratio: float, random_seed: int, check: Check = lambda sample: "") -> list[Sample]:
    """Turn round(ratio x len) samples into grounded ones, in place and deterministically.

    A grounded sample that fails check keeps its plain original, and another sample is grounded instead.
    """
    wanted = round(ratio * len(samples))
    if not wanted:
        return list(samples)
    rng = random.Random(f"{random_seed}:ground")
    order = [i for i, s in enumerate(samples) if s.generator != "seed"]
    rng.shuffle(order)
    no_figure = round(wanted * _data()["no_figure_share"])
    result = list(samples)
    done = 0
    for index in order:
        if done == wanted:
            break
        sample = samples[index]
        figureless = bool(no_figure) and sample.seed.intent == "price"
        grounded = ground_without_figure(sample, rng) if figureless else ground_with_figures(sample, rng)
        if grounded is None or check(grounded):
            continue
        result[index] = grounded
        no_figure -= figureless
        done += 1
    return result
