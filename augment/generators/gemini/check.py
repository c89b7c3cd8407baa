"""--check-model: one cheap models.get call, the catalogue's row, and whether a nightly run can use the model."""

from __future__ import annotations

from augment.generators.gemini import sdk
from augment.generators.gemini.models import default_model, lookup, retired_note, unknown_model_note


def check_model(api_key: str, model: str, timeout: float) -> tuple[list[str], bool]:
    """Ask Gemini about model (no tokens spent); return the lines to print and whether a run can use it."""
    info = lookup(model)
    try:
        served = sdk.get_model(api_key, model, timeout)
    except Exception as error:  # noqa: BLE001 - HTTP and transport errors are the answer; anything else is a bug
        return [_failure(error, model)] + ([f"  catalogue: {info.describe()}"] if info else []), False
    lines = [f"{model}: Gemini serves it ({served['name'] or model}, version {served['version'] or '?'})"]
    if info is None:
        return lines + [f"  {unknown_model_note(model)}"], True
    lines.append(f"  catalogue: {info.describe()}")
    if not info.usable:
        return lines + [f"  not usable: {retired_note(model)}"], False
    return lines + [f"  usable: a run sends thinking {info.thinking} {info.paraphrase_thinking}"], True


def _failure(error: Exception, model: str) -> str:
    """Return the one line for a models.get that failed: the model, HTTP status and Google's message, what to do."""
    default = default_model()
    if sdk.is_api_error(error):
        if error.code in {400, 401, 403}:
            return f"{model}: Gemini rejected the request ({sdk.error_summary(error)}); check GEMINI_API_KEY or GOOGLE_API_KEY"
        return (f"{model}: not usable ({sdk.error_summary(error)}); the catalogue's current default is {default}: "
                f"pass --model {default}")
    if isinstance(error, (TimeoutError, ConnectionError)) or sdk.is_transport(error, ""):
        return f"{model}: could not reach Gemini ({type(error).__name__}: {error}); try again later"
    raise error
