"""Vietnamese text helpers: NFC, comparison keys, diacritic stripping, syllable n-grams."""

from __future__ import annotations

import re
import unicodedata

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\ufeff"))
_LOOKALIKES = str.maketrans({"Ð": "Đ", "ð": "đ", "\u00a0": " "})
# Old-style tone placement ("hoà", "thuỷ") -> new style ("hòa", "thủy"), so both spellings share one key.
_TONE_STYLE = {
    "oà": "òa", "oá": "óa", "oả": "ỏa", "oã": "õa", "oạ": "ọa",
    "oè": "òe", "oé": "óe", "oẻ": "ỏe", "oẽ": "õe", "oẹ": "ọe",
    "uỳ": "ùy", "uý": "úy", "uỷ": "ủy", "uỹ": "ũy", "uỵ": "ụy",
}
_TONE_RE = re.compile("|".join(_TONE_STYLE), re.IGNORECASE)
_REPEATS = re.compile(r"(\w)\1{2,}")
_NON_WORD = re.compile(r"[^\w\s]|_")
_SPACES = re.compile(r"\s+")


def nfc(text: str) -> str:
    """Return text in NFC with look-alike letters and invisible characters fixed."""
    return unicodedata.normalize("NFC", text).translate(_LOOKALIKES).translate(_INVISIBLE)


def strip_diacritics(text: str) -> str:
    """Remove Vietnamese diacritics, including the đ that NFD does not decompose."""
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", bare).replace("đ", "d").replace("Đ", "D")


def _fix_tone_style(text: str) -> str:
    return _TONE_RE.sub(lambda m: _TONE_STYLE.get(m.group(0).lower(), m.group(0)), text)


def exact_key(text: str) -> str:
    """Return the accented comparison key: NFC, casefolded, punctuation and spacing folded."""
    text = _fix_tone_style(nfc(text).casefold())
    text = _NON_WORD.sub(" ", text)
    text = _REPEATS.sub(r"\1", text)
    return _SPACES.sub(" ", text).strip()


def loose_key(text: str) -> str:
    """Return the unaccented key used for near-duplicate detection."""
    return strip_diacritics(exact_key(text))


def syllables(text: str) -> list[str]:
    """Split a key into syllables (Vietnamese writes one syllable per space-separated token)."""
    return text.split()


def shingles(text: str, size: int = 2) -> set[str]:
    """Return the syllable unigrams and n-grams up to size of the loose key of text."""
    tokens = syllables(loose_key(text))
    grams = set(tokens)
    for width in range(2, size + 1):
        grams.update(" ".join(tokens[i : i + width]) for i in range(len(tokens) - width + 1))
    return grams


def jaccard(a: set[str], b: set[str]) -> float:
    """Return the Jaccard similarity of two sets (1.0 for two empty sets)."""
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def numbers(text: str) -> list[str]:
    """Return the numbers in text, thousands separators removed, in order."""
    return [m.replace(".", "").replace(",", "") for m in re.findall(r"\d+(?:[.,]\d{3})*", text)]
