"""Count what a run kept and dropped, for the printed summary and the saved report."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from augment.quality.dedup import Fingerprint
from augment.quality.diversity import diversity
from augment.records import Sample


# The provenance fields the report counts samples by, as by_intent, by_place, ...
_COUNTED = ("intent", "place", "generator", "method", "register")


def _count(values: Iterable[str]) -> dict[str, int]:
    """Count values, most common first, ties by name."""
    counts = Counter(values)
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def build_report(
    selected: list[Sample], dropped: Counter, fallbacks: Counter, fingerprints: Mapping[str, Fingerprint] | None = None, **run: object
) -> dict:
    """Return the run summary: settings, counts of what was written and dropped (fingerprints: of the user turns, if known)."""
    metas = [sample.meta() for sample in selected]  # built once for all the counts
    return {
        **run,
        "written": len(selected),
        **{f"by_{field}": _count(meta[field] for meta in metas) for field in _COUNTED},
        "by_grounding": _count(sample.grounding or "plain" for sample in selected),
        "dropped": dict(sorted(dropped.items())),
        "fallbacks": dict(sorted(fallbacks.items())),
        "diversity": diversity(selected, fingerprints),
    }


def summary_lines(report: dict) -> list[str]:
    """Return the short human summary printed at the end of a run."""
    lines = [f"wrote {report['written']} of {report['target']} samples from {report['seeds']} seeds"]
    for key in ("by_intent", "by_generator", "by_register", "by_grounding", "dropped", "fallbacks", "failed_attempts"):
        if report.get(key):
            parts = ", ".join(f"{name} {count}" for name, count in report[key].items())
            lines.append(f"  {key.replace('_', ' ')}: {parts}")
    if report.get("diversity"):
        d = report["diversity"]
        lines.append(
            f"  diversity of user turns: distinct-1 {d['distinct_1']:.2f}, distinct-2 {d['distinct_2']:.2f}, "
            f"similarity within a seed mean {d['mean_similarity_within_seed']:.2f} max {d['max_similarity_within_seed']:.2f}"
        )
    if "api_calls" in report:
        tokens = report.get("tokens", {}).get("total", 0)
        lines.append(f"  {report['model']}: {report['api_calls']} API calls, {report['cache_hits']} cache hits, {tokens} tokens")
    return lines


def fallback_share(samples: Sequence[Sample]) -> float:
    """Return the share of samples made offline because Gemini failed for their seed (0 for an empty list)."""
    fallen = sum(1 for sample in samples if sample.generator == "offline" and sample.fallback)
    return fallen / len(samples) if samples else 0.0
