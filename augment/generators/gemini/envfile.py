"""Read ./.env and check an API key without ever printing it: a bad file or key is one line and exit 2."""

from __future__ import annotations

import io
import os
import unicodedata
from pathlib import Path

from dotenv import load_dotenv
from dotenv.parser import parse_stream

from augment.errors import InputError


def load_env_file(path: Path) -> None:
    """Load path's variables into the environment (those already set win), or raise InputError naming the line."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise InputError(f"{path}: cannot read the file ({error.strerror}); fix its permissions or remove it") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise InputError(f"{path}: line {line} is not UTF-8 (byte 0x{raw[error.start]:02x}); save the file as UTF-8") from None
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            raise InputError(
                f"{path}: line {binding.original.line} cannot be read as NAME=value (an unterminated quote?); fix or "
                "delete that line"
            )
        if binding.value and "\x00" in binding.value:  # the environment cannot hold it: os.environ would raise
            raise InputError(f"{path}: line {binding.original.line}: {binding.key} holds a NUL character (U+0000); delete it")
    load_dotenv(stream=io.StringIO(text), override=False)


def check_key(name: str, value: str, source: str) -> str:
    """Return the key, or raise InputError naming the variable and the bad character, never the key itself."""
    for position, char in enumerate(value, start=1):
        if not ("!" <= char <= "~"):
            what = unicodedata.name(char, "control character").lower()
            raise InputError(
                f"{name} ({source}) holds a {what} (U+{ord(char):04X}) at character {position}; an API key is one "
                f"word of printable ASCII: copy it again into {source}"
            )
    return value


def key_source(name: str, env_file: Path, before: set[str]) -> str:
    """Return where a variable came from, for messages: the environment, or the .env file."""
    return "set in the environment" if name in before or name not in os.environ else f"from {env_file}"
