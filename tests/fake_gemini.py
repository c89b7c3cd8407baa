"""Serve a loopback fake of the Gemini Developer API for tests and benchmarks (stdlib only)."""

# The fake speaks the JSON wire format of generativelanguage.googleapis.com so that the real
# google-genai SDK can be pointed at it with HttpOptions(base_url=fake.base_url); tests then
# exercise the project's real client code instead of a mock of it.
#
# Endpoints (v1 and v1beta): POST models/{m}:generateContent, POST models/{m}:batchGenerateContent
# (inline requests only), GET batches/{id} (PENDING on create, then RUNNING, then SUCCEEDED, or
# the batch_final_state given: BATCH_STATE_FAILED, _CANCELLED or _EXPIRED, with no output),
# GET models/{m} (models.get: the model's metadata, or 404 for a retired id).
#
# Models as Google serves them in late 2026: every 200 body carries modelVersion, the model that
# answered (the requested one, or reroute[model] when the fake routes an id to another model); a
# retired id answers 404 NOT_FOUND; generationConfig.thinkingConfig with both thinkingBudget and
# thinkingLevel, a thinkingLevel for a 2.5 model, or "minimal" for a model that lacks it, is a 400.
#
# A responder is responder(body) -> dict | Fault: a dict is the 200 body, a Fault is applied as if
# scripted. A generate request takes the first matching fault_for rule, else the next script()
# fault, else the responder. Batch items see fault_for rules and the responder only, because in
# the real service a whole batch is one HTTP call and cannot fail item by item at the HTTP level.
#
# The API key is kept only in RecordedRequest.headers (masked in its repr) and is never logged,
# so tests can assert it never reaches any output file.

from __future__ import annotations

import datetime as _dt
import http.server
import itertools
import json
import re
import socket
import threading
import time
import unicodedata
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Optional, Union

__all__ = [
    "FakeGemini",
    "Fault",
    "RecordedRequest",
    "blocked_prompt",
    "default_responder",
    "default_variants",
    "delay",
    "drop_connection",
    "empty_candidates",
    "http_error",
    "model_body",
    "not_found",
    "ok_response",
    "prompt_text",
    "raw_body",
    "raw_text",
    "safety_finish",
    "seed_from_request",
    "settings_fault",
    "thinking_config",
]

API_KEY_HEADER = "x-goog-api-key"
MODEL_VERSION = "fake-gemini-001"

