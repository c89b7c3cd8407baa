"""Gemini Batch mode for scheduled runs: submit the uncached requests as one job, remember it, collect it later."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from augment.generators.gemini.cache import ResponseCache
from augment.errors import BatchPending, InputError, RunError
from augment.dataset.export import sibling, write_atomically
from augment.generators.gemini.batch_api import BatchCallFailed, BatchReply, BatchStatus, GeminiBatches
from augment.generators.gemini.client import GeminiGenerator
from augment.generators.gemini.models import cost_usd
from augment.generators.gemini.margin import Margin
from augment.generators.gemini.plan import Request, RequestPlanner
from augment.generators.gemini.replies import answer_record, junk_record
from augment.generators.variants import parse_variants
from augment.records import Seed

log = logging.getLogger("augment")

# Inline batch requests are limited to about 20 MB in total; a bigger job would need a JSONL upload (Files API).
INLINE_LIMIT_BYTES = 20_000_000
_COLLECT = {"SUCCEEDED", "PARTIALLY_SUCCEEDED"}
_GIVE_UP = {"FAILED", "CANCELLED", "EXPIRED", "NOT_FOUND"}


@dataclass(frozen=True, slots=True)
class BatchOptions:
    """How long this run waits for the job, and how often it asks."""

    wait: float = 0.0
    poll: float = 30.0


@dataclass(frozen=True, slots=True)
class BatchJob:
    """A submitted job as remembered between runs: name, model, submission time and its requests' cache keys."""

    name: str
    model: str
    submitted: str
    keys: list[str]

    @classmethod
    def load(cls, path: Path) -> BatchJob | None:
        """Read the state file, or return None if there is none."""
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(str(data["name"]), str(data["model"]), str(data.get("submitted", "")), [str(k) for k in data["keys"]])
        except (ValueError, KeyError, TypeError) as error:
            raise RunError(f"{path}: unreadable batch state ({error}); delete it to submit a new batch job") from None

    def save(self, path: Path) -> None:
        """Write the state file atomically."""
        write_atomically({path: json.dumps(asdict(self), indent=2) + "\n"})


def state_path(out: Path) -> Path:
    """Return the file beside the outputs that remembers a submitted job, e.g. fine_tune.batch.json."""
    return sibling(out, "batch.json")


def plan_requests(planner: RequestPlanner, seeds: Sequence[Seed], wanted: int, cache: ResponseCache | None) -> list[Request]:
    """Return, per seed, the first request the live path would not find in the cache (none if it finds them all)."""
    return [request for seed in seeds if (request := planner.next_uncached(seed, wanted, cache))]


def inline_size(requests: Sequence[Request], system: str) -> int:
    """Return about how many bytes the requests take inline: prompt, system instruction and config, JSON-escaped."""
    # The SDK escapes non-ASCII characters, so Vietnamese text counts up to 6 bytes a character here, as on the wire.
    return sum(len(json.dumps([request.prompt, system, request.params, request.key])) + 200 for request in requests)


def prepare_batch(generator: GeminiGenerator, seeds: Sequence[Seed], wanted: int, out: Path, options: BatchOptions) -> dict:
    """Get a batch job's replies into the cache, submitting one if none is recorded; raise BatchPending while it runs."""
    path = state_path(out)
    job = BatchJob.load(path)
    with ResponseCache(generator.settings.cache) as cache:
        planner = RequestPlanner(generator.settings, Margin.load(cache))  # the live path's first requests, margin included
        requests = [] if job else plan_requests(planner, seeds, wanted, cache)
        if not job and not requests:
            log.info("batch: every request is in the cache already; nothing to submit")
            return {"submitted": 0}
        if job and job.model != planner.model:
            log.warning("batch: %s was submitted for %s, not --model %s: its replies will not serve this run",
                        job.name, job.model, planner.model)
        with generator.batches() as client:
            job = job or _submit(client, planner, requests, path)
            if job is None:
                return {"submitted": 0, "submit_failed": True}
            status = _wait(client, job, path, options)
            return _settle(job, status, cache, path)


