"""A loopback fake of an OpenAI-compatible chat endpoint (POST /v1/chat/completions), stdlib only.

The model name picks the behaviour: `good` answers each probe with its reference; `premise` restates the false
premise; `memorised` gives the seed's figure instead of the context's; `inventor` invents a price for unknowns;
`english` answers in English; `flaky` fails each question's first four attempts (429, 500, malformed JSON,
a timeout) and then answers well; `broken` always answers 500; any other model is 404. Every request is
recorded as (model, user turn). With `key` set, a request without `Authorization: Bearer <key>` gets 401.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections import Counter

from augment.probes.probe import Probe

MODELS = ("good", "premise", "memorised", "inventor", "english", "flaky", "broken", "slow")
HANG_SECONDS = 1.5  # the "timeout" attempt; tests use a shorter client --timeout


def _figure(value: float) -> str:
    return f"{int(value):,}".replace(",", ".") if value == int(value) else str(value).replace(".", ",")


def bad_answer(model: str, probe: Probe) -> str:
    """Return the answer a badly behaved model gives to a probe (its reference where it behaves)."""
    if model == "english":
        return "Sure! The best place to visit is the lake. Please check the official website for the opening hours."
    if model == "premise" and probe.kind == "premise":
        return f"Dạ, đúng rồi ạ, {probe.expect['false_claim']} nên bạn cứ yên tâm lên kế hoạch nhé."
    if model == "memorised" and probe.kind == "conflict":
        return f"Dạ, theo mình biết thì khoảng {_figure(probe.expect['memorised_figures'][0])} thôi ạ. Bạn cần gì thêm cứ nhắn nhé."
    if model == "inventor" and probe.kind == "unknown":
        return f"Dạ, {probe.expect['what']} của {probe.expect['subject']} là 150.000 đồng, mở cửa 7:00 ạ."
    return probe.reference


class FakeOpenAI:
    """Serve chat completions on 127.0.0.1 from a background thread; use as a context manager."""

    def __init__(self, probes: list[Probe], key: str = "", delay: float = 0.0):
        self.by_user = {probe.user: probe for probe in probes}
        self.key, self.delay = key, delay
        self.requests: list[tuple[str, str]] = []
        self.attempts: Counter = Counter()
        self._lock = threading.Lock()
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        """Return the API root to pass as --base-url."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _reply(self, headers, body: bytes) -> tuple[int, dict, bytes]:
        """Return status, extra headers and body for one request."""
        if self.key and headers.get("Authorization") != f"Bearer {self.key}":
            return 401, {}, b'{"error": {"message": "Invalid API key"}}'
        request = json.loads(body)
        model, user = request["model"], request["messages"][-1]["content"]
        with self._lock:
            self.requests.append((model, user))
            self.attempts[(model, user)] += 1
            attempt = self.attempts[(model, user)]
        if model not in MODELS:
            return 404, {}, json.dumps({"error": {"message": f"model {model} not found"}}).encode()
        if model == "broken":
            return 500, {}, b'{"error": {"message": "internal error"}}'
        if model == "flaky" and attempt <= 4:
            if attempt == 4:
                time.sleep(HANG_SECONDS)
            return [(429, {"Retry-After": "0"}, b'{"error": "slow down"}'), (500, {}, b"oops"),
                    (200, {}, b'{"choices": [{"message": '), (200, {}, b"{}")][attempt - 1]
        if self.delay:
            time.sleep(self.delay)
        probe = self.by_user.get(user)
        content = bad_answer(model, probe) if probe else "Dạ, mình chưa hiểu câu hỏi ạ."
        reply = {"id": "fake", "object": "chat.completion", "model": model,
                 "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}]}
        return 200, {}, json.dumps(reply, ensure_ascii=False).encode("utf-8")

    def _handler(self):
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the stdlib's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, extra, payload = fake._reply(self.headers, body) if self.path.endswith("/chat/completions") else (404, {}, b"{}")
                try:
                    self.send_response(status)
                    for name, value in {"Content-Type": "application/json", **extra}.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:  # the client gave up (its timeout): nothing to answer
                    pass

            def log_message(self, *args):
                pass

        return Handler


if __name__ == "__main__":  # serve the probes of a file until killed: `python tests/fake_openai.py probes.jsonl`
    import sys

    from augment.probes.probe import read_probes

    with FakeOpenAI(read_probes(sys.argv[1])[1]) as fake:
        print(fake.base_url, flush=True)
        threading.Event().wait()