# Canonical status/message per HTTP code, so http_error(429) alone looks like the real thing.
_DEFAULT_STATUS = {
    400: ("INVALID_ARGUMENT", "Request contains an invalid argument."),
    401: ("UNAUTHENTICATED", "Request had invalid authentication credentials."),
    403: ("PERMISSION_DENIED", "The caller does not have permission."),
    404: ("NOT_FOUND", "Requested entity was not found."),
    408: ("DEADLINE_EXCEEDED", "Deadline expired before operation could complete."),
    429: ("RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
    500: ("INTERNAL", "An internal error has occurred. Please retry or report."),
    503: ("UNAVAILABLE", "The model is overloaded. Please try again later."),
    504: ("DEADLINE_EXCEEDED", "The request timed out. Please try again."),
}

# google.rpc.Code numbers: per-item errors inside a batch carry gRPC codes, not HTTP ones.
_GRPC_CODE = {
    "CANCELLED": 1, "UNKNOWN": 2, "INVALID_ARGUMENT": 3, "DEADLINE_EXCEEDED": 4,
    "NOT_FOUND": 5, "PERMISSION_DENIED": 7, "RESOURCE_EXHAUSTED": 8,
    "FAILED_PRECONDITION": 9, "INTERNAL": 13, "UNAVAILABLE": 14, "UNAUTHENTICATED": 16,
}

_INVALID_KEY_BODY = {
    "error": {
        "code": 400,
        "message": "API key not valid. Please pass a valid API key.",
        "status": "INVALID_ARGUMENT",
        "details": [
            {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}
        ],
    }
}

_MISSING_KEY_BODY = {
    "error": {
        "code": 403,
        "message": (
            "Method doesn't allow unregistered callers (callers without established identity)."
            " Please use API Key or other form of API consumer identity to call this API."
        ),
        "status": "PERMISSION_DENIED",
    }
}

_GENERATE_RE = re.compile(r"^/(v1|v1beta)/models/([^/:]+):(generateContent|batchGenerateContent)$")
_BATCH_GET_RE = re.compile(r"^/(v1|v1beta)/batches/([^/:]+)$")
_MODEL_GET_RE = re.compile(r"^/(v1|v1beta)/models/([^/:]+)$")
_COUNT_RE = re.compile(r"^/(v1|v1beta)/models/([^/:]+):countTokens$")

# Ids the fake answers 404 for unless told otherwise (shut down without routing).
RETIRED = frozenset({"gemini-2.0-flash", "gemini-2.0-flash-lite", "gemini-1.5-flash"})
# Models whose lowest thinking level is "low" (Pro, and Flash from 3.7 on).
# Thinking tokens a reply reports per requested level (minimal thinks nothing for a paraphrase).
THOUGHT_TOKENS = {"low": 64, "medium": 256, "high": 1024}
_NO_MINIMAL_RE = re.compile(r"^gemini-(3\.[7-9]-flash|[\d.]+-pro.*)$")


# --------------------------------------------------------------------------- faults


@dataclass(frozen=True)
class Fault:
    """Describe a scripted deviation from the normal answer of one request."""

    kind: str
    code: int = 200
    status: str = ""
    message: str = ""
    retry_after: Optional[float] = None
    seconds: float = 0.0
    text: str = ""
    finish_reason: str = "STOP"
    block_reason: str = "SAFETY"


def http_error(
    code: int,
    status: Optional[str] = None,
    message: Optional[str] = None,
    retry_after: Optional[float] = None,
) -> Fault:
    """Build a fault answering with a Google-style JSON error and the given HTTP code."""
    default_status, default_message = _DEFAULT_STATUS.get(code, ("UNKNOWN", "Unknown error."))
    return Fault(
        kind="http_error",
        code=code,
        status=status or default_status,
        message=message or default_message,
        retry_after=retry_after,
    )


def delay(seconds: float) -> Fault:
    """Build a fault that sleeps before answering normally (to trigger client timeouts)."""
    return Fault(kind="delay", seconds=float(seconds))


def drop_connection() -> Fault:
    """Build a fault that closes the socket without sending any response."""
    return Fault(kind="drop")


def raw_text(text: str, finish_reason: str = "STOP") -> Fault:
    """Build a fault answering 200 with exactly this model text and finish reason."""
    return Fault(kind="raw_text", text=text, finish_reason=finish_reason)


def raw_body(body: str, content_type: str = "text/html; charset=utf-8", code: int = 200) -> Fault:
    """Build a fault answering with exactly this HTTP body (a proxy's HTML page, plain text, cut-off JSON)."""
    return Fault(kind="raw_body", code=code, text=body, status=content_type)


def blocked_prompt(reason: str = "SAFETY") -> Fault:
    """Build a fault answering 200 with promptFeedback.blockReason and no candidates."""
    return Fault(kind="blocked", block_reason=reason)


def safety_finish() -> Fault:
    """Build a fault answering 200 with one candidate finished for SAFETY and no parts."""
    return Fault(kind="safety")


def empty_candidates() -> Fault:
    """Build a fault answering 200 with an empty candidates list."""
    return Fault(kind="empty")


# --------------------------------------------------------------------------- response bodies


def _usage(prompt_tokens: int, output_tokens: int) -> dict:
    return {
        "promptTokenCount": prompt_tokens,
        "candidatesTokenCount": output_tokens,
        "totalTokenCount": prompt_tokens + output_tokens,
    }


def _estimate_tokens(text: str) -> int:
    # Rough 4-chars-per-token estimate: callers only need plausible, non-zero usage numbers.
    return max(1, len(text) // 4) if text else 0


def token_count(text: str) -> int:
    """Return the fake's countTokens answer for a text: a rule of its own (words + 2), unlike any estimate."""
    return len(text.split()) + 2


def ok_response(text: str, finish_reason: str = "STOP", prompt_tokens: int = 0) -> dict:
    """Return a 200 generateContent body whose single candidate carries this text."""
    return {
        "candidates": [
            {
                "content": {"role": "model", "parts": [{"text": text}]},
                "finishReason": finish_reason,
                "index": 0,
            }
        ],
        "usageMetadata": _usage(prompt_tokens, _estimate_tokens(text)),
        "modelVersion": MODEL_VERSION,
    }


def _error_body(fault: Fault) -> dict:
    error: dict[str, Any] = {"code": fault.code, "message": fault.message, "status": fault.status}
    if fault.retry_after is not None:
        # Real 429s carry RetryInfo in details as well as (sometimes) the header.
        error["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.RetryInfo",
                "retryDelay": f"{fault.retry_after:g}s",
            }
        ]
    return {"error": error}


def _fault_body(fault: Fault, prompt_tokens: int) -> dict:
    """Return the 200 body for a content-level fault."""
    if fault.kind == "raw_text":
        return ok_response(fault.text, fault.finish_reason, prompt_tokens)
    if fault.kind == "blocked":
        return {
            "promptFeedback": {"blockReason": fault.block_reason},
            "usageMetadata": _usage(prompt_tokens, 0),
            "modelVersion": MODEL_VERSION,
        }
    if fault.kind == "safety":
        return {
            "candidates": [
                {
                    "finishReason": "SAFETY",
                    "index": 0,
                    "safetyRatings": [
                        {
                            "category": "HARM_CATEGORY_DANGEROUS_CONTENT",
                            "probability": "HIGH",
                            "blocked": True,
                        }
                    ],
                }
            ],
            "usageMetadata": _usage(prompt_tokens, 0),
            "modelVersion": MODEL_VERSION,
        }
    if fault.kind == "empty":
        return {
            "candidates": [],
            "usageMetadata": _usage(prompt_tokens, 0),
            "modelVersion": MODEL_VERSION,
        }
    raise ValueError(f"fault kind {fault.kind!r} has no response body")


def settings_fault(model: str, body: dict) -> Optional[Fault]:
    """Return the 400 a real model gives for thinking settings it refuses, or None."""
    thinking = thinking_config(body)
    level = _thinking_level(body)
    if "thinking_budget" in thinking and "thinking_level" in thinking:
        return http_error(400, message="Only one of thinking_budget and thinking_level may be set, not both.")
    if level and model.startswith("gemini-2."):
        return http_error(400, message=f"Thinking level is not supported for model {model}; use thinking_budget.")
    if level == "minimal" and _NO_MINIMAL_RE.match(model):
        return http_error(400, message=f"Thinking level MINIMAL is not supported for model {model}.")
    return None


def not_found(model: str, version: str = "v1beta") -> Fault:
    """Return the 404 Google gives for a model id it no longer serves."""
    return http_error(404, message=(
        f"models/{model} is not found for API version {version}, or is not supported for generateContent. "
        "Call ListModels to see the list of available models and their supported methods."
    ))


def model_body(model: str) -> dict:
    """Return the models.get body of a served model."""
    return {
        "name": f"models/{model}", "version": "001", "displayName": model, "inputTokenLimit": 1048576,
        "outputTokenLimit": 65536, "supportedGenerationMethods": ["generateContent", "batchGenerateContent"],
        "temperature": 1.0, "maxTemperature": 2.0, "thinking": True,
    }


# --------------------------------------------------------------------------- default responder


def prompt_text(body: dict) -> str:
    """Return the user text of a generateContent body (all user text parts, joined)."""
    chunks: list[str] = []
    for content in body.get("contents") or []:
        if not isinstance(content, dict) or content.get("role", "user") != "user":
            continue
        for part in content.get("parts") or []:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                chunks.append(part["text"])
    return "\n".join(chunks)


def seed_from_request(body: dict) -> Optional[dict]:
    """Return the seed dict found after a ``Seed:`` line in the prompt, or None."""
    lines = prompt_text(body).splitlines()
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped.startswith("Seed:"):
            continue
        rest = stripped[len("Seed:"):].strip()
        candidates = [rest] if rest else []
        candidates += [ln.strip() for ln in lines[i + 1:] if ln.strip()][:1]
        for candidate in candidates:
            try:
                seed = json.loads(candidate)
            except ValueError:
                continue
            if isinstance(seed, dict):
                return seed
    return None


def _strip_diacritics(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


_TEENCODE = {
    "không": "ko", "được": "dc", "gì": "j", "vậy": "z", "với": "vs", "mình": "mk",
    "biết": "bít", "nhiêu": "nhiu", "thế": "thía", "rồi": "r", "bạn": "bn", "em": "e",
}

# Phrase synonyms applied only to words outside names and numbers (longest first).
_SYNONYMS = [
    ("như thế nào", "ra sao"), ("bao lâu", "mất bao nhiêu thời gian"), ("ở đâu", "chỗ nào"),
    ("mấy giờ", "giờ nào"), ("thế nào", "ra sao"), ("giá vé", "tiền vé"), ("mở cửa", "hoạt động"),
    ("khách sạn", "chỗ ở"), ("được không", "có được không"), ("bao nhiêu tiền", "hết bao nhiêu"),
    ("muốn", "định"), ("ngon", "hấp dẫn"), ("nên", "có nên"), ("gì", "những gì"), ("giá", "mức giá"),
]

_TERSE_DROP = {"ạ", "vậy", "nhỉ", "thế", "à", "ơi", "nhé", "nha", "giúp"}


class _Question:
    """Split a seed question into tokens and remember which ones must not change."""

    def __init__(self, question: str, place: str) -> None:
        self.body = question.strip().rstrip("?？.!").rstrip()
        spans = [m.span() for m in re.finditer(r"\S+", self.body)]
        place_spans = []
        if place:
            place_spans = [m.span() for m in re.finditer(re.escape(place), self.body)]
        self.tokens: list[tuple[str, bool]] = []
        for idx, (start, end) in enumerate(spans):
            token = self.body[start:end]
            protected = (
                any(start < p_end and p_start < end for p_start, p_end in place_spans)
                or any(ch.isdigit() for ch in token)
                or (sum(ch.isupper() for ch in token) > 1)  # acronyms like TP.HCM, UBND
            )
            if token[:1].isupper() and not protected:
                if idx > 0:
                    protected = True  # mid-sentence capital: a name
                elif idx + 1 < len(spans):
                    nxt = self.body[spans[idx + 1][0]:spans[idx + 1][1]]
                    protected = nxt[:1].isupper()  # "Hà Nội ..." starts with a name
            self.tokens.append((token, protected))

    def render(
        self,
        word_fn: Callable[[str], str] = lambda w: w,
        run_fn: Callable[[str], str] = lambda run: run,
    ) -> str:
        """Return the body with the first free word lowercased and fns on free words/runs."""
        out: list[str] = []
        run: list[str] = []

        def flush() -> None:
            if run:
                text = run_fn(" ".join(run)).strip()
                if text:
                    out.append(text)
                run.clear()

        for idx, (token, protected) in enumerate(self.tokens):
            if protected:
                flush()
                out.append(token)
                continue
            if idx == 0:
                token = token[:1].lower() + token[1:]
            run.append(word_fn(token))
        flush()
        return " ".join(out)


def _teencode_word(token: str) -> str:
    return re.sub(r"\w+", lambda m: _TEENCODE.get(m.group(0), m.group(0)), token)


def _synonym_run(run: str) -> str:
    for old, new in _SYNONYMS:
        replaced = re.sub(rf"(?<!\w){re.escape(old)}(?!\w)", new, run)
        if replaced != run:
            return replaced  # one substitution keeps the question recognisable
    return run


def _terse_word(token: str) -> str:
    return "" if token.strip(",.!?").casefold() in _TERSE_DROP else token


def _terse_run(run: str) -> str:
    return " ".join(run.split())


# (register, method, template). {q}: question body, first free word lowercased; {Q}: body
# as written; {s}: body with one synonym swapped; {x}: body without filler words;
# {d}: body without diacritics; {t}: body in teencode. Names and numbers are never touched.
_TEMPLATES: list[tuple[str, str, str]] = [
    ("polite", "register", "Cho mình hỏi {q}?"),
    ("casual", "synonym", "Ad ơi, {s}?"),
    ("deferential", "register", "Dạ cho em hỏi {q} ạ?"),
    ("polite", "inversion", "{Q}, cho mình hỏi với?"),
    ("teencode", "register", "ad oi cho mk hỏi {t} z"),
    ("terse", "synonym", "{x}?"),
    ("nodiacritics", "register", "cho minh hoi {d} vay a"),
    ("casual", "register", "cho mình hỏi {q} nhé"),
    ("deferential", "synonym", "Dạ, em muốn hỏi là {s} ạ?"),
    ("polite", "inversion", "{Q} — mình đang thắc mắc, ai biết chỉ giúp với?"),
    ("polite", "synonym", "Xin hỏi {s}?"),
    ("casual", "register", "Shop ơi, {q} thế?"),
    ("terse", "register", "Hỏi nhanh: {x}?"),
    ("deferential", "register", "Anh chị cho em hỏi, {q} ạ?"),
    ("casual", "register", "mọi người ơi, {q} nha"),
    ("polite", "inversion", "Mình đang tìm hiểu thì thắc mắc: {q}?"),
    ("nodiacritics", "synonym", "ban oi, {d}?"),
    ("teencode", "synonym", "mn oi {t} z ạ"),
    ("deferential", "inversion", "{Q} ạ? Em cảm ơn ạ."),
    ("polite", "synonym", "Nhờ bạn giải đáp giúp: {s}?"),
    ("casual", "synonym", "Bạn ơi, {s} vậy?"),
    ("terse", "inversion", "Cần biết: {x}?"),
]

# Context clauses put in front of a rewrite when it is still too close to the seed or to an
# earlier variant. No digits (they would change the question's numbers), no names.
_CONTEXT = [
    "Nhà mình đang lên kế hoạch đi chơi cuối tuần,",
    "Lần đầu mình tới đây nên chưa rành đường,",
    "Bố mẹ em sắp lên thăm và muốn đi tham quan,",
    "Tụi mình là nhóm sinh viên đi phượt tiết kiệm,",
    "Em đọc trên mạng thấy mỗi trang nói một kiểu,",
    "Sắp tới công ty tổ chức du lịch cho nhân viên,",
    "Vợ chồng mình dẫn theo con nhỏ và ông bà,",
    "Mình ở xa mới chuyển về nên hỏi hơi kỹ,",
    "Hôm trước bạn bè giới thiệu mà mình quên mất chi tiết,",
    "Chuyến này đi gấp nên mình cần thông tin chính xác,",
    "Người yêu mình rất thích khám phá ẩm thực địa phương,",
    "Đoàn khách quốc tế bên mình cần hướng dẫn cụ thể,",
    "Dạo này trời hay mưa nên mình muốn chuẩn bị trước,",
    "Mình hay say xe nên tính toán lộ trình cẩn thận,",
    "Cả lớp cấp ba rủ nhau họp mặt đi chơi xa,",
    "Ông ngoại đi lại khó khăn nên nhà mình cân nhắc kỹ,",
]

# The project's dedup calls two user turns near-duplicates at a Jaccard of 0.8 over
# unaccented syllable 1-2-grams; staying under 0.7 keeps every fake variant admissible.
_MAX_SIMILARITY = 0.7

_ASSISTANT_OPENERS = ["Dạ vâng, ", "Dạ thưa bạn, ", "Dạ chào bạn, ", "Dạ vâng ạ, "]


def _loose_key(text: str) -> str:
    text = _strip_diacritics(unicodedata.normalize("NFC", text).casefold())
    text = re.sub(r"[^\w\s]|_", " ", text)
    text = re.sub(r"(\w)\1{2,}", r"\1", text)
    return " ".join(text.split())


def _grams(text: str) -> set[str]:
    tokens = _loose_key(text).split()
    return set(tokens) | {f"{a} {b}" for a, b in zip(tokens, tokens[1:])}


def _similarity(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def _exact_key(text: str) -> str:
    return " ".join(re.findall(r"\w+", unicodedata.normalize("NFC", text).casefold()))


def _assistant_from(answer: str, index: int) -> str:
    opener = _ASSISTANT_OPENERS[index % len(_ASSISTANT_OPENERS)]
    # Replace only the first "Dạ," opener (and the space after it); everything else,
    # in particular every number, stays byte-identical.
    return re.sub(r"Dạ,\s*", lambda _m: opener, answer, count=1)


def default_variants(seed: dict, n: int) -> list[dict]:
    """Return n deterministic, distinct variants of the seed's question and answer."""
    question = str(seed.get("question", ""))
    answer = str(seed.get("answer", ""))
    parsed = _Question(question, str(seed.get("place") or ""))
    fields = {
        "q": parsed.render(),
        "Q": parsed.body,
        "s": parsed.render(run_fn=_synonym_run),
        "x": parsed.render(_terse_word, _terse_run),
        "d": parsed.render(_strip_diacritics),
        "t": parsed.render(_teencode_word),
    }

    def with_context(base: str, clauses: list[str]) -> str:
        if not clauses:
            return base
        if base.startswith(fields["Q"]):
            base = fields["q"] + base[len(fields["Q"]):]  # keeps a leading name capitalised
        elif base[:1].isupper():
            base = base[:1].lower() + base[1:]
        return " ".join(clauses + [base])

    # Every candidate: template i, then with 1..3 context clauses picked per template so
    # that different variants tend to get different clauses.
    candidates: list[tuple[str, str, str]] = []
    for extra in range(4):
        for idx, (register, method, template) in enumerate(_TEMPLATES):
            clauses = [_CONTEXT[(idx + k * 7 + extra) % len(_CONTEXT)] for k in range(extra)]
            candidates.append((register, method, with_context(template.format(**fields), clauses)))

    taken_keys = {_exact_key(question)}
    taken_grams = [_grams(question)]
    chosen: list[tuple[str, str, str]] = []
    leftovers: list[tuple[str, str, str]] = []
    for register, method, user in candidates:
        if len(chosen) >= n:
            break
        key = _exact_key(user)
        if key in taken_keys:
            continue
        grams = _grams(user)
        if max(_similarity(grams, other) for other in taken_grams) >= _MAX_SIMILARITY:
            leftovers.append((register, method, user))
            continue
        taken_keys.add(key)
        taken_grams.append(grams)
        chosen.append((register, method, user))
    # Past what the clause pool can keep apart, fall back to merely distinct rewrites.
    for register, method, user in leftovers:
        if len(chosen) >= n:
            break
        key = _exact_key(user)
        if key not in taken_keys:
            taken_keys.add(key)
            chosen.append((register, method, user))
    for clause_a, clause_b in itertools.permutations(_CONTEXT, 2):
        if len(chosen) >= n:
            break
        user = with_context(f"Cho mình hỏi {fields['q']}?", [clause_a, clause_b])
        key = _exact_key(user)
        if key not in taken_keys:
            taken_keys.add(key)
            chosen.append(("polite", "register", user))
    return [
        {"user": user, "assistant": _assistant_from(answer, index), "register": register, "method": method}
        for index, (register, method, user) in enumerate(chosen[:n])
    ]


def default_responder(body: dict) -> Union[dict, Fault]:
    """Answer a variants prompt with JSON built from the seed in the prompt."""
    seed = seed_from_request(body)
    if seed is None:
        return http_error(400, "INVALID_ARGUMENT", "fake_gemini: no 'Seed:' line with a JSON object in the prompt.")
    try:
        n = int(seed.get("n", 3))
    except (TypeError, ValueError):
        n = 3
    payload = {"variants": default_variants(seed, max(0, n))}
    text = json.dumps(payload, ensure_ascii=False)
    return ok_response(text, "STOP", _estimate_tokens(prompt_text(body)))


# --------------------------------------------------------------------------- recording


@dataclass(frozen=True)
class RecordedRequest:
    """Hold one HTTP request as the fake received it."""

    method: str
    path: str
    headers: dict
    body: Any
    timestamp: float
    kind: str

    @property
    def text(self) -> str:
        """Return the user prompt text of a generate request ("" otherwise)."""
        return prompt_text(self.body) if isinstance(self.body, dict) else ""

    def __repr__(self) -> str:
        # Mask the key so pytest failure output and logs never show it.
        headers = {k: ("***" if k == API_KEY_HEADER else v) for k, v in self.headers.items()}
        return (
            f"RecordedRequest(method={self.method!r}, path={self.path!r}, kind={self.kind!r}, "
            f"headers={headers!r}, body={self.body!r}, timestamp={self.timestamp!r})"
        )


@dataclass
class _Rule:
    predicate: Callable[[dict], bool]
    fault: Fault
    remaining: Optional[int]


@dataclass
class _BatchJob:
    batch_id: str
    version: str
    model: str
    display_name: str
    items: list
    create_time: str
    polls: int = 0
    update_time: str = ""
    end_time: Optional[str] = None
    output: Optional[list] = None
    failed: int = 0


def _now_rfc3339() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


# --------------------------------------------------------------------------- HTTP plumbing


_QUIET_ERRORS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, socket.timeout)


class _Server(http.server.ThreadingHTTPServer):
    # The default backlog of 5 stalls bursts of concurrent connects from async clients.
    request_queue_size = 256
    daemon_threads = True
    allow_reuse_address = True

    fake: "FakeGemini"

    def handle_error(self, request, client_address) -> None:
        # Never print tracebacks: clients hanging up mid-answer is expected in fault tests.
        pass


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeGemini/1.0"
    sys_version = ""
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; with Nagle on, the body waits for the
        # client's delayed ACK and every call costs ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.fake._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        except _QUIET_ERRORS + (OSError,):
            pass
        finally:
            self.server.fake._track(self.connection, add=False)

    def handle(self) -> None:
        try:
            super().handle()
        except _QUIET_ERRORS:
            self.close_connection = True

    def do_POST(self) -> None:
        self.server.fake._dispatch(self, "POST")

    def do_GET(self) -> None:
        self.server.fake._dispatch(self, "GET")

    def do_DELETE(self) -> None:
        self.server.fake._dispatch(self, "DELETE")

    def send_json(self, code: int, payload: Any, extra_headers: Optional[dict] = None) -> None:
        """Send a JSON body with an explicit length so keep-alive connections stay usable."""
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_raw(code, "application/json; charset=UTF-8", data, extra_headers)

    def send_raw(self, code: int, content_type: str, data: bytes, extra_headers: Optional[dict] = None) -> None:
        """Send a body as it is, with an explicit length."""
        try:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (extra_headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except _QUIET_ERRORS:
            self.close_connection = True

    def drop(self) -> None:
        """Close the connection without writing a single byte."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


# --------------------------------------------------------------------------- the fake


Responder = Callable[[dict], Union[dict, Fault]]


class FakeGemini:
    """Serve a fake Gemini API on 127.0.0.1 for the duration of a with-block."""

    def __init__(
        self,
        responder: Optional[Responder] = None,
        latency: float = 0.0,
        valid_keys: Optional[set] = None,
        batch_running_polls: int = 1,
        batch_final_state: str = "BATCH_STATE_SUCCEEDED",
        reroute: Optional[dict] = None,
        retired: Optional[set] = None,
    ) -> None:
        self.reroute = dict(reroute or {})  # requested id -> the model that answers it
        self.retired = set(RETIRED if retired is None else retired)
        self.responder: Responder = responder or default_responder
        self.latency = float(latency)
        self.valid_keys = set(valid_keys) if valid_keys is not None else None
        self.batch_running_polls = int(batch_running_polls)
        self.batch_final_state = batch_final_state
        self.errors: list[str] = []  # responder exceptions, for debugging failed tests
        self.count_fault: Optional[Fault] = None  # answered to every countTokens request when set
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._script: deque[Fault] = deque()
        self._rules: list[_Rule] = []
        self._batches: dict[str, _BatchJob] = {}
        self._batch_ids = itertools.count(1)
        self._batch_done = threading.Lock()  # two racing polls must not run the responder twice
        self._connections: set = set()
        self._stopping = threading.Event()
        self._server: Optional[_Server] = None
        self._thread: Optional[threading.Thread] = None

    # ----- lifecycle

    def start(self) -> "FakeGemini":
        """Bind to an ephemeral loopback port and serve in a daemon thread."""
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-gemini", daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and cut every open client connection."""
        server = self._server
        if server is None:
            return
        self._stopping.set()  # wakes handlers sleeping in latency/delay
        server.shutdown()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            # Keep-alive connections would otherwise park handler threads until the client hangs up.
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> "FakeGemini":
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        where = self.base_url if self._server is not None else "stopped"
        return f"FakeGemini({where}, requests={len(self._requests)})"

    @property
    def base_url(self) -> str:
        """Return http://127.0.0.1:PORT of the running server."""
        if self._server is None:
            raise RuntimeError("FakeGemini is not running; use it as a context manager")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # ----- inspection

    @property
    def requests(self) -> list[RecordedRequest]:
        """Return a snapshot of every request received so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    def calls(self, kind: Optional[str] = "generate") -> int:
        """Count requests of a kind: generate, batch_create, batch_get, model_get, other; None for all."""
        with self._lock:
            return sum(1 for r in self._requests if kind is None or r.kind == kind)

    def batch_names(self) -> list[str]:
        """Return the names of batches created so far."""
        with self._lock:
            return [f"batches/{b}" for b in self._batches]

    # ----- fault injection

    def script(self, *faults: Fault) -> "FakeGemini":
        """Queue faults, consumed one per incoming generateContent request."""
        with self._lock:
            self._script.extend(faults)
        return self

    def fault_for(
        self, predicate: Callable[[dict], bool], fault: Fault, times: Optional[int] = 1
    ) -> "FakeGemini":
        """Apply fault to requests whose JSON body satisfies predicate (times=None: always)."""
        with self._lock:
            self._rules.append(_Rule(predicate, fault, times))
        return self

    def pending_faults(self) -> int:
        """Return how many scripted faults have not been consumed yet."""
        with self._lock:
            return len(self._script)

    # ----- internals

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)

    def _matching_rule(self, body: dict) -> Optional[Fault]:
        with self._lock:
            rules = list(self._rules)
        for rule in rules:
            try:
                matched = bool(rule.predicate(body))
            except Exception as exc:  # a broken predicate must not kill the handler
                self.errors.append(f"fault_for predicate raised {type(exc).__name__}: {exc}")
                continue
            if not matched:
                continue
            with self._lock:
                if rule.remaining is None:
                    return rule.fault
                if rule.remaining > 0:
                    rule.remaining -= 1
                    if rule.remaining == 0:
                        self._rules.remove(rule)
                    return rule.fault
        return None

    def _next_fault(self, body: dict) -> Optional[Fault]:
        fault = self._matching_rule(body)
        if fault is not None:
            return fault
        with self._lock:
            return self._script.popleft() if self._script else None

    def _respond(self, body: dict) -> Union[dict, Fault]:
        try:
            result = self.responder(body)
        except Exception as exc:
            self.errors.append(f"responder raised {type(exc).__name__}: {exc}")
            return http_error(500, "INTERNAL", f"fake_gemini responder raised {type(exc).__name__}")
        if not isinstance(result, (dict, Fault)):
            self.errors.append(f"responder returned {type(result).__name__}")
            return http_error(500, "INTERNAL", "fake_gemini responder returned neither dict nor Fault")
        return result

    def _dispatch(self, handler: _Handler, method: str) -> None:
        timestamp = time.monotonic()
        path = handler.path.split("?", 1)[0]
        headers = {name.lower(): value for name, value in handler.headers.items()}
        raw = b""
        length = int(headers.get("content-length") or 0)
        if length:
            raw = handler.rfile.read(length)
        body: Any = None
        if raw:
            try:
                body = json.loads(raw.decode("utf-8"))
            except ValueError:
                body = raw.decode("utf-8", "replace")

        count = _COUNT_RE.match(path) if method == "POST" else None
        generate = _GENERATE_RE.match(path) if method == "POST" else None
        batch_get = _BATCH_GET_RE.match(path) if method == "GET" else None
        model_get = _MODEL_GET_RE.match(path) if method == "GET" else None
        if generate:
            kind = "generate" if generate.group(3) == "generateContent" else "batch_create"
        elif batch_get:
            kind = "batch_get"
        elif model_get:
            kind = "model_get"
        elif count:
            kind = "count_tokens"
        else:
            kind = "other"
        with self._lock:
            self._requests.append(RecordedRequest(method, path, headers, body, timestamp, kind))

        key = headers.get(API_KEY_HEADER, "")
        if not key:
            handler.send_json(403, _MISSING_KEY_BODY)
            return
        if self.valid_keys is not None and key not in self.valid_keys:
            handler.send_json(400, _INVALID_KEY_BODY)
            return

        if kind == "other":
            handler.send_json(404, _error_body(http_error(404, "NOT_FOUND", f"Method not found: {method} {path}")))
            return
        if not isinstance(body, dict) and method == "POST":
            handler.send_json(400, _error_body(http_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")))
            return
        model = (generate or model_get).group(2) if (generate or model_get) else ""
        if model in self.retired and kind in ("generate", "batch_create", "model_get"):
            self._send_result(handler, not_found(model, (generate or model_get).group(1)), {})
        elif kind == "model_get":
            handler.send_json(200, model_body(model))
        elif kind == "count_tokens":
            self._handle_count(handler, body)
        elif kind == "generate":
            self._handle_generate(handler, body, model)
        elif kind == "batch_create":
            self._handle_batch_create(handler, generate.group(1), generate.group(2), body)
        else:
            self._handle_batch_get(handler, batch_get.group(2))

    def _handle_count(self, handler: _Handler, body: dict) -> None:
        """Answer models.countTokens ({"totalTokens": n}), or the count_fault when one is set."""
        if self.count_fault is not None:
            self._send_result(handler, self.count_fault, body)
            return
        text = "".join(part.get("text", "") for content in body.get("contents") or [] for part in content.get("parts") or [])
        handler.send_json(200, {"totalTokens": token_count(text)})

    def served(self, model: str) -> str:
        """Return the model that answers requests for this id."""
        return self.reroute.get(model, model)

    def _handle_generate(self, handler: _Handler, body: dict, model: str = "") -> None:
        self._sleep(self.latency)
        served = self.served(model)
        result: Union[dict, Fault, None] = settings_fault(served, body) or self._next_fault(body)
        if isinstance(result, Fault) and result.kind == "delay":
            self._sleep(result.seconds)
            result = None
        if result is None:
            result = self._respond(body)
            if isinstance(result, Fault) and result.kind == "delay":
                # A responder asking for a delay: sleep, then give the default answer.
                self._sleep(result.seconds)
                result = default_responder(body)
        self._send_result(handler, result, body, served)

    def _send_result(self, handler: _Handler, result: Union[dict, Fault], body: dict, served: str = "") -> None:
        if isinstance(result, dict):
            handler.send_json(200, _served_by(result, served, body))
        elif result.kind == "drop":
            handler.drop()
        elif result.kind == "http_error":
            extra = {"Retry-After": f"{result.retry_after:g}"} if result.retry_after is not None else None
            handler.send_json(result.code, _error_body(result), extra)
        elif result.kind == "raw_body":
            handler.send_raw(result.code, result.status, result.text.encode("utf-8"))
        else:
            handler.send_json(200, _served_by(_fault_body(result, _estimate_tokens(prompt_text(body))), served, body))

    def _handle_batch_create(self, handler: _Handler, version: str, model: str, body: dict) -> None:
        batch = body.get("batch") if isinstance(body.get("batch"), dict) else {}
        input_config = batch.get("inputConfig") or {}
        items = (input_config.get("requests") or {}).get("requests")
        if not isinstance(items, list):
            message = "fake_gemini supports only inline requests (inputConfig.requests.requests)."
            handler.send_json(400, _error_body(http_error(400, "INVALID_ARGUMENT", message)))
            return
        now = _now_rfc3339()
        with self._lock:
            batch_id = f"fakebatch{next(self._batch_ids):04d}"
            job = _BatchJob(
                batch_id=batch_id,
                version=version,
                model=f"models/{model}",
                display_name=str(batch.get("displayName") or batch_id),
                items=items,
                create_time=now,
                update_time=now,
            )
            self._batches[batch_id] = job
        handler.send_json(200, self._operation(job, "BATCH_STATE_PENDING"))

    def _handle_batch_get(self, handler: _Handler, batch_id: str) -> None:
        with self._lock:
            job = self._batches.get(batch_id)
            if job is not None:
                job.polls += 1
                polls = job.polls
        if job is None:
            handler.send_json(404, _error_body(http_error(404, "NOT_FOUND", f"Batch batches/{batch_id} not found.")))
            return
        if polls <= self.batch_running_polls:
            job.update_time = _now_rfc3339()
            handler.send_json(200, self._operation(job, "BATCH_STATE_RUNNING"))
            return
        if self.batch_final_state != "BATCH_STATE_SUCCEEDED":
            handler.send_json(200, self._operation(job, self.batch_final_state))
            return
        with self._batch_done:
            if job.output is None:
                self._complete(job)
        handler.send_json(200, self._operation(job, "BATCH_STATE_SUCCEEDED"))

    def _complete(self, job: _BatchJob) -> None:
        """Compute every inline response once, via rules and the responder."""
        output = []
        failed = 0
        for item in job.items:
            request = item.get("request") if isinstance(item, dict) else None
            entry: dict[str, Any] = {}
            if isinstance(item, dict) and "metadata" in item:
                entry["metadata"] = item["metadata"]
            if not isinstance(request, dict):
                entry["error"] = {"code": 3, "message": "Missing request.", "details": []}
                failed += 1
                output.append(entry)
                continue
            served = self.served(job.model.removeprefix("models/"))
            result: Union[dict, Fault, None] = settings_fault(served, request) or self._matching_rule(request)
            if result is None or (isinstance(result, Fault) and result.kind in ("delay", "drop", "raw_body")):
                # Transport faults make no sense inside a batch: answer normally.
                result = self._respond(request)
            if isinstance(result, Fault) and result.kind in ("delay", "drop", "raw_body"):
                result = default_responder(request)
            if isinstance(result, Fault) and result.kind == "http_error":
                entry["error"] = {
                    "code": _GRPC_CODE.get(result.status, 2),
                    "message": result.message,
                    "details": [],
                }
                failed += 1
            else:
                entry["response"] = _served_by(_as_body(result, request), served, request)
            output.append(entry)
        now = _now_rfc3339()
        with self._lock:
            job.output = output
            job.failed = failed
            job.end_time = now
            job.update_time = now

    def _operation(self, job: _BatchJob, state: str) -> dict:
        """Return the long-running-operation JSON the real service sends for a batch."""
        total = len(job.items)
        done = state == "BATCH_STATE_SUCCEEDED"
        stats: dict[str, str] = {"requestCount": str(total)}  # int64 fields are strings in JSON
        if done:
            stats["successfulRequestCount"] = str(total - job.failed)
            if job.failed:
                stats["failedRequestCount"] = str(job.failed)
        else:
            stats["pendingRequestCount"] = str(total)
        metadata: dict[str, Any] = {
            "@type": f"type.googleapis.com/google.ai.generativelanguage.{job.version}.GenerateContentBatch",
            "model": job.model,
            "displayName": job.display_name,
            "createTime": job.create_time,
            "updateTime": job.update_time,
            "batchStats": stats,
            "state": state,
            "name": f"batches/{job.batch_id}",
        }
        operation: dict[str, Any] = {"name": f"batches/{job.batch_id}", "metadata": metadata}
        if done:
            output = {"inlinedResponses": {"inlinedResponses": job.output}}
            metadata["endTime"] = job.end_time
            metadata["output"] = output
            operation["done"] = True
            operation["response"] = {
                "@type": (
                    f"type.googleapis.com/google.ai.generativelanguage.{job.version}"
                    ".GenerateContentBatchOutput"
                ),
                **output,
            }
        elif state != "BATCH_STATE_RUNNING" and state != "BATCH_STATE_PENDING":
            operation["done"] = True
            operation["error"] = {"code": _GRPC_CODE["INTERNAL"], "message": f"fake_gemini: the batch ended {state}."}
        return operation


def _served_by(body: dict, served: str, request: Optional[dict] = None) -> dict:
    """Return the body with modelVersion naming the model that answered (a responder's own choice is kept),
    and thoughtsTokenCount in its usage when the request asked for a thinking level above minimal."""
    if not served or body.get("modelVersion", MODEL_VERSION) != MODEL_VERSION:
        return body
    body = {**body, "modelVersion": served}
    thoughts = THOUGHT_TOKENS.get(_thinking_level(request or {}), 0)
    if thoughts and isinstance(body.get("usageMetadata"), dict):
        usage = body["usageMetadata"]
        body["usageMetadata"] = usage | {"thoughtsTokenCount": thoughts, "totalTokenCount": usage.get("totalTokenCount", 0) + thoughts}
    return body


def thinking_config(body: dict) -> dict:
    """Return generationConfig.thinkingConfig with snake_case keys (the SDK sends snake_case; the API takes both)."""
    config = body.get("generationConfig") if isinstance(body.get("generationConfig"), dict) else {}
    thinking = config.get("thinkingConfig") if isinstance(config.get("thinkingConfig"), dict) else {}
    return {re.sub(r"[A-Z]", lambda m: "_" + m.group(0).lower(), key): value for key, value in thinking.items()}


def _thinking_level(body: dict) -> str:
    return str(thinking_config(body).get("thinking_level") or "").lower()


def _as_body(result: Union[dict, Fault], request: dict) -> dict:
    """Turn a responder result into a 200 generateContent body."""
    if isinstance(result, dict):
        return result
    if result.kind == "http_error":
        raise ValueError("http_error has no 200 body")
    return _fault_body(result, _estimate_tokens(prompt_text(request)))
