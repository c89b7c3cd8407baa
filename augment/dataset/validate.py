"""Check fine-tuning JSONL files before upload: python -m augment.validate FILE... (exit 1 on any error)."""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from augment.dataset.formats import FORMATS, ROLE_NAMES, Turn, detect_format, read_turns
from augment.text import bad_characters, code_point
from augment.dataset.tokens import MAX_TOKENS_PER_EXAMPLE, MIN_EXAMPLES, TARGET_EPOCHS, TOKEN_ESTIMATE, default_epochs, example_tokens

EXIT_OK, EXIT_ERRORS, EXIT_USAGE = 0, 1, 2

_OPENAI_MESSAGE_KEYS = {"role", "content", "name", "weight", "function_call"}
_OPENAI_ROLES = {"system", "user", "assistant", "function"}
_TOP_LEVEL_KEYS = {
    "openai": {"messages", "tools", "parallel_tool_calls"},
    "gemini": {"systemInstruction", "contents"},
    "sharegpt": {"conversations", "system"},
}


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
    tokens: list[int] = field(default_factory=list)
    max_tokens: int = MAX_TOKENS_PER_EXAMPLE

    @property
    def errors(self) -> list[Problem]:
        """Return the problems that would make a tuning job fail or the data wrong."""
        return [problem for problem in self.problems if problem.level == "error"]

    @property
    def warnings(self) -> list[Problem]:
        """Return the problems worth a look that do not block upload."""
        return [problem for problem in self.problems if problem.level == "warning"]

    def token_stats(self) -> dict:
        """Return min, median, max, over-limit count and training tokens, all estimated."""
        if not self.tokens:
            return {}
        billed = sum(min(self.max_tokens, count) for count in self.tokens)
        epochs = default_epochs(len(self.tokens))
        return {
            "estimate": TOKEN_ESTIMATE,
            "min": min(self.tokens),
            "median": statistics.median_low(self.tokens),
            "max": max(self.tokens),
            "over_limit": sum(count > self.max_tokens for count in self.tokens),
            "limit": self.max_tokens,
            "training_tokens_3_epochs": TARGET_EPOCHS * billed,
            "openai_default_epochs": epochs,
            "training_tokens_default_epochs": epochs * billed,
        }

    def summary_lines(self) -> list[str]:
        """Return the human summary: counts, token statistics and the training-token estimate."""
        kinds = ", ".join(self.formats) or "no format"
        lines = [f"{self.name}: {self.examples} examples ({kinds}); {len(self.errors)} errors, {len(self.warnings)} warnings"]
        stats = self.token_stats()
        if stats:
            lines.append(
                f"{self.name}: tokens per example ({stats['estimate']}): min {stats['min']}, median {stats['median']}, "
                f"max {stats['max']}; {stats['over_limit']} over the {stats['limit']:,} limit"
            )
            lines.append(
                f"{self.name}: about {stats['training_tokens_3_epochs']:,} training tokens for 3 epochs "
                f"(OpenAI's default for {self.examples} examples is {stats['openai_default_epochs']} epochs: "
                f"about {stats['training_tokens_default_epochs']:,})"
            )
        return lines


class _Checker:
    """Validate one file line by line, remembering what later lines are compared with."""

    def __init__(self, name: str, fmt: str | None, max_tokens: int):
        self.report = FileReport(name, max_tokens=max_tokens)
        self.fmt = fmt
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
        _STRUCTURE[fmt](record, lambda level, check, message: self.add(number, level, check, message))
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
        """Count the example's estimated tokens; above the model's context the example cannot be trained on: an error."""
        count = example_tokens(turns)
        self.report.tokens.append(count)
        if count > self.report.max_tokens:
            self.add(number, "error", "over_token_limit", f"about {count:,} tokens (estimated), over the {self.report.max_tokens:,} limit; it would be truncated")


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


AddProblem = Callable[[str, str, str], None]  # (level, check, message)


def _check_openai(record: dict, add: AddProblem) -> None:
    """Apply the OpenAI cookbook's format checks, under its names."""
    _check_top_level(record, "openai", add)
    messages = record.get("messages")
    if not messages or not isinstance(messages, list):
        add("error", "missing_messages_list", "'messages' is missing, empty or not a list")
        return
    for index, message in enumerate(messages, start=1):
        if not isinstance(message, dict):
            add("error", "data_type", f"message {index} is not an object")
            continue
        if "role" not in message or "content" not in message:
            add("error", "message_missing_key", f"message {index} lacks 'role' or 'content'")
        unknown = message.keys() - _OPENAI_MESSAGE_KEYS
        if unknown:
            add("error", "message_unrecognized_key", f"message {index} has key(s) {', '.join(sorted(unknown))}")
        if message.get("role") not in _OPENAI_ROLES:
            add("error", "unrecognized_role", f"message {index} has role {message.get('role')!r}")
        content = message.get("content")
        if not isinstance(content, str) or (not content and not message.get("function_call")):
            add("error", "missing_content", f"message {index} has no text content")
    roles = [message.get("role") for message in messages if isinstance(message, dict)]
    if "assistant" not in roles:
        add("error", "example_missing_assistant_message", "no assistant message to learn from")
    if "system" not in roles:
        add("warning", "example_missing_system_message", "no system message")
    if "user" not in roles:
        add("warning", "example_missing_user_message", "no user message")


