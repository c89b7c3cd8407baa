"""Estimate what a run would spend on Gemini, from its rendered prompts and the cache, without calling it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from augment.generators.gemini.batch import INLINE_LIMIT_BYTES, BatchJob, inline_size, plan_requests, state_path
from augment.generators.gemini.cache import ResponseCache
from augment.generators.gemini.models import checked_date, cost_usd, lookup, thinking_tokens
from augment.generators.gemini.settings import GeminiSettings
from augment.generators.gemini.margin import Margin
from augment.generators.gemini.plan import Request, RequestPlanner
from augment.records import Seed
from augment.dataset.tokens import estimate_tokens

# Output tokens of one variant beyond its question and answer: JSON keys and quotes, register and method labels.
_VARIANT_OVERHEAD = 25


@dataclass(frozen=True, slots=True)
class Estimate:
    """The calls and tokens a Gemini run would spend: one request per seed the cache does not cover."""

    seeds: int
    requests: list[Request]
    input_tokens: int
    output_tokens: int
    thinking_tokens: int


def variant_tokens(seed: Seed) -> int:
    """Estimate the output tokens of one variant of a seed: about its question and answer, plus the JSON around them."""
    return estimate_tokens(seed.question) + estimate_tokens(seed.answer) + _VARIANT_OVERHEAD


def estimate_run(planner: RequestPlanner, seeds: Sequence[Seed], wanted: int, cache: ResponseCache | None) -> Estimate:
    """Count the requests the run would send and estimate their input and output tokens."""
    requests = plan_requests(planner, seeds, wanted, cache)
    system = estimate_tokens(planner.system)
    return Estimate(
        seeds=len(seeds),
        requests=requests,
        input_tokens=sum(system + estimate_tokens(request.prompt) for request in requests),
        output_tokens=sum(request.n * variant_tokens(request.seed) for request in requests),
        thinking_tokens=len(requests) * thinking_tokens(planner.model),
    )


def dry_run_lines(
    settings: GeminiSettings, seeds: Sequence[Seed], wanted: int, out: Path, batch: bool,
    extra: tuple[Sequence[Seed], int] = ((), 0),
) -> list[str]:
    """Return what a Gemini run would spend, read from the cache without writing to it.

    extra holds more synthetic seeds and the variants asked of each (the misconception rows), counted in the total.
    """
    cache = ResponseCache.existing(settings.cache) if settings.cache else None
    try:
        planner = RequestPlanner(settings, Margin.load(cache))
        estimate = estimate_run(planner, seeds, wanted, cache)
        rows = estimate_run(planner, extra[0], extra[1], cache)
    finally:
        if cache is not None:
            cache.close()
    total = _plus(estimate, rows)
    calls = len(estimate.requests)
    lines = [
        f"dry run (nothing called, nothing written): {settings.model}, {estimate.seeds} seeds, {wanted} variants asked per seed",
        f"  served from the cache (free): {estimate.seeds - calls} seeds",
        f"  API calls: {calls}, one per other seed (retries and follow-ups after short replies add a few)",
        *_margin_lines(planner, estimate, wanted),
        *_rows_lines(rows, batch),
        f"  tokens, estimated (UTF-8 bytes / 3, errs high): input ~{total.input_tokens:,} from the rendered prompts, "
        f"output ~{total.output_tokens:,} (variants asked x typical variant size), "
        f"total ~{total.input_tokens + total.output_tokens:,}",
        _cost_line(settings.model, estimate, batch, live=rows),
    ]
    return lines + _batch_lines(estimate, planner.system, out, batch)


def _margin_lines(planner: RequestPlanner, estimate: Estimate, wanted: int) -> list[str]:
    """Return the line for the margin of extra variants on first requests, when earlier runs measured rejections."""
    extra = planner.margin.extra(wanted)
    if not extra or not estimate.requests:
        return []
    tokens = sum(max(0, request.n - wanted) * variant_tokens(request.seed) for request in estimate.requests)
    return [f"  margin: each seed's first request asks {extra} variants more than needed (rejection rate "
            f"{planner.margin.rate:.1%} measured by earlier runs), ~{tokens:,} of the output tokens below"]


def _rows_lines(rows: Estimate, batch: bool) -> list[str]:
    """Return the line for the misconception rows' calls, which are made live after the build (never batched)."""
    if not rows.requests:
        return []
    live = " live, outside the batch job," if batch else ""
    return [f"  misconception rows: {len(rows.requests)} more calls{live} for {rows.seeds} rows (in the tokens and cost below)"]


def _plus(a: Estimate, b: Estimate) -> Estimate:
    """Return two estimates added up."""
    return Estimate(
        a.seeds + b.seeds, a.requests + b.requests, a.input_tokens + b.input_tokens,
        a.output_tokens + b.output_tokens, a.thinking_tokens + b.thinking_tokens,
    )


def _cost_line(model: str, estimate: Estimate, batch: bool, live: Estimate | None = None) -> str:
    """Return the estimated cost in USD: input, output and thinking tokens at the catalogue's prices.

    live holds calls made at the standard price even in a --batch run (the misconception rows).
    """
    info = lookup(model)
    if info is None:
        return f"  cost: unknown, {model} is not in the model catalogue (knowledge/data/models.toml)"
    price_in, price_out = info.prices(batch)
    spend = cost_usd(model, estimate.input_tokens, estimate.output_tokens + estimate.thinking_tokens, batch)
    if live is not None:
        spend += cost_usd(model, live.input_tokens, live.output_tokens + live.thinking_tokens, False)
        estimate = _plus(estimate, live)
    kind = "Batch" if batch else "standard"
    return (
        f"  cost, estimated: ~${spend:.4f} USD at {model}'s {kind} prices (catalogue checked {checked_date()}): "
        f"input ~{estimate.input_tokens:,} x ${price_in:g}/1M + output ~{estimate.output_tokens:,} and thinking "
        f"~{estimate.thinking_tokens:,} ({info.paraphrase_thinking}) x ${price_out:g}/1M"
    )


def _batch_lines(estimate: Estimate, system: str, out: Path, batch: bool) -> list[str]:
    job = BatchJob.load(state_path(out))
    if job:
        return [f"  batch: {job.name} ({len(job.keys)} requests, submitted {job.submitted}) is not collected yet; "
                "a --batch run collects it before calling live"]
    if not batch or not estimate.requests:
        return []
    size = inline_size(estimate.requests, system)
    return [f"  --batch: these {len(estimate.requests)} requests would go in one batch job at half the price "
            f"({size / 1e6:.1f} MB of the {INLINE_LIMIT_BYTES / 1e6:g} MB inline limit)"]


def offline_lines(reason: str, stops: bool = False) -> list[str]:
    """Return the dry-run answer of a run that would not call Gemini (stops: it would exit 1 instead, --no-fallback)."""
    outcome = "stop with exit 1 (--no-fallback)" if stops else "build offline"
    return [f"dry run (nothing called, nothing written): {reason}: the run would {outcome} and spend nothing (0 API calls, 0 tokens)"]
