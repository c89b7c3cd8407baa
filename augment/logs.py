"""Logging: human lines on stderr, optional structured JSON lines in a log file."""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path

from augment.dataset.outputs import check_output_paths
from augment.errors import InputError


class JsonLineFormatter(logging.Formatter):
    """Format each record as one JSON object: time, level, message."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + "Z",
            "level": record.levelname.lower(),
            "message": record.getMessage(),
        }
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(quiet: bool, log_file: Path | None) -> None:
    """Send INFO (or WARNING when quiet) to stderr, and everything from INFO up to log_file if given (checked first)."""
    logger = logging.getLogger("augment")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    logger.setLevel(logging.INFO)
    logger.propagate = False
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.WARNING if quiet else logging.INFO)
    console.setFormatter(logging.Formatter("augment: %(message)s"))
    logger.addHandler(console)
    if log_file:
        logger.addHandler(_log_file_handler(log_file))


def _log_file_handler(path: Path) -> logging.Handler:
    """Open --log-file for appending, or raise InputError: it must be a regular file (or absent) we can write."""
    check_output_paths([path], "--log-file")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
    except OSError as error:  # e.g. a read-only file that root alone could not append to
        raise InputError(f"{path}: --log-file cannot be opened for appending ({error.strerror}); pick another path") from None
    handler.setFormatter(JsonLineFormatter())
    return handler