def _check_gemini(record: dict, add: AddProblem) -> None:
    """Check the Vertex AI supervised-tuning shape: contents of user/model turns made of text parts."""
    _check_top_level(record, "gemini", add)
    if "systemInstruction" in record:
        instruction = record["systemInstruction"]
        if not isinstance(instruction, dict) or not _text_parts_ok(instruction.get("parts")):
            add("error", "invalid_system_instruction", "'systemInstruction' needs 'parts': a list of {'text': string}")
    contents = record.get("contents")
    if not contents or not isinstance(contents, list):
        add("error", "missing_contents_list", "'contents' is missing, empty or not a list")
        return
    for index, content in enumerate(contents, start=1):
        if not isinstance(content, dict) or "role" not in content or "parts" not in content:
            add("error", "content_missing_key", f"content {index} lacks 'role' or 'parts'")
            continue
        if content["role"] not in ("user", "model"):
            add("error", "unrecognized_role", f"content {index} has role {content['role']!r}; use 'user' or 'model'")
        if not _text_parts_ok(content["parts"]):
            add("error", "missing_text", f"content {index} needs 'parts': a non-empty list of {{'text': string}}")
    if not any(isinstance(c, dict) and c.get("role") == "model" for c in contents):
        add("error", "example_missing_model_message", "no model turn to learn from")


def _check_sharegpt(record: dict, add: AddProblem) -> None:
    """Check the ShareGPT shape LLaMA-Factory reads: human/gpt turns and an optional system string."""
    _check_top_level(record, "sharegpt", add)
    if "system" in record and not isinstance(record["system"], str):
        add("error", "invalid_system", "'system' must be a string")
    conversations = record.get("conversations")
    if not conversations or not isinstance(conversations, list):
        add("error", "missing_conversations_list", "'conversations' is missing, empty or not a list")
        return
    for index, turn in enumerate(conversations, start=1):
        if not isinstance(turn, dict) or "from" not in turn or "value" not in turn:
            add("error", "message_missing_key", f"turn {index} lacks 'from' or 'value'")
            continue
        if turn["from"] not in ("human", "gpt"):
            add("error", "unrecognized_role", f"turn {index} is from {turn['from']!r}; use 'human' or 'gpt'")
        if not isinstance(turn["value"], str):
            add("error", "missing_content", f"turn {index} 'value' is not a string")
    if not any(isinstance(t, dict) and t.get("from") == "gpt" for t in conversations):
        add("error", "example_missing_gpt_message", "no gpt turn to learn from")


def _check_top_level(record: dict, fmt: str, add: AddProblem) -> None:
    unknown = record.keys() - _TOP_LEVEL_KEYS[fmt]
    if unknown:
        add("error", "unrecognized_top_level_key", f"key(s) {', '.join(sorted(unknown))} are not part of the {fmt} format; keep provenance in a separate file")


def _text_parts_ok(parts: object) -> bool:
    return (
        isinstance(parts, list)
        and bool(parts)
        and all(isinstance(part, dict) and set(part) == {"text"} and isinstance(part["text"], str) for part in parts)
    )


_STRUCTURE: dict[str, Callable[[dict, AddProblem], None]] = {
    "openai": _check_openai,
    "gemini": _check_gemini,
    "sharegpt": _check_sharegpt,
}


def validate_bytes(data: bytes, name: str, fmt: str | None = None, max_tokens: int = MAX_TOKENS_PER_EXAMPLE) -> FileReport:
    """Validate the contents of one JSONL file; fmt=None detects the format of each line."""
    return _Checker(name, fmt, max_tokens).check_file(data)


def validate_file(path: Path, fmt: str | None = None, max_tokens: int = MAX_TOKENS_PER_EXAMPLE) -> FileReport:
    """Validate one JSONL file on disk."""
    return validate_bytes(path.read_bytes(), str(path), fmt, max_tokens)


def build_parser() -> argparse.ArgumentParser:
    """Return the parser with every flag documented."""
    parser = argparse.ArgumentParser(
        prog="python -m augment.validate",
        description="Check fine-tuning JSONL files (OpenAI, Gemini or ShareGPT) before uploading them. "
        "Prints one line per problem as FILE:LINE: level: check: message, then a summary per file; exits 1 on any error.",
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="JSONL file(s) to check")
    parser.add_argument("--format", choices=FORMATS, help="expected format of every line (default: detect it per line)")
    parser.add_argument("--max-tokens", type=int, default=MAX_TOKENS_PER_EXAMPLE, help=f"per-example token limit (the model's context); an example above it is an error (default {MAX_TOKENS_PER_EXAMPLE:,}, the cookbook's)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Validate each file, print its problems and summary, and return the exit code."""
    args = build_parser().parse_args(argv)
    code = EXIT_OK
    for path in args.files:
        try:
            report = validate_file(path, args.format, args.max_tokens)
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
