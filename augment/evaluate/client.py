"""Ask an OpenAI-compatible chat endpoint for each probe's answer: concurrency, timeouts, retries, cache, progress."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass

from tqdm import tqdm

from augment.errors import RunError
from augment.generators.gemini.cache import ResponseCache, request_key

try:  # google-genai >= 3.6 installs httpx2, the successor of httpx with the same API; either will do
    import httpx2 as httpx
except ImportError:  # pragma: no cover - depends on the installed google-genai
    import httpx

_RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}
_MAX_RETRY_AFTER = 60.0  # seconds: a longer Retry-After is a spent quota, not a pause


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where and how to ask: base URL (…/v1), model, key, and the request's limits."""

    base_url: str
    model: str
    key: str = ""
    timeout: float = 60.0
    retries: int = 3
    backoff: float = 1.0
    temperature: float = 0.0
    max_tokens: int = 512

    def cache_key(self, messages: list[dict]) -> str:
        """Return the answer's cache key: server, model, messages and sampling settings (never the key)."""
        return request_key(
            base_url=self.base_url.rstrip("/"), model=self.model, messages=messages,
            temperature=self.temperature, max_tokens=self.max_tokens,
        )


class _Retry(Exception):
    """A failed attempt worth repeating, with the reason and how long the server asked to wait."""

    def __init__(self, reason: str, wait: float = 0.0):
        super().__init__(reason)
        self.reason, self.wait = reason, wait


@dataclass(slots=True)
class Outcome:
    """The answers found, the probes left unanswered with why, and what it cost."""

    answers: dict[str, str]  # probe id -> answer
    errors: dict[str, str]  # probe id -> last failure reason
    calls: int = 0
    cache_hits: int = 0


async def _post(client: httpx.AsyncClient, endpoint: Endpoint, messages: list[dict]) -> str:
    """Send one chat request; return the answer text or raise _Retry (or RunError for a rejected key or model)."""
    payload = {"model": endpoint.model, "messages": messages, "temperature": endpoint.temperature, "max_tokens": endpoint.max_tokens}
    try:
        response = await client.post(f"{endpoint.base_url.rstrip('/')}/chat/completions", json=payload)
    except httpx.TimeoutException:
        raise _Retry("timeout") from None
    except httpx.TransportError:
        raise _Retry("connection") from None
    if response.status_code in _RETRY_STATUS or response.status_code >= 500:
        raise _Retry("rate-limited" if response.status_code == 429 else f"http-{response.status_code}", _retry_after(response))
    if response.status_code >= 400:
        raise RunError(f"{endpoint.base_url}: HTTP {response.status_code} for model {endpoint.model!r} ({response.text[:200].strip()}); check --base-url, --model and the key")
    try:
        content = response.json()["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise _Retry("bad-json") from None
    if not isinstance(content, str):
        raise _Retry("bad-json")
    return content


def _retry_after(response: httpx.Response) -> float:
    try:
        return min(float(response.headers.get("retry-after", 0)), _MAX_RETRY_AFTER)
    except ValueError:
        return 0.0


async def _answer(client, endpoint: Endpoint, messages: list[dict]) -> str:
    """Return one answer, retrying with exponential backoff and jitter, at least the server's Retry-After."""
    for attempt in range(endpoint.retries + 1):
        try:
            return await _post(client, endpoint, messages)
        except _Retry as failure:
            if attempt == endpoint.retries:
                raise
            delay = endpoint.backoff * 2**attempt * random.uniform(0.5, 1.0)
            await asyncio.sleep(max(delay, failure.wait))
    raise AssertionError("unreachable")


async def _ask_all(items: Sequence[tuple[str, list[dict]]], endpoint: Endpoint, cache: ResponseCache | None,
                   concurrency: int, quiet: bool) -> Outcome:
    outcome = Outcome({}, {})
    todo = []
    for pid, messages in items:
        cached = cache.get(endpoint.cache_key(messages)) if cache is not None else None
        if cached is None:
            todo.append((pid, messages))
        else:
            outcome.answers[pid] = cached
            outcome.cache_hits += 1
    gate = asyncio.Semaphore(concurrency)
    headers = {"Authorization": f"Bearer {endpoint.key}"} if endpoint.key else {}
    timeout = httpx.Timeout(endpoint.timeout, connect=min(endpoint.timeout, 10.0))
    with tqdm(total=len(items), initial=outcome.cache_hits, desc="probes", unit="probe", disable=quiet) as bar:
        async with httpx.AsyncClient(headers=headers, timeout=timeout, trust_env=not _loopback(endpoint.base_url)) as client:

            async def one(pid: str, messages: list[dict]) -> None:
                async with gate:
                    outcome.calls += 1
                    try:
                        answer = await _answer(client, endpoint, messages)
                    except _Retry as failure:
                        if failure.reason == "connection" and not outcome.answers:
                            # Nothing ever answered: no server there, not a flaky one; stop instead of retrying all.
                            raise RunError(f"{endpoint.base_url}: cannot connect; is the server running and --base-url right?") from None
                        outcome.errors[pid] = failure.reason
                    else:
                        outcome.answers[pid] = answer
                        if cache is not None:  # committed at once: a run killed after this line never asks again
                            cache.put(endpoint.cache_key(messages), endpoint.model, answer)
                    bar.update(1)

            await asyncio.gather(*(one(pid, messages) for pid, messages in todo))
    return outcome


def _loopback(url: str) -> bool:
    """Return True for a server on this machine: a proxy from the environment must not stand in between."""
    return httpx.URL(url).host in {"127.0.0.1", "localhost", "::1"}


def ask_all(items: Sequence[tuple[str, list[dict]]], endpoint: Endpoint, cache: ResponseCache | None,
            concurrency: int = 4, quiet: bool = False) -> Outcome:
    """Return the answer to each (id, messages) item, from the cache or the endpoint."""
    return asyncio.run(_ask_all(items, endpoint, cache, concurrency, quiet))
