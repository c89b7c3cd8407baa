"""The run manifest: what went in, what came out, how long it took, how it ended."""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

from augment import __version__
from augment.dataset.report import RunReport


def file_hash(data: bytes) -> str:
    """Return the sha256 hex digest of some bytes."""
    return hashlib.sha256(data).hexdigest()


def input_hashes(seeds_path: Path) -> dict[str, str]:
    """Hash the seed file, every prompt file and every data file that shapes the output."""
    hashes = {"seeds": file_hash(seeds_path.read_bytes())}
    for package, label in (("augment.prompts", "prompts"), ("augment.knowledge.data", "data")):
        for entry in sorted(resources.files(package).iterdir(), key=lambda e: e.name):
            if entry.name.endswith((".txt", ".toml")):
                hashes[f"{label}/{entry.name}"] = file_hash(entry.read_bytes())
    return hashes


def build_manifest(seeds_path: Path, flags: dict, run: RunReport, seconds: float, exit_status: int) -> dict:
    """Return the manifest written beside the outputs."""
    report = run.as_dict()
    return {
        "package_version": __version__,
        "inputs": input_hashes(seeds_path),
        "flags": flags,
        "model": report.get("model"),
        "counts": {key: report[key] for key in ("target", "written", "seeds") if key in report},
        "by_generator": report.get("by_generator", {}),
        "api_calls": report.get("api_calls", 0),
        "cache_hits": report.get("cache_hits", 0),
        "count_tokens_calls": report.get("count_tokens_calls", 0),  # Gemini countTokens for the Gemini file's counts
        "tokens": report.get("tokens", {}),  # Gemini API usage of the run, thinking ("thoughts") included
        "served_models": report.get("served_models", {}),  # replies per model that answered (modelVersion)
        "margin": report.get("margin", {}),  # extra variants asked on first requests, and their estimated output tokens
        "cost_usd": _cost(report),  # at the catalogue's prices of the serving model; None: unknown
        "example_tokens": _example_tokens(report.get("example_tokens", {})),
        "duration_seconds": round(seconds, 3),
        "exit_status": exit_status,
    }


def _cost(report: dict) -> float | None:
    """Return what the run spent in USD: its live calls plus a collected batch job (Batch prices); None if unknown."""
    costs = [report.get("cost_usd", 0.0), *([report["batch"].get("cost_usd", 0.0)] if report.get("batch") else [])]
    return None if None in costs else round(sum(costs), 6)


def _example_tokens(stats: dict[str, dict]) -> dict[str, dict]:
    """Return the main file's token totals per encoding, exact or estimate, as the card and report count them."""
    keys = ("counted", "total", "max", "over_limit", "limit")
    return {encoding: {key: entry[key] for key in keys} for encoding, entry in stats.items()}
