"""Count what a run kept and dropped, for the printed summary and the saved report."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from augment.quality.diversity import diversity
from augment.records import Sample
from augment.text import amounts

if TYPE_CHECKING:
    from augment.pipeline import Outcome


# The provenance fields the report counts samples by, as by_intent, by_place, ...
_COUNTED = ("intent", "place", "generator", "method", "register")


def _count(values: Iterable[str]) -> dict[str, int]:
    """Count values, most common first, ties by name."""
    counts = Counter(values)
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


@dataclass
class RunReport:
    """The run summary saved as report.json and printed at the end: settings, what was written and dropped, usage."""

    target: int
    seeds: int
    n: int
    random_seed: int
    primary: str  # "offline" or "gemini"
    written: int
    counts: dict[str, dict[str, int]]  # by_intent, by_place, by_generator, by_method, by_register, by_grounding
    dropped: dict[str, int]
    fallbacks: dict[str, int]
    diversity: dict
    grounding: dict = field(default_factory=dict)  # grounding_summary: share, counts, price lines' memorised figures
    api: dict = field(default_factory=dict)  # a Gemini run: model, api_calls, cache_hits, tokens, failed_attempts, served_models, cost_usd, fallback_share
    batch: dict | None = None  # with --batch: the job's summary
    files: BundleSummary | None = None

    def as_dict(self) -> dict:
        """Return the report as report.json holds it (key order included)."""
        report = {
            "target": self.target, "seeds": self.seeds, "n": self.n, "random_seed": self.random_seed, "primary": self.primary,
            **self.api,
            **({"batch": self.batch} if self.batch is not None else {}),
            "written": self.written,
            **self.counts,
            "dropped": self.dropped,
            "fallbacks": self.fallbacks,
            "diversity": self.diversity,
            **self.grounding,
        }
        if self.files is not None:
            report |= {"formats": self.files.formats, "files": self.files.lines}
            report |= {"split": self.files.split} if self.files.split else {}
            report["example_tokens"] = self.files.example_tokens
        return report


@dataclass(frozen=True)
class BundleSummary:
    """What the written files hold: formats, lines per file, the split's sizes, tokens per example in each encoding."""

    formats: list[str]
    lines: dict[str, int]  # file name -> lines
    split: dict
    example_tokens: dict[str, dict]  # encoding -> statistics (tokens.token_stats), the main file's primary first


def build_report(
    outcome: Outcome, settings: dict, api: dict | None = None, batch: dict | None = None, files: BundleSummary | None = None
) -> RunReport:
    """Return the run summary of an outcome (settings: target, seeds, n, random_seed, primary)."""
    selected = outcome.selected
    metas = [sample.meta() for sample in selected]  # built once for all the counts
    counts = {f"by_{field}": _count(meta[field] for meta in metas) for field in _COUNTED}
    counts["by_grounding"] = _count(sample.grounding or "plain" for sample in selected)
    if any(sample.misconception for sample in selected):
        counts["by_misconception"] = _count(sample.misconception for sample in selected if sample.misconception)
    return RunReport(
        **settings,
        written=len(selected),
        counts=counts,
        dropped=dict(sorted(outcome.dropped.items())),
        fallbacks=dict(sorted(outcome.fallbacks.items())),
        diversity=diversity(selected, outcome.fingerprints),
        grounding=grounding_summary(selected),
        api=api or {},
        batch=batch,
        files=files,
    )


def summary_lines(run: RunReport) -> list[str]:
    """Return the short human summary printed at the end of a run."""
    report = run.as_dict()
    lines = [f"wrote {report['written']} of {report['target']} samples from {report['seeds']} seeds"]
    for key in ("by_intent", "by_generator", "by_register", "by_grounding", "by_misconception", "dropped", "fallbacks", "failed_attempts"):
        if report.get(key):
            parts = ", ".join(f"{name} {count}" for name, count in report[key].items())
            lines.append(f"  {key.replace('_', ' ')}: {parts}")
    if report.get("diversity"):
        d = report["diversity"]
        lines.append(
            f"  diversity of user turns: distinct-1 {d['distinct_1']:.2f}, distinct-2 {d['distinct_2']:.2f}, "
            f"similarity within a seed mean {d['mean_similarity_within_seed']:.2f} max {d['max_similarity_within_seed']:.2f}"
        )
    if report.get("grounding"):
        g, p = report["grounding"], report["price_seed_figures"]
        lines.append(
            f"  grounded share {g['share']:.2f} ({g['grounded']} with figures from the context, {g['no_figure']} without "
            f"the price, {g['several_passages']} with several passages); price lines stating the seed's own figures "
            f"without a context: {p['lines']} of {p['of']} ({p['share']:.0%})"
        )
    if "api_calls" in report:
        lines.append(_usage_line(report))
    if report.get("served_models"):
        lines.append("  replies served by: " + ", ".join(f"{name} {count}" for name, count in report["served_models"].items()))
    return lines


def _usage_line(report: dict) -> str:
    """Return the line on API calls, tokens (thinking included) and what they cost."""
    tokens = report.get("tokens", {})
    cost = report.get("cost_usd")
    money = "cost unknown (model not in the catalogue)" if cost is None else f"cost ${cost:.4f} USD"
    return (f"  {report['model']}: {report['api_calls']} API calls, {report['cache_hits']} cache hits, "
            f"{tokens.get('total', 0)} tokens ({tokens.get('thoughts', 0)} of them thinking), {money}")


def fallback_share(samples: Sequence[Sample]) -> float:
    """Return the share of samples made offline because Gemini failed for their seed (0 for an empty list)."""
    fallen = sum(1 for sample in samples if sample.generator == "offline" and sample.fallback)
    return fallen / len(samples) if samples else 0.0


def grounding_summary(samples: Sequence[Sample]) -> dict:
    """Return the grounded share and counts, and the price lines that repeat their seed's prices without a context."""
    grounded = [sample for sample in samples if sample.grounding]
    price = [sample for sample in samples if sample.seed.intent == "price"]
    memorised = [sample for sample in price if not sample.context and _seed_prices(sample.seed.answer) & amounts(sample.assistant)]
    return {
        "grounding": {
            "share": round(len(grounded) / len(samples), 4) if samples else 0.0,
            "grounded": sum(sample.grounding == "grounded" for sample in grounded),
            "no_figure": sum(sample.grounding == "no-figure" for sample in grounded),
            "several_passages": sum("\n[2] " in sample.context for sample in grounded),
            "price_from_context": sum(sample.grounding == "grounded" for sample in price),
        },
        "price_seed_figures": {
            "lines": len(memorised), "of": len(price), "share": round(len(memorised) / len(price), 4) if price else 0.0,
        },
    }


def _seed_prices(answer: str) -> frozenset[float]:
    """Return the seed answer's prices: its amounts of a thousand or more (đồng)."""
    return frozenset(value for value in amounts(answer) if value >= 1000)
