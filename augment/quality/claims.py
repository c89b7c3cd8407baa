"""Foundational-fact guard: find claims that contradict facts.toml about the place each claim is about.

A claim ("có biển", "thuộc tỉnh Khánh Hòa", "độ cao 500 m") is attributed to the place it follows: the place
named right after it ("biển Nha Trang"), else the nearest place named before it (with places joined to that one
by "và"/"với"), else the seed's place. A province is a place too, so "tỉnh Lâm Đồng có biển" is never held
against Đà Lạt. A claim that is negated, hedged, asked, or corrected in its sentence is not asserted.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from augment.knowledge.facts import Destination, load_facts
from augment.knowledge.places import Mention, is_unaccented, scan, trie_pattern
from augment.quality.claim_reader import Reader, Rules
from augment.quality.landmarks import placements
from augment.text import fold, parse_number, sentences, strip_diacritics

# Claim kinds and the reason a gate reports for each.
REASONS = {
    "sea": "fact-sea",
    "sea_object": "fact-sea",
    "snow": "fact-snow",
    "snow_all_year": "fact-snow",
    "season": "fact-season",
    "hot": "fact-climate",
    "mean_temp": "fact-climate",
    "peak_temp": "fact-climate",
    "region": "fact-region",
    "province": "fact-province",
    "altitude": "fact-altitude",
    "forbidden": "fact-claim",
    "coast": "fact-sea",
    "island": "fact-island",
    "mainland": "fact-island",
    "capital": "fact-capital",
    "landmark": "fact-landmark",
}
# How a kind finds its subject: "loose" takes the nearest place before it, "adjacent" only a destination right
# before it (gap words only), "own" only a destination (a landmark's altitude is not the city's), "object" only
# a place right after it.
_MODES = {
    "sea": "loose", "sea_object": "object", "snow": "loose", "snow_all_year": "loose", "season": "loose", "hot": "loose", "forbidden": "loose",
    "region": "adjacent", "province": "adjacent", "altitude": "own", "mean_temp": "own", "peak_temp": "own",
    "coast": "loose", "island": "adjacent", "mainland": "adjacent", "capital": "adjacent",
}
# Kinds asserted by their denial: "Nha Trang không có biển" says something false about a coastal city.
_DENIED = frozenset({"coast"})
# Kinds whose denial is checked too, and when that denial is false: "Phú Quốc không phải là đảo".
_SYMMETRIC = {"island": lambda d: d.island}
_CLAUSE_BREAK = r"[,;:.!?\n()\[\]\"“”]|(?<!\w)(?:thì|nhưng|còn|mà|song|tuy nhiên)(?!\w)"
_SENTENCE_END = r"[.!?\n]"
_WINDOW = 60  # characters read on each side of an anchor word; every claim pattern is shorter
_OBJECT_GAP = r"\s*(?:(?:ở|tại|của)\s+)?"
_WORD_LISTS = (
    "negators", "not_negating_after", "post_negators", "hedges", "post_corrections", "origin_markers",
    "subject_gap", "joiners", "question_tails", "question_particles", "current_markers", "past_markers",
    "conditionals", "conditional_hedges", "confirmations", "generic_subjects",
)


@dataclass(frozen=True, slots=True)
class Finding:
    """A foundational claim that contradicts the facts about its subject."""

    kind: str
    dest: str
    phrase: str

    @property
    def reason(self) -> str:
        """Return the gate reason for this finding."""
        return REASONS[self.kind]


@cache
def _vocabulary() -> dict:
    return tomllib.loads(resources.files("augment.knowledge.data").joinpath("claims.toml").read_text("utf-8"))


def _words(words) -> str:
    """Return an alternation of phrases, longest first, spaces matching any run of whitespace."""
    ordered = sorted({fold(w) for w in words}, key=len, reverse=True)
    return "|".join(r"\s+".join(map(re.escape, w.split())) for w in ordered)


def _names(names) -> str:
    """Return a pattern matching any place name, longest first."""
    return trie_pattern({_name_key(n) for n in names})


def _name_key(name: str) -> str:
    return re.sub(" +", " ", fold(name)).strip()


def _plain(pattern: str, unaccented: bool) -> str:
    return strip_diacritics(pattern) if unaccented else pattern


def _region_names() -> dict[str, str]:
    facts = load_facts()
    names = {r for d in facts.destinations for r in (d.region, *d.wrong_regions)}
    return {_name_key(n): n for n in names}


def _placeholders(v: dict, regions: dict, provinces: dict) -> dict[str, str]:
    """Return what each placeholder of the claim patterns stands for."""
    return {
        "{SEA}": rf"biển(?!\s+(?:{_words(v['not_sea_after'])})(?!\w))",
        "{REGION}": f"(?P<target>{_names(regions.values())})",
        "{PROVINCE}": f"(?P<target>{_names(provinces)})",
        "{QUAL}": _words(v["qualifiers"]),
    }


def _fill(pattern: str, placeholders: dict[str, str], prefix: str) -> str:
    """Expand the placeholders of a claim pattern; its named groups get prefix so patterns can share names."""
    for placeholder, value in placeholders.items():
        pattern = pattern.replace(placeholder, value)
    return pattern.replace("(?P<", f"(?P<{prefix}")


@cache
def _rules(unaccented: bool) -> Rules:
    """Compile the claim vocabulary once per spelling mode."""
    v = _vocabulary()
    facts = load_facts()
    regions = _region_names()
    provinces = facts.province_names()

    def compile_(pattern: str) -> re.Pattern:
        return re.compile(_plain(pattern, unaccented))

    kinds = (
        "sea", "sea_object", "snow", "snow_all_year", "season", "hot", "region", "province", "altitude", "mean_temp", "peak_temp", "coast", "island",
        "mainland", "capital",
    )
    found = [(kind, p, "") for kind in kinds for p in v[kind]]
    found += [("forbidden", p, d.key) for d in facts.destinations for p in d.forbidden]
    owners = {f"c{i}": (kind, owner) for i, (kind, _, owner) in enumerate(found)}
    filled = _placeholders(v, regions, provinces)
    patterns = {g: compile_(f"(?P<{g}>{_fill(p, filled, f'{g}_')})(?!\\w)") for g, (_, p, _) in zip(owners, found)}
    anchors = {**v["anchors"], "region": list(regions), "province": list(provinces)}
    anchored: dict[str, list[str]] = {}
    for group, (kind, _) in owners.items():
        for word in anchors.get(kind, ()):
            anchored.setdefault(_plain(_name_key(word), unaccented), []).append(group)
    w = {key: _words(v[key]) for key in _WORD_LISTS}
    return Rules(
        anchor=re.compile(trie_pattern(anchored) + r"(?!\w)"),
        anchored={word: tuple(groups) for word, groups in anchored.items()},
        patterns=patterns,
        everywhere=tuple(g for g, (kind, _) in owners.items() if kind not in anchors),
        owners=owners,
        negation=compile_(rf"(?<!\w)(?:{w['negators']})(?!\w)(?!\s+(?:{w['not_negating_after']})(?!\w))"),
        post_negation=compile_(rf"^\s*(?:\S+\s+)?(?:{w['post_negators']})(?!\w)"),
        question=compile_(
            rf"^\s*(?:\S+\s+){{0,3}}?(?:{w['question_tails']})(?:\s+(?:{w['question_particles']}))*\s*$"
        ),
        hedge=compile_(rf"(?<!\w)(?:{w['hedges']})(?!\w)"),
        post_correction=compile_(rf"(?<!\w)(?:{w['post_corrections']})(?!\w)"),
        origin=compile_(rf"(?<!\w)(?:{w['origin_markers']})\s*$"),
        gap=compile_(rf"(?:\s|(?<!\w)(?:{w['subject_gap']})(?!\w))*"),
        joiner=compile_(rf"\s*(?:{w['joiners']})\s*"),
        object_gap=compile_(_OBJECT_GAP),
        clause_break=compile_(_CLAUSE_BREAK),
        sentence_end=re.compile(_SENTENCE_END),
        regions=_keyed(regions, unaccented),
        provinces=_keyed(provinces, unaccented),
        current=compile_(rf"(?<!\w)(?:{w['current_markers']})(?!\w)"),
        past=compile_(rf"(?<!\w)(?:{w['past_markers']})(?!\w)"),
        conditional=compile_(rf"(?<!\w)(?:{w['conditionals']})(?!\w)"),
        conditional_hedge=compile_(rf"(?<!\w)(?:{w['conditional_hedges']})(?!\w)"),
        confirmation=compile_(rf"(?<!\w)(?:{w['confirmations']})(?!\w)"),
        generic=compile_(rf"(?<!\w)(?:{w['generic_subjects']})\s*$"),
        negation_reach=v["negation_reach"],
    )


def _keyed(names: dict[str, str], unaccented: bool) -> dict[str, str]:
    """Key a name map by the folded (and, for unaccented text, stripped) spelling."""
    return {_plain(_name_key(name), unaccented): value for name, value in names.items()}


def _destination_of(target: Mention | str) -> Destination | None:
    key = target if isinstance(target, str) else target.entry.dest
    return load_facts().by_key(key) if key else None


def _out_of_range(match: re.Match, group: str, bounds: tuple[float, float] | None, unaccented: bool) -> bool:
    if bounds is None:
        return False
    try:
        value = parse_number(match.group(f"{group}_num").rstrip(".,"))
    except ValueError:
        return False
    low, high = bounds
    v = _vocabulary()
    qualifier = match.group(f"{group}_qual") or ""
    if qualifier in {_plain(q, unaccented) for q in v["lower_bound_qualifiers"]}:
        return value >= high
    if qualifier in {_plain(q, unaccented) for q in v["upper_bound_qualifiers"]}:
        return value <= low
    return not low <= value <= high


def _violates(match: re.Match, group: str, d: Destination, rules: Rules, unaccented: bool) -> bool:
    """Return True if the claim matched by group is false for destination d."""
    kind, owner = rules.owners[group]
    if kind in ("sea", "sea_object"):
        return d.sea is False
    if kind == "snow":
        return not d.snow
    if kind == "snow_all_year":
        return True
    if kind == "season":
        return _wrong_season(match, group, d, unaccented)
    if kind == "hot":
        return d.climate in _vocabulary()["cool_climates"]
    if kind == "forbidden":
        return d.key == owner
    if kind == "region":
        wrong = {_plain(_name_key(r), unaccented) for r in d.wrong_regions}
        return _name_key(match.group(f"{group}_target")) in wrong
    if kind == "province":
        claimed = rules.provinces.get(_name_key(match.group(f"{group}_target")))
        return claimed is not None and claimed not in d.provinces
    if kind == "coast":
        return d.sea is True
    if kind == "island":
        return not d.island
    if kind == "mainland":
        return d.island
    if kind == "capital":
        return _wrong_capital(match, group, d, rules, unaccented)
    if kind == "altitude":
        return _out_of_range(match, group, d.altitude_m, unaccented)
    if kind == "mean_temp":
        return _out_of_range(match, group, d.mean_temp_c, unaccented)
    if kind == "peak_temp":
        return d.max_temp_c is not None and _out_of_range(match, group, (-10, d.max_temp_c), unaccented)
    return False


def _months(first: int, last: int) -> set[int]:
    """Return the months from first to last, wrapping past December."""
    return {(first - 1 + i) % 12 + 1 for i in range((last - first) % 12 + 1)}


def _wrong_season(match: re.Match, group: str, d: Destination, unaccented: bool) -> bool:
    """Return True if most months claimed for the rainy or dry season are not in it (a lone month: not next to it)."""
    if d.rainy_months is None:
        return False
    first, last = int(match.group(f"{group}_a")), int(match.group(f"{group}_b") or match.group(f"{group}_a"))
    if not (1 <= first <= 12 and 1 <= last <= 12):
        return False
    rainy = _months(*d.rainy_months)
    season = rainy if match.group(f"{group}_season") == _plain("mưa", unaccented) else set(range(1, 13)) - rainy
    claimed = _months(first, last)
    if len(claimed) == 1:
        near = season | {m % 12 + 1 for m in season} | {(m - 2) % 12 + 1 for m in season}
        return not claimed <= near
    return len(claimed & season) * 2 < len(claimed)


def _wrong_capital(match: re.Match, group: str, d: Destination, rules: Rules, unaccented: bool) -> bool:
    """Return True if d is not the capital the claim makes it: of the country, or of the province named."""
    title = match.group(f"{group}_title")
    country = title in {_plain(t, unaccented) for t in _vocabulary()["national_capitals"]}
    if country:
        return _vocabulary()["country"] not in d.seat_of
    target = match.group(f"{group}_target")
    if target:
        return rules.provinces.get(_name_key(target)) not in d.seat_of
    return not [seat for seat in d.seat_of if seat != _vocabulary()["country"]]


def _word_start(text: str, start: int) -> bool:
    return start == 0 or not (text[start - 1].isalnum() or text[start - 1] == "_")


def _matches(folded: str, rules: Rules) -> list[tuple[str, re.Match]]:
    """Return every claim match, in text order: each anchored pattern is tried only around its anchors."""
    found: dict[tuple[int, int, str], re.Match] = {}
    for hit in rules.anchor.finditer(folded):
        if not _word_start(folded, hit.start()):
            continue
        low = folded.rfind(" ", 0, max(0, hit.start() - _WINDOW)) + 1
        high = folded.find(" ", min(len(folded), hit.end() + _WINDOW))
        for group in rules.anchored.get(_name_key(hit.group(0)), ()):
            for match in rules.patterns[group].finditer(folded, low, len(folded) if high < 0 else high):
                if match.start() < hit.end() and match.end() > hit.start():
                    found.setdefault((*match.span(), group), match)
    for group in rules.everywhere:
        found.update(((*m.span(), group), m) for m in rules.patterns[group].finditer(folded))
    return [(group, found[key]) for key in sorted(found) for group in [key[2]] if _word_start(folded, key[0])]


def _claims(text: str, fallback: str, asserted_only: bool):
    """Yield every false claim in text as a Finding, optionally only those asserted."""
    text_scan = scan(text)
    rules = _rules(text_scan.unaccented)
    matches = _matches(text_scan.text, rules)
    placed = placements(text_scan)
    reader = Reader(text_scan, rules, fallback) if matches or placed else None
    for landmark, place, start, end in placed:
        if not asserted_only or reader.asserted(start, end):
            yield Finding("landmark", place.entry.dest, text_scan.text[start:end])
    for group, match in matches:
        kind = rules.owners[group][0]
        start, end = match.span()
        if kind in ("sea", "sea_object", "coast") and reader.generic(start):
            continue  # "các tỉnh ven biển" is pinned on no place
        for target in reader.targets(start, end, _MODES[kind]):
            d = _destination_of(target)
            if d is None:
                continue
            finding = Finding(kind, d.key, match.group(0))
            denied = reader.denied(start, end) if asserted_only else reader.negated(start, end)
            if kind in _DENIED:
                if denied and _violates(match, group, d, rules, text_scan.unaccented):
                    yield finding
                continue
            if kind in _SYMMETRIC and denied:
                if _SYMMETRIC[kind](d):
                    yield finding  # denying what is true: "Phú Quốc không phải là đảo"
                continue
            if not _violates(match, group, d, rules, text_scan.unaccented):
                if kind == "province" and _former(match, group, d, rules) and reader.current(start, end):
                    yield Finding("province", d.key, match.group(0))  # "Hội An hiện nay vẫn thuộc Quảng Nam"
                continue
            if asserted_only and not reader.asserted(start, end):
                continue
            yield finding


def _former(match: re.Match, group: str, d: Destination, rules: Rules) -> bool:
    """Return True if the province claimed is one the destination belonged to before 2025, not its province now."""
    claimed = rules.provinces.get(_name_key(match.group(f"{group}_target")))
    return claimed is not None and claimed != d.province and claimed in d.former


@cache
def _fallback_key(place: str) -> str:
    destination = load_facts().by_name(place) if place else None
    return destination.key if destination else ""


def contradiction(text: str, place: str = "") -> Finding | None:
    """Return the first asserted claim in text that contradicts the facts, or None; place is the default subject."""
    found = _contradiction(_essential(text), place)
    if found:
        return found
    # Whether a text is typed with diacritics is decided per sentence too: an unaccented sentence slipped into an
    # accented answer is read unaccented on its own.
    unaccented = scan(text).unaccented
    for part in sentences(text):
        if is_unaccented(fold(part)) != unaccented:
            found = _contradiction(part, place)
            if found:
                return found
    return None


@lru_cache(maxsize=65536)
def _contradiction(text: str, place: str) -> Finding | None:
    return next(_claims(text, _fallback_key(place), asserted_only=True), None)


def _essential(text: str) -> str:
    """Drop the sentences that name no place and hold no claim word, which cannot change a finding."""
    # Attribution, negation and questions never reach across such a sentence, so the finding is the same as for
    # the whole text; and the variants of one seed, which differ in greetings and closing offers, mostly reduce to
    # one text whose finding is computed once.
    parts = sentences(text)
    if len(parts) < 2:
        return text
    return "\n".join(part for part in parts if not _inert(part))


@lru_cache(maxsize=65536)
def _inert(sentence: str) -> bool:
    text_scan = scan(sentence)
    return not text_scan.mentions and not _matches(text_scan.text, _rules(text_scan.unaccented))


@lru_cache(maxsize=65536)
def premises(text: str, place: str = "") -> frozenset[str]:
    """Return the kinds of false claims text makes or asks about (a question's premise), asserted or not."""
    return frozenset(finding.reason for finding in _claims(text, _fallback_key(place), asserted_only=False))
