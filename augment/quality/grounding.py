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
_SCALE = r"(k|nghìn|ngàn|tr|triệu)?"  # "200-150k": the first end takes the second's scale
_SCALES = {"k": 1e3, "nghìn": 1e3, "ngàn": 1e3, "tr": 1e6, "triệu": 1e6}
# "A-B", not a month span ("tháng 10-11"), not a date ("1/7/2025"); matched on casefolded text.
_RANGE_RE = re.compile(rf"(?<![\d.,/])(?<!tháng )({_NUM})\s*{_SCALE}\s*[-–]\s*({_NUM})\s*{_SCALE}(?![\d/])")
# "từ A đến B đồng": words between two numbers of one unit.
_SPAN_RE = re.compile(rf"(?<![\d.,])({_NUM})\s*{_SCALE}\s+(?:đến|tới)\s+({_NUM})\s*{_SCALE}\s*(?=đồng|km|mét|m\b|người)")
_MIXED_SPAN_RE = re.compile(r"(?<![\d.,])(\d+) (phút|giờ|tiếng) (?:đến|tới|-) (\d+) (phút|giờ|tiếng)")
# "0 giờ", "0 phút" (a time or a duration of nothing), "21 giờ 00" (a whole hour read as a clock time with minutes).
_ZERO_HOUR_RE = re.compile(r"(?<![\d.,:])0 (?:giờ|tiếng|phút)|(?<![\d.,:])\d+ giờ 00(?!\d)")
_CLOCK_RE = re.compile(r"(?<![\d.,:])(\d+)(?: giờ (\d{2})(?!\d)|:(\d{2})(?!\d)|h(\d{2})?(?![\w]))")
_MINUTES_RE = re.compile(r"(?<![\d.,:])\d+ (?:giờ|tiếng) (\d+) phút")
# A duration written as a clock time: "dành khoảng 1 giờ 30" is fine Vietnamese only as "1 giờ 30 phút".
_DURATION_AS_CLOCK_RE = re.compile(r"(?:mất|dành|cần|thêm|kéo dài)\s+(?:khoảng\s+|tầm\s+|chừng\s+)?\d+ giờ \d{2}(?!\d| phút)")
# A schedule line starts with its time: "- 14 giờ: ...", "15 giờ 30: ...", "7:30 - ...".
_SCHEDULE_RE = re.compile(r"^\s*(?:[-•*]\s*)?(\d{1,2})(?: giờ(?: (\d{2}))?|:(\d{2})|h(\d{2})?)\s*[:\-–]", re.MULTILINE)
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
    for match in (*_RANGE_RE.finditer(folded), *_SPAN_RE.finditer(folded)):
        low, low_scale, high, high_scale = match.groups()
        scale = _SCALES.get(high_scale or "", 1)
        if parse_number(low) * _SCALES.get(low_scale or "", scale) >= parse_number(high) * scale:
            return True
    minutes = {"phút": 1, "giờ": 60, "tiếng": 60}
    return any(int(m[1]) * minutes[m[2]] >= int(m[3]) * minutes[m[4]] for m in _MIXED_SPAN_RE.finditer(folded))


def check_times(sample: Sample) -> str:
    """Drop "0 giờ", "N giờ 00", a clock past 23:59 ("25:30", "4 giờ 75"), and a duration written as a clock time."""
    return "impossible-time" if _bad_time(sample.assistant) or _bad_time(sample.context) else ""


@lru_cache(maxsize=1 << 16)
def _bad_time(text: str) -> bool:
    folded = text.casefold()
    if _ZERO_HOUR_RE.search(folded) or _DURATION_AS_CLOCK_RE.search(folded):
        return True
    if any(int(minutes) > 59 for minutes in _MINUTES_RE.findall(folded)):
        return True
    clocks = [(int(m[1]), m[2] or m[3] or m[4]) for m in _CLOCK_RE.finditer(folded)]
    # "mở cửa 24h" is round the clock; a clock time with minutes past 23:59 is not a time.
    return any(hour > 24 or hour == 24 and minutes or minutes and int(minutes) > 59 for hour, minutes in clocks)


def check_schedule_order(sample: Sample) -> str:
    """Drop an answer whose schedule lines ("- 14 giờ: ...") do not run forward in time."""
    return "schedule-order" if _schedule_broken(sample.assistant) else ""


@lru_cache(maxsize=1 << 16)
def _schedule_broken(text: str) -> bool:
    times = [int(m[1]) * 60 + int(m[2] or m[3] or m[4] or 0) for m in _SCHEDULE_RE.finditer(text)]
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
    return any(_is_voice(before, word, after, voice) for before, word, after in zip(["", *words], words, [*words[1:], ""]))


def _is_voice(before: str, word: str, after: str, voice: dict) -> bool:
    folded = word.casefold()
    if folded not in voice["words"] or before.casefold() in voice["not_after"].get(folded, ()):
        return False
    # A capitalised word next to another is a name's ("Nha Trang", "Dinh Cậu"), not the particle "nha".
    return not (word[:1].isupper() and (before[:1].isupper() or after[:1].isupper()))


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
    name = price_kind(sample) if sample.grounding == "no-figure" else ""
    kind = _data()["kinds"].get(name)
    if kind is None:
        return ""
    folded = sample.assistant.casefold()
    nouns = set(_PRICE_NOUN_RE.findall(folded))
    if kind["noun"] not in folded or nouns - {kind["noun"]}:
        return "wrong-price-noun"
    others = {word for other_name, other in _data()["kinds"].items() if other_name != name for word in other["only"]}
    return "wrong-price-noun" if any(word in folded for word in others - set(kind["only"])) else ""


def price_kind(sample: Sample) -> str:
    """Return the kind of what a price question asks about: its seed's record's, else the first kind its words name."""
    record = record_for(sample.seed)
    if record:
        return record.kind
    folded = f"{sample.seed.question} {sample.user}".casefold()
    kinds = _data()["kinds"]
    for name in _data()["kind_order"]:
        if any(re.search(rf"(?<!\w){word}(?!\w)", folded) for word in kinds[name]["words"]):
            return name
    return ""


CHECKS = (check_range_order, check_times, check_schedule_order, check_context_voice, check_attribution, check_price_noun)
