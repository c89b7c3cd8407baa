"""Check fine-tuning JSONL files before upload: python -m augment.validate FILE... (exit 1 on any error)."""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from augment.dataset.shapes import STRUCTURE
from augment.dataset.formats import FORMATS, ROLE_NAMES, Turn, detect_format, read_turns
from augment.text import bad_characters, code_point
from augment.dataset.tokens import MIN_EXAMPLES, counter, default_encoding, encoding_names, token_stats

EXIT_OK, EXIT_ERRORS, EXIT_USAGE = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding on one line (line 0 means the whole file)."""

    line: int
    level: str  # "error" or "warning"
    check: str
    message: str

    def render(self, name: str) -> str:
        """Return the finding as one 'file:line: level: check: message' line."""
        return f"{name}:{self.line}: {self.level}: {self.check}: {self.message}"


@dataclass
class FileReport:
    """What validating one file found, and its token statistics."""

    name: str
    examples: int = 0
    formats: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)  # per example, in the primary encoding
    counts: dict[str, list[int]] = field(default_factory=dict)  # per example, in every encoding counted
    encoding: str = ""  # the primary encoding: the first asked for, else the one the file's format is tuned with
    max_tokens: int | None = None  # None: the primary encoding's limit (tokens.toml)

    @property
    def errors(self) -> list[Problem]:
        """Return the problems that would make a tuning job fail or the data wrong."""
        return [problem for problem in self.problems if problem.level == "error"]

    @property
    def warnings(self) -> list[Problem]:
        """Return the problems worth a look that do not block upload."""
        return [problem for problem in self.problems if problem.level == "warning"]

    @property
    def limit(self) -> int:
        """Return the per-example limit the primary encoding's counts are held to."""
        return self.max_tokens or counter(self.encoding or default_encoding(None)).encoding.limit

    def token_stats(self, encoding: str | None = None) -> dict:
        """Return one encoding's min, median, max, total, over-limit count and training tokens (default: the primary)."""
        name = encoding or self.encoding
        if name not in self.counts:
            return {}
        limit = self.limit if name == self.encoding else counter(name).encoding.limit
        return token_stats(self.counts[name], counter(name), limit)

    def all_token_stats(self) -> dict[str, dict]:
        """Return the statistics of every encoding counted, the primary first."""
        return {name: self.token_stats(name) for name, counts in self.counts.items() if counts}

    def summary_lines(self) -> list[str]:
        """Return the human summary: counts, token statistics and the training tokens."""
        kinds = ", ".join(self.formats) or "no format"
        lines = [f"{self.name}: {self.examples} examples ({kinds}); {len(self.errors)} errors, {len(self.warnings)} warnings"]
        stats = self.token_stats()
        if stats:
            lines.append(f"{self.name}: {stats['encoding']} tokens, {stats['method']}")
            lines.append(
                f"{self.name}: tokens per example ({stats['counted']}): min {stats['min']}, median {stats['median']}, "
                f"max {stats['max']}; {stats['over_limit']} over the {stats['limit']:,} limit"
            )
            about = "" if stats["counted"] == "exact" else "about "
            lines.append(
                f"{self.name}: {about}{stats['training_tokens_3_epochs']:,} training tokens for 3 epochs "
                f"(OpenAI's default for {self.examples} examples is {stats['openai_default_epochs']} epochs: "
                f"{about}{stats['training_tokens_default_epochs']:,})"
            )
        return lines


