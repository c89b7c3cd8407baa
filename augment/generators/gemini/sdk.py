"""The google-genai SDK, and the meaning of its replies and errors (the only module that imports google.genai)."""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections import Counter

from augment.generators.gemini.models import default_model

# A server asking for a longer wait than this (a daily quota spent) is not waited for: the seed falls back at once.
MAX_RETRY_AFTER = 120.0
_BLOCKING_FINISH = {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY", "LANGUAGE"}
_KEY_CODES = {401, 403}
_RETRY_DELAY_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")
# A 400 about these generation settings is the model refusing what every request of the run carries.
_SETTINGS_RE = re.compile(r"thinking|temperature", re.IGNORECASE)


def new_client(api_key: str, timeout: float):
    """Return a genai.Client with a per-request timeout in seconds (the SDK has no default one)."""
    from google import genai
    from google.genai import types

    # No base_url here: the SDK reads GOOGLE_GEMINI_BASE_URL itself (proxies, the loopback fake in tests).
    return genai.Client(api_key=api_key, http_options=types.HttpOptions(timeout=int(timeout * 1000)))


def content_config(system: str, params: dict):
    """Return the SDK's GenerateContentConfig for a system instruction and request parameters."""
    from google.genai import types

    return types.GenerateContentConfig(system_instruction=system, **params)


def get_model(api_key: str, model: str, timeout: float) -> dict:
    """Ask Gemini for one model's metadata (models.get, no tokens spent); raise the SDK's error if it has none."""
    client = new_client(api_key, timeout)
    try:
        info = client.models.get(model=model)
    finally:
        client.close()
    return {"name": info.name or "", "version": info.version or "", "display_name": info.display_name or ""}


def error_summary(error) -> str:
    """Return an SDK APIError as "HTTP code STATUS: Google's message"."""
    return f"HTTP {error.code} {error.status or ''}: {error.message or ''}".replace(" :", ":")


def served_model(response) -> str:
    """Return the model that answered (the response's modelVersion), "" when it does not say."""
    return getattr(response, "model_version", None) or ""


def is_api_error(error: BaseException) -> bool:
    """Tell whether error is the SDK's APIError (an HTTP error answer)."""
    from google.genai import errors

    return isinstance(error, errors.APIError)


class AttemptFailed(Exception):
    """One attempt for one seed failed: a reason code, whether retrying may help, and the server's wait hint."""

    def __init__(self, reason: str, retry: bool = True, retry_after: float | None = None, backoff: bool = True):
        super().__init__(reason)
        self.reason = reason
        self.retry = retry
        self.retry_after = retry_after
        self.backoff = backoff


class Rejected(Exception):
    """Gemini refused the whole run (key or model): no seed can succeed, so none should try."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def classify(error: Exception, model: str) -> AttemptFailed | Rejected | None:
    """Map an SDK or transport error to a retryable reason, a run-wide rejection, or None if unknown."""
    if is_api_error(error):
        return _classify_api_error(error, model)
    if isinstance(error, TimeoutError) or is_transport(error, "Timeout"):
        return AttemptFailed("timeout")
    if isinstance(error, ConnectionError) or is_transport(error, ""):
        return AttemptFailed("connection")
    if is_bad_body(error):
        return AttemptFailed("bad-response")
    return None


def is_bad_body(error: Exception) -> bool:
    """Tell whether error is the SDK failing to read a 200 body: not JSON (a proxy's HTML page), cut off, wrong shape."""
    return isinstance(error, json.JSONDecodeError) or type(error).__module__.split(".")[0] in {"pydantic", "pydantic_core"}


def add_usage(tokens: Counter, usage) -> None:
    """Add a reply's usage metadata (if any) to the token counters."""
    if usage is None:
        return
    tokens["prompt"] += usage.prompt_token_count or 0
    tokens["output"] += usage.candidates_token_count or 0
    tokens["thoughts"] += usage.thoughts_token_count or 0  # billed as output
    tokens["total"] += usage.total_token_count or 0


def _classify_api_error(error, model: str) -> AttemptFailed | Rejected:
    code = error.code or 0
    if code in _KEY_CODES or (code == 400 and _mentions_key(error)):
        return Rejected("key-rejected", f"Gemini rejected the API key (HTTP {code} {error.status}); check GEMINI_API_KEY or GOOGLE_API_KEY")
    if code == 404:
        return Rejected("model-not-found", f"Gemini has no model {model} ({error_summary(error)}); {_current_default()}")
    if code == 400 and _SETTINGS_RE.search(error.message or ""):
        return Rejected("settings-refused", f"model {model} refused the generation settings ({error_summary(error)}); {_current_default()}")
    if code == 429:
        wait = _retry_after(error)
        return AttemptFailed("quota", retry=wait is None or wait <= MAX_RETRY_AFTER, retry_after=wait)
    if code == 408:
        return AttemptFailed("timeout", retry_after=_retry_after(error))
    if code >= 500:
        return AttemptFailed("server-error", retry_after=_retry_after(error))
    return AttemptFailed("bad-request", retry=False)


def _current_default() -> str:
    return f"the catalogue's current default is {default_model()}: pass --model {default_model()}"


def _mentions_key(error) -> bool:
    return "API_KEY" in str(error.details) or "API key" in (error.message or "")


def is_transport(error: Exception, name_part: str) -> bool:
    """Tell whether error comes from the SDK's HTTP stack (httpx2, httpx or aiohttp), optionally by class name."""
    return any(
        cls.__module__.split(".")[0] in {"httpx", "httpx2", "aiohttp", "httpcore"} and name_part in cls.__name__
        for cls in type(error).__mro__
    )


def _retry_after(error) -> float | None:
    """Return the server's wait hint in seconds: the Retry-After header, else the body's RetryInfo."""
    headers = getattr(getattr(error, "response", None), "headers", None) or {}
    value = headers.get("retry-after") if hasattr(headers, "get") else None
    if value:
        seconds = _header_seconds(value)
        if seconds is not None:
            return seconds
    details = (error.details or {}).get("error", {}).get("details", []) if isinstance(error.details, dict) else []
    for detail in details:
        match = _RETRY_DELAY_RE.match(str(detail.get("retryDelay", ""))) if isinstance(detail, dict) else None
        if match:
            return float(match.group(1))
    return None


def _header_seconds(value: str) -> float | None:
    """Read Retry-After as seconds or as an HTTP date."""
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def reply_text(response) -> tuple[str, str]:
    """Return the reply's text and "" or why there is none (blocked prompt or output, empty candidates)."""
    feedback = response.prompt_feedback
    if feedback is not None and feedback.block_reason:
        return "", "blocked"
    if not response.candidates:
        return "", "empty"
    candidate = response.candidates[0]
    parts = candidate.content.parts if candidate.content and candidate.content.parts else []
    text = "".join(part.text for part in parts if part.text and not part.thought)
    if text:
        return text, ""
    finish = getattr(candidate.finish_reason, "name", str(candidate.finish_reason or ""))
    return "", "blocked" if finish in _BLOCKING_FINISH else "empty"


async def count_tokens(client, model: str, text: str) -> int:
    """Return Gemini's own count of a text's tokens (models.countTokens: free, nothing generated)."""
    response = await client.aio.models.count_tokens(model=model, contents=text)
    return int(response.total_tokens or 0)
