"""Vietnamese text helpers: NFC, comparison keys, diacritic stripping, syllable n-grams."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence, Set as AbstractSet
from functools import lru_cache

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\ufeff"))
_LOOKALIKES = str.maketrans({"Ð": "Đ", "ð": "đ", "\u00a0": " "})
# Old-style tone placement ("hoà", "thuỷ") -> new style ("hòa", "thủy"), so both spellings share one key.
_TONE_STYLE = {
    "oà": "òa", "oá": "óa", "oả": "ỏa", "oã": "õa", "oạ": "ọa",
    "oè": "òe", "oé": "óe", "oẻ": "ỏe", "oẽ": "õe", "oẹ": "ọe",
    "uỳ": "ùy", "uý": "úy", "uỷ": "ủy", "uỹ": "ũy", "uỵ": "ụy",
}
# Only at the end of a syllable: with a final consonant both styles agree ("hoàng", "khoảng", "quýt").
# Applied to casefolded text only, so the pattern is case-sensitive (ten times faster than IGNORECASE).
_TONE_RE = re.compile("(?:" + "|".join(_TONE_STYLE) + r")(?!\w)")
# A letter stretched three or more times ("quáaaa", "điiii"); Vietnamese never repeats a letter thrice, and
# digits are left alone ("1000" is not "10").
_REPEATS = re.compile(r"([^\W\d_])\1{2,}")
# A stretch always repeats one letter exactly somewhere ("quáaaa", "đẹppp"); a run like "áàạ" is not taken for one.
_DOUBLED = re.compile(r"([^\W\d_])\1")
_NON_WORD = re.compile(r"[^\w\s]|_")


_ODD_RE = re.compile("[\u00d0\u00f0\u00a0\u200b\u200c\u200d\ufeff]")
# Latin letters and combining marks: text made only of these can drop its diacritics by table lookup.
_LATIN_RE = re.compile("[^\u0000-\u024f\u0300-\u036f\u1e00-\u1eff]")


def nfc(text: str) -> str:
    """Return text in NFC with look-alike letters and invisible characters fixed."""
    if not unicodedata.is_normalized("NFC", text):  # the check is much cheaper than normalising
        text = unicodedata.normalize("NFC", text)
    if _ODD_RE.search(text):
        text = text.translate(_LOOKALIKES).translate(_INVISIBLE)
    return text


def _strip_slowly(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", bare).replace("đ", "d").replace("Đ", "D")


def _strip_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {code: None for code in range(0x0300, 0x0370)}
    for code in [*range(0x00C0, 0x0250), *range(0x1E00, 0x1F00)]:
        stripped = _strip_slowly(chr(code))
        if stripped != chr(code) and len(stripped) == 1:
            table[code] = stripped
    return table


_STRIP_TABLE = _strip_table()


def strip_diacritics(text: str) -> str:
    """Remove Vietnamese diacritics, including the đ that NFD does not decompose."""
    if _LATIN_RE.search(text):  # other scripts or symbols: let Unicode decide
        return _strip_slowly(text)
    return unicodedata.normalize("NFC", text).translate(_STRIP_TABLE)


def _fix_tone_style(folded: str) -> str:
    return _TONE_RE.sub(lambda m: _TONE_STYLE[m.group(0)], folded)


def fold(text: str) -> str:
    """Return NFC, casefolded text in one tone style, punctuation and spacing kept."""
    return _fix_tone_style(nfc(text).casefold())


def _squeeze(text: str) -> str:
    """Squeeze stretched letters, marked or not: "quáaaa" -> "quá", "đẹpppp" -> "đẹp"."""
    if not _DOUBLED.search(text):  # most text has no stretched letter: skip stripping it to look for one
        return text
    bare = strip_diacritics(text)
    if len(bare) != len(text):  # decomposition changed lengths: squeeze exact repeats only
        return _REPEATS.sub(r"\1", text)
    pieces, last = [], 0
    for run in _REPEATS.finditer(bare):
        start, end = run.span()
        marked = next((ch for ch in text[start:end] if ch != run.group(1)), text[start])
        pieces += [text[last:start], marked]
        last = end
    return "".join(pieces) + text[last:] if pieces else text


@lru_cache(maxsize=1 << 17)  # gates and dedup key the same turns, and offline answers repeat across variants
def exact_key(text: str) -> str:
    """Return the accented comparison key: NFC, casefolded, punctuation and spacing folded."""
    text = _fix_tone_style(nfc(text).casefold())
    text = _NON_WORD.sub(" ", text)
    return " ".join(_squeeze(text).split())  # split() takes the same whitespace as \s, and is faster than a regex


def loose_key(text: str) -> str:
    """Return the unaccented key used for near-duplicate detection."""
    return strip_diacritics(exact_key(text))


def syllables(text: str) -> list[str]:
    """Split a key into syllables (Vietnamese writes one syllable per space-separated token)."""
    return text.split()


@lru_cache(maxsize=1 << 16)  # the offline generator and dedup take the n-grams of the same turns
def shingles(text: str, size: int = 2) -> frozenset[str]:
    """Return the syllable unigrams and n-grams up to size of the loose key of text."""
    tokens = syllables(loose_key(text))
    grams = set(tokens)
    for width in range(2, size + 1):
        grams.update(map(" ".join, zip(*(tokens[i:] for i in range(width)))))  # the n-grams, joined in C
    return frozenset(grams)


def shingles_around(before: Sequence[str], middle: Sequence[str], middle_grams: frozenset[str], after: Sequence[str]) -> frozenset[str]:
    """Return the 1-2-grams of the syllables before + middle + after, given the middle's own (middle not empty)."""
    # Equal to shingles() of a text whose loose key splits into those syllables: only the syllables around the
    # middle and the bigrams they form, the two joins included, are new, so a long middle is taken apart once.
    head, tail = (*before, middle[0]), (middle[-1], *after)
    return middle_grams.union(before, after, map(" ".join, zip(head, head[1:])), map(" ".join, zip(tail, tail[1:])))