class _Checker:
    """Validate one file line by line, remembering what later lines are compared with."""

    def __init__(self, name: str, fmt: str | None, max_tokens: int | None, encodings: tuple[str, ...]):
        self.report = FileReport(name, max_tokens=max_tokens)
        self.fmt = fmt
        self.encodings = encodings  # empty: decided by the first example's format
        self.first_format: tuple[str, int] | None = None
        self.first_system: tuple[str | None, int] | None = None
        self.examples: dict[tuple[Turn, ...], int] = {}
        self.prompts: dict[tuple[str | None, str], int] = {}

    def add(self, line: int, level: str, check: str, message: str) -> None:
        """Record one finding."""
        self.report.problems.append(Problem(line, level, check, message))

    def check_file(self, data: bytes) -> FileReport:
        """Check every line, then the file as a whole."""
        if data.startswith(b"\xef\xbb\xbf"):
            self.add(1, "error", "utf8", "file starts with a byte-order mark; save it as UTF-8 without BOM")
            data = data[3:]
        lines = data.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()  # the newline that ends the last line
        for number, raw in enumerate(lines, start=1):
            self.check_line(number, raw)
        if not self.report.examples:
            self.add(0, "error", "empty_file", "no examples")
        elif self.report.examples < MIN_EXAMPLES:
            self.add(0, "warning", "too_few_examples", f"{self.report.examples} examples; OpenAI needs at least {MIN_EXAMPLES}")
        return self.report

    def check_line(self, number: int, raw: bytes) -> None:
        """Check that a line is UTF-8 JSON, then check the example it holds."""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            self.add(number, "error", "utf8", f"not UTF-8 (byte 0x{raw[error.start]:02x} at column {error.start + 1})")
            return
        if not text.strip():
            self.add(number, "error", "blank_line", "blank line; every line must be one JSON example")
            return
        try:
            record = json.loads(text)
        except json.JSONDecodeError as error:
            self.add(number, "error", "invalid_json", f"not JSON ({error.msg} at column {error.colno})")
            return
        self.report.examples += 1
        self.check_record(number, record)

    def check_record(self, number: int, record: object) -> None:
        """Check one example's structure in its format, then its turns, repeats and length."""
        if not isinstance(record, dict):
            self.add(number, "error", "data_type", f"example is a JSON {type(record).__name__}, not an object")
            return
        fmt = self.fmt or detect_format(record)
        if fmt is None:
            self.add(number, "error", "unknown_format", "no 'messages', 'contents' or 'conversations' list: not OpenAI, Gemini or ShareGPT")
            return
        self.check_same_format(number, fmt)
        problems = len(self.report.problems)
        STRUCTURE[fmt](record, lambda level, check, message: self.add(number, level, check, message))
        if any(p.level == "error" for p in self.report.problems[problems:]):
            return  # turns cannot be read reliably from a malformed record
        turns = read_turns(record, fmt)
        self.check_turns(number, fmt, turns)
        self.check_repeats(number, turns)
        self.check_tokens(number, turns)

    def check_same_format(self, number: int, fmt: str) -> None:
        """Flag a line whose format differs from the first line's: a tuning job reads one format per file."""
        self.report.formats[fmt] = self.report.formats.get(fmt, 0) + 1
        if self.first_format is None:
            self.first_format = (fmt, number)
        elif fmt != self.first_format[0]:
            first, line = self.first_format
            self.add(number, "error", "mixed_format", f"{fmt} example in a file that starts as {first} (line {line})")

    def check_turns(self, number: int, fmt: str, turns: list[Turn]) -> None:
        """Require non-empty, valid UTF-8, NFC turns in the right order under the file's one system prompt."""
        names = ROLE_NAMES[fmt]
        for index, (role, text) in enumerate(turns, start=1):
            where = f"turn {index} ({names.get(role, role)})"
            for position, char in _bad_characters(text):
                self.add(number, "error", "bad_character", f"{where} holds {code_point(char)} at character {position}; control, zero-width and bidi characters must not reach training data")
            problem = _text_problem(text)
            if not problem:
                continue
            if problem == "empty_turn":
                self.add(number, "error", "empty_turn", f"{where} is empty or only whitespace")
            elif problem == "utf8":
                self.add(number, "error", "utf8", f"{where} has an unpaired surrogate escape that is not valid UTF-8")
            else:
                column = _first_non_nfc(text)
                self.add(number, "error", "not_nfc", f"{where} is not NFC-normalised (from character {column}); normalise with unicodedata.normalize('NFC', ...)")
        self.check_role_order(number, fmt, [role for role, _ in turns])
        self.check_system(number, turns)

    def check_role_order(self, number: int, fmt: str, roles: list[str]) -> None:
        """Require an optional system turn, then user and assistant alternating, ending with the assistant."""
        names = ROLE_NAMES[fmt]
        body = roles[1:] if roles[:1] == ["system"] else roles
        expected = [("user", "assistant")[i % 2] for i in range(len(body))]
        if body != expected or not body or body[-1] != "assistant":
            got = ", ".join(names.get(role, role) for role in roles)
            self.add(number, "error", "role_order", f"roles are [{got}]; expected an optional {names['system']}, then {names['user']} and {names['assistant']} alternating, ending with {names['assistant']}")

    def check_system(self, number: int, turns: list[Turn]) -> None:
        """Require the same system prompt (or none) as the first example."""
        system = turns[0][1] if turns and turns[0][0] == "system" else None
        if self.first_system is None:
            self.first_system = (system, number)
        elif system != self.first_system[0]:
            self.add(number, "error", "system_prompt_mismatch", f"system prompt differs from line {self.first_system[1]}'s; every line must carry the same one")

    def check_repeats(self, number: int, turns: list[Turn]) -> None:
        """Flag a repeated conversation (error) and a repeated user turn with another answer (warning)."""
        key = tuple(turns)
        if key in self.examples:
            self.add(number, "error", "duplicate_example", f"same conversation as line {self.examples[key]}")
            return
        self.examples[key] = number
        system = turns[0][1] if turns[0][0] == "system" else None
        prompt = (system, next((text for role, text in turns if role == "user"), ""))
        if prompt in self.prompts:
            self.add(number, "warning", "duplicate_prompt", f"same user turn as line {self.prompts[prompt]}, different answer")
        else:
            self.prompts[prompt] = number

    def check_tokens(self, number: int, turns: list[Turn]) -> None:
        """Count the example's tokens in each encoding; above the model's limit it cannot be trained on: an error."""
        report = self.report
        if not report.counts:
            names = self.encodings or (default_encoding(self.first_format[0] if self.first_format else None),)
            report.counts = {name: [] for name in names}
            report.encoding, report.tokens = names[0], report.counts[names[0]]
        for name, counts in report.counts.items():
            counts.append(counter(name).example(turns))
        count, primary = report.tokens[-1], counter(report.encoding)
        if count > report.limit:
            about = "" if primary.exact else "about "
            self.add(number, "error", "over_token_limit", f"{about}{count:,} {report.encoding} tokens ({primary.kind}), over the {report.limit:,} limit; it would be truncated")


