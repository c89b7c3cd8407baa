"""Exact Gemini token counts of a run's texts: countTokens, concurrent, cached beside the replies."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext

from augment.dataset.export import chat_record
from augment.dataset.tokens import GEMINI, measured
from augment.generators.gemini import sdk
from augment.generators.gemini.cache import ResponseCache, request_key
from augment.generators.gemini.settings import GeminiSettings
from augment.records import Sample

log = logging.getLogger("augment")


def count_texts(api_key: str, settings: GeminiSettings, texts: Iterable[str]) -> tuple[dict[str, int], int] | None:
    """Return Gemini's token count of each text and how many calls that took (a cached text costs none), or None
    when countTokens fails: the counts then stay the calibrated estimate, and one line says why."""
    cache = ResponseCache(settings.cache) if settings.cache else None
    try:
        counts, todo = {}, []
        for text in dict.fromkeys(texts):
            stored = cache.get(_key(settings.model, text)) if cache else None
            if stored is None:
                todo.append(text)
            else:
                counts[text] = int(stored)
        fresh = asyncio.run(_count_all(api_key, settings, todo)) if todo else {}
        for text, count in fresh.items():
            counts[text] = count
            if cache:
                cache.put(_key(settings.model, text), settings.model, str(count))
        return counts, len(todo)
    except Exception as error:  # noqa: BLE001 - counting is a report's detail: the estimate stands in
        why = sdk.error_summary(error) if sdk.is_api_error(error) else type(error).__name__
        log.warning("Gemini countTokens failed (%s): Gemini token counts are the calibrated estimate", why)
        return None
    finally:
        if cache:
            cache.close()


def _key(model: str, text: str) -> str:
    return request_key(kind="countTokens", model=model, text=text)


async def _count_all(api_key: str, settings: GeminiSettings, texts: list[str]) -> dict[str, int]:
    """Count every text, at most settings.concurrency at once, with the generation's timeout."""
    client = sdk.new_client(api_key, settings.timeout)
    slots = asyncio.Semaphore(settings.concurrency)

    async def one(text: str) -> tuple[str, int]:
        async with slots:
            return text, await sdk.count_tokens(client, settings.model, text)

    try:
        return dict(await asyncio.gather(*(one(text) for text in texts)))
    finally:
        await client.aio.aclose()
        client.close()


def gemini_token_counts(generator, samples: Sequence[Sample], system: str) -> AbstractContextManager:
    """Return a block in which the Gemini token counts of validator, card, report and manifest are countTokens' own
    for these samples' texts (a Gemini run with a key), else one that changes nothing."""
    texts = [message["content"] for sample in samples for message in chat_record(sample, system)["messages"]]
    found = generator.count_tokens(texts)
    return measured(GEMINI, found, f"Gemini countTokens, {generator.settings.model}") if found else nullcontext()