def _submit(client: GeminiBatches, planner: RequestPlanner, requests: list[Request], path: Path) -> BatchJob | None:
    """Submit one job and remember it; None (the run goes live) if Gemini refuses it."""
    size = inline_size(requests, planner.system)
    if size > INLINE_LIMIT_BYTES:
        raise InputError(
            f"--batch: {len(requests)} requests take about {size / 1e6:.1f} MB inline, over the "
            f"{INLINE_LIMIT_BYTES / 1e6:g} MB limit of inline batch jobs; run without --batch or split the seed file"
        )
    try:
        name = client.submit(requests, planner.system, display_name=f"augment {path.stem} ({len(requests)} requests)")
    except BatchCallFailed as error:
        log.warning("batch: could not submit the job (%s); these seeds go through the live path", error)
        return None
    job = BatchJob(name, planner.model, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), [r.key for r in requests])
    job.save(path)
    log.info("batch: submitted %s with %d requests (%.1f MB); its name is kept in %s", name, len(requests), size / 1e6, path)
    return job


def _wait(client: GeminiBatches, job: BatchJob, path: Path, options: BatchOptions) -> BatchStatus:
    """Poll the job until it finishes or options.wait has passed; return its last status."""
    deadline = time.monotonic() + options.wait
    while True:
        try:
            status = client.status(job.name, job.keys)
        except BatchCallFailed as error:
            if error.code == 404:
                return BatchStatus("NOT_FOUND", [], {})
            if time.monotonic() >= deadline:
                raise RunError(f"batch: could not check {job.name} ({error}); it is still recorded in {path}, run again later") from None
            log.warning("batch: could not check %s (%s); asking again", job.name, error)
            status = None
        if status and (status.state in _COLLECT | _GIVE_UP or time.monotonic() >= deadline):
            return status
        time.sleep(max(0.0, min(options.poll, deadline - time.monotonic())))


def _settle(job: BatchJob, status: BatchStatus, cache: ResponseCache, path: Path) -> dict:
    """Cache a finished job's replies and forget the job, forget a failed one, or raise BatchPending."""
    summary = {"name": job.name, "state": status.state, "submitted": len(job.keys)}
    if status.state in _COLLECT:
        for reply in status.replies:
            if reply.key and not reply.error:
                cache.put(reply.key, job.model, _record(reply))
        failed = sum(1 for reply in status.replies if reply.error or not reply.key)
        path.unlink()
        collected = len(status.replies) - failed
        log.info("batch: %s %s: %d replies cached, %d items failed (sent live instead)", job.name, status.state.lower(), collected, failed)
        spent = cost_usd(job.model, status.tokens.get("prompt", 0), status.tokens.get("output", 0) + status.tokens.get("thoughts", 0), batch=True)
        return summary | {"collected": collected, "failed_items": failed, "tokens": status.tokens, "cost_usd": spent}
    if status.state in _GIVE_UP:
        path.unlink()
        log.warning("batch: %s ended %s; its seeds go through the live path", job.name, status.state)
        return summary
    raise BatchPending(
        f"batch: {job.name} is {status.state.lower()} ({len(job.keys)} requests, submitted {job.submitted}); "
        f"outputs were left as they were; run again with --batch to collect it"
    )


def _record(reply: BatchReply) -> str:
    """Return what to cache of a batch item: an answer if it holds variants, else junk, which the live path re-asks."""
    # The service holds a batch reply to its request's max_output_tokens, so no size limit is needed here; the gates
    # judge the variants when the live path replays it.
    if reply.problem or not parse_variants(reply.text)[0]:
        return junk_record(reply.problem or "unusable", len(reply.text))
    return answer_record(reply.text, reply.served)


def pending_job_note(out: Path) -> str:
    """Return a warning if a batch job is remembered beside out (for runs without --batch), else ""."""
    path = state_path(out)
    if not path.is_file():
        return ""
    return f"{path} records a batch job not collected yet; a run with --batch collects it"