def stretched(text: str) -> bool:
    """Return True if text stretches a letter ("quáaaa"), which exact_key squeezes."""
    return _REPEATS.search(strip_diacritics(text.casefold())) is not None  # keys are casefolded: "AAa" stretches


def jaccard(a: AbstractSet[str], b: AbstractSet[str]) -> float:
    """Return the Jaccard similarity of two sets (1.0 for two empty sets)."""
    if not a and not b:
        return 1.0
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared)


# Units with and without diacritics ("2 triệu", "2 trieu"); "ngân" is not "ngan" because the text keeps its marks.
_AMOUNT_RE = re.compile(
    r"(\d+(?:[.,]\d+)*)(?:(k)(?!\w)|\s*(nghìn|ngàn|triệu|tr|củ|tỷ|nghin|ngan|trieu|cu|ty)(?!\w))?", re.IGNORECASE
)
_MULTIPLIERS = {"k": 1e3, "nghìn": 1e3, "ngàn": 1e3, "triệu": 1e6, "tr": 1e6, "củ": 1e6, "tỷ": 1e9}
_MULTIPLIERS |= {"nghin": 1e3, "ngan": 1e3, "trieu": 1e6, "cu": 1e6, "ty": 1e9}


def parse_number(text: str) -> float:
    """Parse a number as Vietnamese writes it: "1.500" and "1,500" are 1500, "1,5" and "1.5" are 1.5."""
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", text):
        return float(re.sub(r"[.,]", "", text))
    return float(text.replace(",", ".", 1).replace(",", ""))


@lru_cache(maxsize=1 << 16)  # answers repeat across the variants of a seed
def amounts(text: str) -> frozenset[float]:
    """Return the values of the numbers in text, so "250k", "250.000" and "250 nghìn" compare equal."""
    return frozenset(value for _, _, value in amount_spans(nfc(text)))


def amount_spans(text: str) -> list[tuple[int, int, float]]:
    """Return (start, end, value) of each number in text as amounts() reads it, unit included ("250k")."""
    spans = []
    for match in _AMOUNT_RE.finditer(text):
        unit = (match.group(2) or match.group(3) or "").casefold()
        try:
            value = round(parse_number(match.group(1).rstrip(".,")) * _MULTIPLIERS.get(unit, 1), 6)
        except ValueError:
            continue
        spans.append((match.start(), match.end(), value))
    return spans


# A sentence ends at . ! ? after a small letter, digit or closing bracket ("TP. HCM" is a name), or at a line break.
_LOWER = frozenset(
    "abcdefghijklmnopqrstuvwxyzàáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ0123456789)\"”"
)
_BREAK_RE = re.compile(r"[.!?]\s+|\n")  # starts with a character class, so re skips ahead fast


@lru_cache(maxsize=65536)  # every answer check splits the same answer
def sentences(text: str) -> tuple[str, ...]:
    """Split text into sentences at line breaks and at . ! ? after a small letter or digit ("TP. HCM" stays)."""
    pieces, start = [], 0
    for gap in _BREAK_RE.finditer(text):
        at = gap.start()
        if text[at] == "\n" or (at and text[at - 1] in _LOWER):
            pieces.append(text[start : at if text[at] == "\n" else at + 1])
            start = gap.end()
        elif "\n" in gap.group(0):  # "TP.\n": not a sentence end, still a line break
            pieces.append(text[start : at + 1])
            start = gap.end()
    pieces.append(text[start:])
    return tuple(piece.strip() for piece in pieces if piece.strip())


# Characters no training text should hold: C0 and C1 controls (newline and tab aside), format characters
# (zero-width, bidi marks, overrides and isolates, the BOM, soft hyphen, tags) and the line/paragraph separators.
# They are invisible in an editor and teach the model to emit them.
_BAD_CHAR_RE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f"
    "\ufeff\ufff9-\ufffb\U000e0001-\U000e007f]"
)


def bad_characters(text: str) -> list[tuple[int, str]]:
    """Return (1-based position, character) of each control, zero-width, bidi or separator character in text."""
    return [(match.start() + 1, match.group()) for match in _BAD_CHAR_RE.finditer(text)]


def code_point(char: str) -> str:
    """Return a character's code point and name for a message, e.g. 'U+200B ZERO WIDTH SPACE'."""
    return f"U+{ord(char):04X} {unicodedata.name(char, 'control character')}"