_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_bad_characters = lru_cache(maxsize=4096)(lambda text: tuple(bad_characters(text)))  # the system prompt is on every line


@lru_cache(maxsize=4096)  # the system prompt is on every line, and the variants of a seed share answers
def _text_problem(text: str) -> str:
    """Return the check one turn's text fails: empty_turn, utf8 or not_nfc; "" if it passes them all."""
    if not text.strip():
        return "empty_turn"
    if _has_surrogate(text):
        return "utf8"
    if not unicodedata.is_normalized("NFC", text):
        return "not_nfc"
    return ""


def _has_surrogate(text: str) -> bool:
    return _SURROGATE_RE.search(text) is not None


def _first_non_nfc(text: str) -> int:
    """Return the 1-based position of the first combining mark or character that NFC rewrites."""
    for index, ch in enumerate(text, start=1):
        if unicodedata.combining(ch) or unicodedata.normalize("NFC", ch) != ch:
            return index
    return 1


def validate_bytes(
    data: bytes, name: str, fmt: str | None = None, max_tokens: int | None = None, encodings: tuple[str, ...] = ()
) -> FileReport:
    """Validate one JSONL file's bytes (fmt=None: detect each line's); count tokens in encodings (default: the format's)."""
    return _Checker(name, fmt, max_tokens, encodings).check_file(data)


def validate_file(path: Path, fmt: str | None = None, max_tokens: int | None = None, encodings: tuple[str, ...] = ()) -> FileReport:
    """Validate one JSONL file on disk."""
    return validate_bytes(path.read_bytes(), str(path), fmt, max_tokens, encodings)


def build_parser() -> argparse.ArgumentParser:
    """Return the parser with every flag documented."""
    parser = argparse.ArgumentParser(
        prog="python -m augment.validate",
        description="Check fine-tuning JSONL files (OpenAI, Gemini or ShareGPT) before uploading them. "
        "Prints one line per problem as FILE:LINE: level: check: message, then a summary per file; exits 1 on any error.",
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="JSONL file(s) to check")
    parser.add_argument("--format", choices=FORMATS, help="expected format of every line (default: detect it per line)")
    parser.add_argument("--encoding", choices=encoding_names(), help="count tokens in this encoding: o200k_base for OpenAI's current models (gpt-4o, gpt-4o-mini, gpt-4.1), cl100k_base for gpt-3.5-turbo, gemini for Gemini tuning (an estimate) (default: gemini for Gemini files, else o200k_base)")
    parser.add_argument("--max-tokens", type=int, help="per-example token limit (the model's context); an example above it is an error (default: the smallest training-example limit of the encoding's models, e.g. 65,536 for o200k_base)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Validate each file, print its problems and summary, and return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.max_tokens is not None and args.max_tokens < 1:
        parser.error(f"argument --max-tokens: must be at least 1, got {args.max_tokens}")
    code = EXIT_OK
    for path in args.files:
        try:
            report = validate_file(path, args.format, args.max_tokens, (args.encoding,) if args.encoding else ())
        except OSError as error:
            print(f"{path}:0: error: unreadable: {error.strerror}", file=sys.stderr)
            code = EXIT_USAGE
            continue
        for problem in report.problems:
            print(problem.render(report.name))
        for line in report.summary_lines():
            print(line)
        if report.errors and code == EXIT_OK:
            code = EXIT_ERRORS
    return code


if __name__ == "__main__":
    sys.exit(main())
