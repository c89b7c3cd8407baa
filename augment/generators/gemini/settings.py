"""How to call Gemini: the model, limits, retries, cache, and where the API key comes from."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from augment.generators.gemini.cache import DEFAULT_CACHE
from augment.generators.gemini.envfile import check_key, key_source, load_env_file
from augment.generators.gemini.models import default_model

DEFAULT_MODEL = default_model()
# The SDK's own precedence: GOOGLE_API_KEY wins when both are set.
KEY_VARIABLES = ("GOOGLE_API_KEY", "GEMINI_API_KEY")


def find_api_key(env_file: Path = Path(".env")) -> str | None:
    """Return GOOGLE_API_KEY or GEMINI_API_KEY, reading ./.env first without overriding the environment.

    A .env that cannot be read, or a key holding whitespace or control characters, raises InputError (exit 2).
    """
    before = {name for name in KEY_VARIABLES if name in os.environ}
    if env_file.is_file():
        # Loading into os.environ also lets a GOOGLE_GEMINI_BASE_URL in .env reach the SDK.
        load_env_file(env_file)
    for name in KEY_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value:
            return check_key(name, value, key_source(name, env_file, before))
    return None


@dataclass(frozen=True, slots=True)
class GeminiSettings:
    """How to call Gemini: model, limits, retries and cache."""

    model: str = DEFAULT_MODEL
    concurrency: int = 8
    rpm: float | None = None
    retries: int = 4
    timeout: float = 60.0
    backoff: float = 1.0
    max_backoff: float = 30.0
    temperature: float | None = None  # --temperature; None: whatever the catalogue says for the model's family
    random_seed: int = 0
    cache: Path | None = DEFAULT_CACHE
    fallback: bool = True
    refresh_cache: bool = False  # ask again for cached replies that give nothing usable today

    def __post_init__(self):
        if self.concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {self.concurrency}")
        if self.rpm is not None and self.rpm <= 0:
            raise ValueError(f"rpm must be positive, got {self.rpm}")
        if self.retries < 0:
            raise ValueError(f"retries must be 0 or more, got {self.retries}")
        if self.timeout <= 0 or self.backoff < 0:
            raise ValueError("timeout must be positive and backoff 0 or more")
