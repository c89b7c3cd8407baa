"""Logging: human lines on stderr, optional structured JSON lines in a log file."""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path


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
    """Send INFO (or WARNING when quiet) to stderr, and everything from INFO up to log_file if given."""
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
        log_file.parent.mkdir(parents=True, exist_ok=True)
        structured = logging.FileHandler(log_file, encoding="utf-8")
        structured.setFormatter(JsonLineFormatter())
        logger.addHandler(structured)
