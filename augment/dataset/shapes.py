"""The record shapes each fine-tuning format must have: keys, roles and text parts, checked line by line."""

from __future__ import annotations

from collections.abc import Callable

_OPENAI_MESSAGE_KEYS = {"role", "content", "name", "weight", "function_call"}
_OPENAI_ROLES = {"system", "user", "assistant", "function"}
_TOP_LEVEL_KEYS = {
    "openai": {"messages", "tools", "parallel_tool_calls"},
    "gemini": {"systemInstruction", "contents"},
    "sharegpt": {"conversations", "system"},
}


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


STRUCTURE: dict[str, Callable[[dict, AddProblem], None]] = {
    "openai": _check_openai,
    "gemini": _check_gemini,
    "sharegpt": _check_sharegpt,
}
