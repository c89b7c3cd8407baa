"""Exceptions that end a run with one clear line and a documented exit code."""


class InputError(Exception):
    """Bad input or usage: the user must fix a file or a flag (exit 2)."""


class RunError(Exception):
    """A runtime failure the user cannot fix by editing input (exit 1)."""


class LockedError(Exception):
    """Another run holds the lock on the same outputs (exit 4)."""


class BatchPending(Exception):
    """A Gemini batch job is submitted but not finished: outputs are left as they were; run again later (exit 5)."""
