"""Load prompt files from prompts/ and fill them with string.Template."""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from string import Template


@cache
def read_prompt(name: str) -> str:
    """Return the text of prompts/<name>.txt without its trailing newline."""
    return resources.files("augment.prompts").joinpath(f"{name}.txt").read_text("utf-8").rstrip("\n")


def render_prompt(name: str, **values: str) -> str:
    """Fill prompts/<name>.txt; a missing variable raises KeyError naming it."""
    return Template(read_prompt(name)).substitute(values)


def system_prompt() -> str:
    """Return the guide persona placed verbatim as every line's system message."""
    return read_prompt("system")


def prompt_hash(*names: str) -> str:
    """Return a short hash of the named prompt files, for cache keys and manifests."""
    digest = hashlib.sha256()
    for name in names:
        digest.update(read_prompt(name).encode("utf-8"))
    return digest.hexdigest()[:16]
