"""The Gemini model catalogue (knowledge/data/models.toml): settings per family, status, prices in USD."""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from importlib import resources

CATALOGUE_FILE = "augment/knowledge/data/models.toml"
_USABLE = {"ga", "preview", "deprecated"}


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One catalogue row: family, status and dates, the paraphrasing settings, prices per 1M tokens."""

    id: str
    family: str
    status: str
    released: str
    shutdown: str
    routed_to: str
    thinking: str  # "level", "budget" or "none"
    paraphrase_thinking: str
    temperature: bool
    input_usd: float
    output_usd: float
    batch_input_usd: float
    batch_output_usd: float
    checked: str
    source: str

    @property
    def usable(self) -> bool:
        """Tell whether Google still serves this id itself (not shut down)."""
        return self.status in _USABLE

    def prices(self, batch: bool = False) -> tuple[float, float]:
        """Return USD per 1M input and output tokens, the Batch prices with batch."""
        return (self.batch_input_usd, self.batch_output_usd) if batch else (self.input_usd, self.output_usd)

    def describe(self) -> str:
        """Return the row in one line: status with dates, thinking setting, prices."""
        dates = f"released {self.released}" + (f", shutdown {self.shutdown}" if self.shutdown else "")
        routed = f", requests routed to {self.routed_to}" if self.routed_to else ""
        return (
            f"{self.id}: {self.status} ({dates}{routed}); thinking {self.thinking} {self.paraphrase_thinking}; "
            f"USD per 1M tokens input {self.input_usd:g} / output {self.output_usd:g}, "
            f"Batch {self.batch_input_usd:g} / {self.batch_output_usd:g} (checked {self.checked}, {self.source})"
        )


@functools.cache
def _catalogue() -> dict:
    text = resources.files("augment.knowledge.data").joinpath("models.toml").read_text("utf-8")
    return tomllib.loads(text)


def default_model() -> str:
    """Return the catalogue's current default model id."""
    return _catalogue()["default"]


def checked_date() -> str:
    """Return the date the catalogue was last checked against Google's pages."""
    return _catalogue()["checked"]


def lookup(model: str) -> ModelInfo | None:
    """Return the catalogue row of a model id (a "models/" prefix is ignored), or None if it is not listed."""
    model = model.removeprefix("models/")
    row = _catalogue()["models"].get(model)
    return ModelInfo(id=model, **row) if row else None


def generation_settings(model: str, temperature: float | None) -> dict:
    """Return the thinking and temperature parameters to paraphrase with; never both thinking fields.

    Family 3 gets its thinking_level and no temperature unless one is passed; 2.5 its thinking_budget and the
    legacy temperature; a model the catalogue lacks gets neither (generic settings), only a passed temperature.
    """
    info = lookup(model)
    params: dict = {}
    if info is not None and info.temperature:
        params["temperature"] = _catalogue()["legacy_temperature"]
    if temperature is not None:
        params["temperature"] = temperature
    if info is not None and info.thinking == "level":
        params["thinking_config"] = {"thinking_level": info.paraphrase_thinking}
    elif info is not None and info.thinking == "budget":
        params["thinking_config"] = {"thinking_budget": int(info.paraphrase_thinking)}
    return params


def thinking_tokens(model: str) -> int:
    """Return the thinking tokens one paraphrase request is estimated to spend on this model."""
    info = lookup(model)
    table = _catalogue()["thinking_tokens"]
    return table.get(info.paraphrase_thinking, table["high"]) if info else table["high"]


def cost_usd(model: str, input_tokens: int, output_tokens: int, batch: bool = False) -> float | None:
    """Return what these tokens cost on this model (thinking tokens count as output), None if prices are unknown."""
    info = lookup(model)
    if info is None:
        return None
    price_in, price_out = info.prices(batch)
    return (input_tokens * price_in + output_tokens * price_out) / 1e6


def unknown_model_note(model: str) -> str:
    """Return the one warning line for a model the catalogue lacks, or "" for a listed one."""
    if lookup(model) is not None:
        return ""
    return (
        f"model {model} is not in the catalogue ({CATALOGUE_FILE}, checked {checked_date()}): sending generic settings "
        f"(no thinking setting, temperature only with --temperature) and no prices for the cost; add a row to use it fully"
    )


def retired_note(model: str) -> str:
    """Return the one warning line for a model the catalogue lists as shut down, or ""."""
    info = lookup(model)
    if info is None or info.usable:
        return ""
    answered = f"Google routes its requests to {info.routed_to}" if info.routed_to else "its requests fail"
    return (
        f"model {model} was shut down on {info.shutdown} ({answered}); the catalogue's current default is "
        f"{default_model()}: pass --model {default_model()}"
    )


def same_model(requested: str, served: str) -> bool:
    """Tell whether a reply's modelVersion is the requested model (or a pinned version of it)."""
    requested, served = requested.removeprefix("models/"), served.removeprefix("models/")
    # A pinned version ("gemini-2.0-flash-001") is the same model; "gemini-3.5-flash-lite" is not gemini-3.5-flash.
    return not served or re.fullmatch(re.escape(requested) + r"(-\d{3})?", served) is not None
