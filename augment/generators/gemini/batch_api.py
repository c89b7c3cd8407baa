"""Gemini Batch API calls: submit inline paraphrase requests as one job, read its state and replies."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from augment.generators.gemini import sdk
from augment.generators.gemini.plan import Request
from augment.generators.gemini.settings import GeminiSettings


@dataclass(frozen=True, slots=True)
class BatchReply:
    """One item of a finished batch job: its request's cache key and reply, or the error that left it without one."""

    key: str
    text: str = ""
    problem: str = ""
    error: str = ""
    served: str = ""  # the model that answered (modelVersion)


@dataclass(frozen=True, slots=True)
class BatchStatus:
    """A batch job's state (JOB_STATE_ prefix dropped, e.g. RUNNING, SUCCEEDED) and, once finished, its replies."""

    state: str
    replies: list[BatchReply]
    tokens: dict


class BatchCallFailed(Exception):
    """A Batch API call failed (HTTP error or transport); code is the HTTP status, 0 without one."""

    def __init__(self, message: str, code: int = 0):
        super().__init__(message)
        self.code = code


class GeminiBatches:
    """Submit paraphrase requests as one Gemini Batch job (inline requests) and read its state and replies."""

    def __init__(self, api_key: str, settings: GeminiSettings):
        self.settings = settings
        self.client = sdk.new_client(api_key, settings.timeout)

    def __enter__(self) -> GeminiBatches:
        return self

    def __exit__(self, *exc_info) -> None:
        self.client.close()

    def submit(self, requests: Sequence[Request], system: str, display_name: str) -> str:
        """Create the job with the same contents and config as the live calls; return its name (batches/ID)."""
        src = [
            {
                "contents": request.prompt,
                "config": sdk.content_config(system, _sdk_copy(request.params)),
                "metadata": {"key": request.key},
            }
            for request in requests
        ]
        job = self._call(self.client.batches.create, model=self.settings.model, src=src, config={"display_name": display_name})
        return job.name

    def status(self, name: str, keys: Sequence[str]) -> BatchStatus:
        """Return the job's state and, once it has them, its replies (keys name the items in submission order)."""
        job = self._call(self.client.batches.get, name=name)
        state = getattr(job.state, "value", str(job.state or "JOB_STATE_UNSPECIFIED")).removeprefix("JOB_STATE_")
        items = (job.dest.inlined_responses if job.dest else None) or []
        tokens: Counter = Counter()
        replies = [_batch_reply(item, keys[i] if i < len(keys) else "", tokens) for i, item in enumerate(items)]
        return BatchStatus(state, replies, dict(tokens))

    def _call(self, method, **kwargs):
        try:
            return method(**kwargs)
        except Exception as error:  # noqa: BLE001 - HTTP and transport errors get one line; anything else is a bug
            if sdk.is_api_error(error):
                raise BatchCallFailed(f"HTTP {error.code} {error.status}: {error.message}", error.code or 0) from None
            if isinstance(error, (TimeoutError, ConnectionError)) or sdk.is_transport(error, ""):
                raise BatchCallFailed(f"{type(error).__name__}: {error}") from None
            raise


def _sdk_copy(params: dict) -> dict:
    """Return a deep copy of request parameters for batches.create, which rewrites schema dicts in place."""
    # It renames keys such as property_ordering inside the shared RESPONSE_SCHEMA: every later cache key in the
    # process would change, and the live path would miss the replies the batch job just put in the cache.
    return copy.deepcopy(params)


def _batch_reply(item, key: str, tokens: Counter) -> BatchReply:
    """Turn one inlined response into a BatchReply, adding its usage to tokens."""
    key = (item.metadata or {}).get("key") or key
    if item.response is None:
        error = item.error
        return BatchReply(key, error=f"code {error.code}: {error.message}" if error else "no response")
    sdk.add_usage(tokens, item.response.usage_metadata)
    text, problem = sdk.reply_text(item.response)
    return BatchReply(key, text, problem, served=sdk.served_model(item.response))
