"""Shared fixtures: no test may reach the network or see a real API key."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from augment.generators.offline import OfflineGenerator
from augment.records import INTENTS
from augment.knowledge.seeds import load_seeds

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds" / "fine_tune.csv"
KEY_VARIABLES = ("GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_GEMINI_BASE_URL", "GOOGLE_GENAI_API_VERSION")


@pytest.fixture(autouse=True)
def no_network_keys(monkeypatch, tmp_path):
    """Remove API keys and endpoint overrides, and run each test from an empty folder (no stray .env)."""
    for name in KEY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def seeds():
    """Return the project's real seed file, loaded once."""
    return load_seeds(SEEDS)


@pytest.fixture(scope="module")
def ten_seeds():
    """Return two real seeds per intent."""
    seeds = load_seeds(SEEDS)
    return [seed for intent in INTENTS for seed in [s for s in seeds if s.intent == intent][:2]]


@pytest.fixture
def offline():
    """Return an offline generator with a fixed random seed."""
    return OfflineGenerator(random_seed=0)


def write_csv(path: Path, rows: list[list[str]], header=("id", "intent", "place", "question", "answer")) -> Path:
    """Write a seed CSV for a test and return its path."""
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        if header:
            writer.writerow(header)
        writer.writerows(rows)
    return path


def seed_file(path: Path, seeds) -> Path:
    """Write seeds back out as a seed CSV."""
    return write_csv(path, [[s.id, s.intent, s.place, s.question, s.answer] for s in seeds])


def digit_runs(text: str) -> list[str]:
    """Return every run of digits in text, sorted: equal lists mean no number was lost, added or changed."""
    return sorted(re.findall(r"\d+", text))


@pytest.fixture(scope="session")
def default_output(tmp_path_factory) -> Path:
    """Return the training file of one default offline run (with its review page beside it), made once per session."""
    from augment.run import main

    out = tmp_path_factory.mktemp("default") / "out" / "fine_tune.jsonl"
    assert main(["--seeds", str(SEEDS), "--out", str(out), "--offline", "--quiet"]) == 0
    return out
