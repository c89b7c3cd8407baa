"""Gates on figures and retrieved contexts: range order, impossible times, schedule order, a context in the bot's
voice, attribution to the lookup of what the context lacks, and the price noun of an answer without a price.

Each check returns "" to keep a sample or the reason to drop it. The figure checks read every answer (and
context); the others only samples that carry a context, except that no plain answer may cite a lookup.
"""

from __future__ import annotations

import re
import tomllib
from functools import cache, lru_cache
from importlib import resources

from augment.knowledge.seed_facts import record_for
from augment.records import Sample
from augment.text import amounts, parse_number, sentences, shingles

_NUM = r"\d+(?:[.,]\d+)*"
# "A-B unit", not a month span ("tháng 10-11"), not a date ("1/7/2025"); matched on casefolded text.
_RANGE_RE = re.compile(rf"(?<![\d.,/])(?<!tháng )({_NUM})\s*[-–]\s*({_NUM})(?![\d/])")
_MIXED_SPAN_RE = re.compile(r"(?<![\d.,])(\d+) (phút|giờ) đến (\d+) (phút|giờ)")
_ZERO_HOUR_RE = re.compile(r"(?<![\d.,:])0 giờ|(?<![\d.,:])\d+ giờ 00(?!\d)")
_CLOCK_RE = re.compile(r"(?<![\d.,:])(\d+)(?: giờ (\d{2})(?!\d)|:(\d{2})(?!\d))")
# A duration written as a clock time: "dành khoảng 1 giờ 30" is fine Vietnamese only as "1 giờ 30 phút".
_DURATION_AS_CLOCK_RE = re.compile(r"(?:mất|dành|cần|thêm|kéo dài)\s+(?:khoảng\s+|tầm\s+|chừng\s+)?\d+ giờ \d{2}(?!\d| phút)")
# A schedule line starts with its time: "- 14 giờ: ...", "15 giờ 30: ...", "7:30 - ...".
_SCHEDULE_RE = re.compile(r"^\s*(?:[-•]\s*)?(\d{1,2})(?: giờ(?: (\d{2}))?|:(\d{2}))\s*[:\-–]", re.MULTILINE)
_WORD_RE = re.compile(r"[^\W\d_]+")
_PRICE_NOUN_RE = re.compile(r"giá (?:vé|món|phòng|tour|thuê|dịch vụ)")


@cache
def _data() -> dict:
    return tomllib.loads(resources.files("augment.knowledge.data").joinpath("grounding.toml").read_text("utf-8"))


def check_range_order(sample: Sample) -> str:
    """Drop a sample whose answer or context has a range that does not rise ("15-14 km", "4-4 km")."""
    return "range-order" if _bad_range(sample.assistant) or _bad_range(sample.context) else ""


@lru_cache(maxsize=1 << 16)
def _bad_range(text: str) -> bool:
    folded = text.casefold()
    for match in _RANGE_RE.finditer(folded):
        if parse_number(match.group(1)) >= parse_number(match.group(2)):
            return True
    minutes = {"phút": 1, "giờ": 60}
    return any(int(m.group(1)) * minutes[m.group(2)] >= int(m.group(3)) * minutes[m.group(4)] for m in _MIXED_SPAN_RE.finditer(folded))


def check_times(sample: Sample) -> str:
    """Drop "0 giờ", "N giờ 00", a clock past 23:59, and a duration written as a clock time."""
    return "impossible-time" if _bad_time(sample.assistant) or _bad_time(sample.context) else ""


@lru_cache(maxsize=1 << 16)
def _bad_time(text: str) -> bool:
    folded = text.casefold()
    if _ZERO_HOUR_RE.search(folded) or _DURATION_AS_CLOCK_RE.search(folded):
        return True
    return any(int(m.group(1)) > 23 or int(m.group(2) or m.group(3)) > 59 for m in _CLOCK_RE.finditer(folded))


def check_schedule_order(sample: Sample) -> str:
    """Drop an answer whose schedule lines ("- 14 giờ: ...") do not run forward in time."""
    return "schedule-order" if _schedule_broken(sample.assistant) else ""


@lru_cache(maxsize=1 << 16)
def _schedule_broken(text: str) -> bool:
    times = [int(m.group(1)) * 60 + int(m.group(2) or m.group(3) or 0) for m in _SCHEDULE_RE.finditer(text)]
    return any(later <= earlier for earlier, later in zip(times, times[1:]))


def check_context_voice(sample: Sample) -> str:
    """Drop a context in the bot's voice: first or second person, particles, closing offers."""
    return "context-voice" if sample.context and _has_voice(sample.context) else ""


@lru_cache(maxsize=1 << 16)
def _has_voice(text: str) -> bool:
    voice = _data()["voice"]
    if any(phrase in text.casefold() for phrase in voice["phrases"]):
        return True
    words = _WORD_RE.findall(text)
    # A capitalised word followed by another is a name's ("Nha Trang"), not the particle "nha".
    return any(word.casefold() in voice["words"] and not (word[:1].isupper() and following[:1].isupper())
               for word, following in zip(words, [*words[1:], ""]))


def check_attribution(sample: Sample) -> str:
    """Drop an answer that cites the lookup for what its context does not state, or cites one without a context."""
    markers = _data()["attribution"]["markers"]
    folded = sample.assistant.casefold()
    if not any(marker in folded for marker in markers):
        return ""
    if not sample.context:
        return "attribution-outside-context"
    allowed = amounts(sample.context) | amounts(sample.user)  # a figure the traveller gave may be repeated
    parts = [part for part in sentences(sample.assistant) if part.strip()]
    for index, part in enumerate(parts):
        if any(marker in part.casefold() for marker in markers) and not cited_backed(parts, index, sample.context, allowed):
            return "attribution-outside-context"
    return ""


def cited_backed(parts: list[str], index: int, context: str, allowed: frozenset[float]) -> bool:
    """Return True if the cited sentence, or every item of the list it heads, is stated by the context."""
    part = parts[index]
    if not part.rstrip().endswith(":"):
        return _backed(part, context, allowed)
    items = []
    for item in parts[index + 1:]:
        if not item.lstrip().startswith(("-", "•")):
            break
        items.append(item)
    return bool(items) and all(_backed(item, context, allowed) for item in items)


def _backed(text: str, context: str, allowed: frozenset[float]) -> bool:
    """Return True if every figure of text is allowed and it states a figure or a run of four words of the context."""
    found = amounts(text)
    return found <= allowed and bool(found or _runs(text) & _runs(context))


def _runs(text: str) -> frozenset[str]:
    return frozenset(gram for gram in shingles(text, 4) if gram.count(" ") == 3)


def check_price_noun(sample: Sample) -> str:
    """Drop an answer without a price that names the wrong price ("giá vé" of a dish) or the wrong place to ask."""
    record = record_for(sample.seed) if sample.grounding == "no-figure" else None
    kind = _data()["kinds"].get(record.kind) if record else None
    if kind is None:
        return ""
    folded = sample.assistant.casefold()
    nouns = set(_PRICE_NOUN_RE.findall(folded))
    if kind["noun"] not in folded or nouns - {kind["noun"]}:
        return "wrong-price-noun"
    others = {word for name, other in _data()["kinds"].items() if name != record.kind for word in other["only"]}
    return "wrong-price-noun" if any(word in folded for word in others - set(kind["only"])) else ""


CHECKS = (check_range_order, check_times, check_schedule_order, check_context_voice, check_attribution, check_price_noun)
