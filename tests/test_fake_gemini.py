"""Prove that tests/fake_gemini.py speaks the wire protocol the real google-genai SDK uses."""

from __future__ import annotations

import asyncio
import json
import re
import time
import urllib.error
import urllib.request

import httpx2
import pydantic
import pytest
from google import genai
from google.genai import errors, types

from fake_gemini import (
    FakeGemini,
    blocked_prompt,
    default_variants,
    delay,
    drop_connection,
    empty_candidates,
    http_error,
    ok_response,
    prompt_text,
    raw_text,
    safety_finish,
    seed_from_request,
)

MODEL = "gemini-2.5-flash"
KEY = "test-key"

SEED = {
    "id": "seed-001",
    "intent": "gia_ve",
    "place": "Bảo tàng Hồ Chí Minh",
    "question": "Vé vào Bảo tàng Hồ Chí Minh giá bao nhiêu cho 2 người lớn và 1 trẻ em?",
    "answer": "Dạ, vé người lớn là 40.000đ, trẻ em dưới 15 tuổi được miễn phí, tổng cộng 80.000đ ạ.",
    "n": 3,
}


def make_prompt(seed: dict) -> str:
    """Build a prompt in the shape the project's generator sends."""
    return "Viết lại câu hỏi sau thành các biến thể.\nSeed:\n" + json.dumps(seed, ensure_ascii=False) + "\n"


class Variant(pydantic.BaseModel):
    # "register" would shadow BaseModel.register and silently drop out of the schema's
    # "required" list, so it goes through an alias.
    model_config = pydantic.ConfigDict(populate_by_name=True)

    user: str
    assistant: str
    register_: str = pydantic.Field(alias="register")
    method: str


class Variants(pydantic.BaseModel):
    variants: list[Variant]


@pytest.fixture(autouse=True)
def _loopback_env(monkeypatch):
    """Keep every client on loopback and on the SDK's default API version."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    for name in ("GOOGLE_GEMINI_BASE_URL", "GOOGLE_GENAI_API_VERSION", "HTTP_PROXY", "HTTPS_PROXY",
                 "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def fake():
    with FakeGemini() as server:
        yield server


def client_for(server: FakeGemini, api_key: str = KEY, **http_options) -> genai.Client:
    """Build a real SDK client pointed at the fake (keep it in a variable: see note)."""
    # genai.Client.__del__ closes its HTTP client, so client_for(...).models.generate_content(...)
    # on a temporary fails with "Cannot send a request, as the client has been closed".
    return genai.Client(api_key=api_key, http_options=types.HttpOptions(base_url=server.base_url, **http_options))


def json_config(**extra) -> types.GenerateContentConfig:
    return types.GenerateContentConfig(response_mime_type="application/json", response_schema=Variants, **extra)


# --------------------------------------------------------------------------- generateContent


def test_sync_text_and_parsed_with_schema(fake):
    client = client_for(fake)
    response = client.models.generate_content(
        model=MODEL,
        contents=make_prompt(SEED),
        config=json_config(system_instruction="Bạn là trợ lý.", temperature=0.9, seed=7, max_output_tokens=2048),
    )

    data = json.loads(response.text)
    assert len(data["variants"]) == 3
    assert isinstance(response.parsed, Variants)
    assert [v.user for v in response.parsed.variants] == [v["user"] for v in data["variants"]]
    assert response.candidates[0].finish_reason == types.FinishReason.STOP
    assert response.usage_metadata.prompt_token_count > 0

    (request,) = fake.requests
    assert request.method == "POST"
    assert request.path == f"/v1/models/{MODEL}:generateContent"
    assert request.kind == "generate"
    assert request.headers["x-goog-api-key"] == KEY
    assert request.body["contents"] == [{"role": "user", "parts": [{"text": make_prompt(SEED)}]}]
    assert request.body["systemInstruction"]["parts"] == [{"text": "Bạn là trợ lý."}]
    generation = request.body["generationConfig"]
    assert generation["responseMimeType"] == "application/json"
    assert generation["responseSchema"]["type"] == "OBJECT"
    assert generation["temperature"] == 0.9 and generation["seed"] == 7 and generation["maxOutputTokens"] == 2048
    assert fake.calls() == 1
    assert KEY not in repr(request) and KEY not in repr(fake.requests)


def test_v1beta_path_is_accepted(fake):
    client = client_for(fake, api_version="v1beta")
    response = client.models.generate_content(model=MODEL, contents=make_prompt(SEED))
    assert len(json.loads(response.text)["variants"]) == 3
    assert fake.requests[0].path == f"/v1beta/models/{MODEL}:generateContent"


def test_custom_responder_sees_the_request_body():
    seen = []

    def responder(body):
        seen.append(prompt_text(body))
        return ok_response('{"ok": true}')

    with FakeGemini(responder=responder) as server:
        client = client_for(server)
        response = client.models.generate_content(model=MODEL, contents="xin chào")
    assert response.text == '{"ok": true}'
    assert seen == ["xin chào"]


def test_prompt_without_seed_is_rejected_by_default_responder(fake):
    client = client_for(fake)
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model=MODEL, contents="no seed here")
    assert caught.value.code == 400
    assert "Seed:" in caught.value.message


# --------------------------------------------------------------------------- errors and faults


def test_429_raises_client_error_with_retry_after(fake):
    fake.script(http_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded.", retry_after=7))
    client = client_for(fake)
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model=MODEL, contents=make_prompt(SEED))
    err = caught.value
    assert (err.code, err.status, err.message) == (429, "RESOURCE_EXHAUSTED", "Quota exceeded.")
    assert err.response.headers["retry-after"] == "7"
    assert err.details["error"]["details"][0]["retryDelay"] == "7s"
    # The script is used up, so the next call falls back to the responder.
    assert client.models.generate_content(model=MODEL, contents=make_prompt(SEED)).text
    assert fake.calls() == 2


@pytest.mark.parametrize(
    ("code", "status", "exc_type"),
    [(500, "INTERNAL", errors.ServerError), (503, "UNAVAILABLE", errors.ServerError),
     (400, "INVALID_ARGUMENT", errors.ClientError), (401, "UNAUTHENTICATED", errors.ClientError),
     (403, "PERMISSION_DENIED", errors.ClientError)],
)
def test_http_errors_map_to_sdk_exceptions(fake, code, status, exc_type):
    fake.script(http_error(code))
    client = client_for(fake)
    with pytest.raises(exc_type) as caught:
        client.models.generate_content(model=MODEL, contents=make_prompt(SEED))
    assert (caught.value.code, caught.value.status) == (code, status)


def test_invalid_and_missing_api_key():
    with FakeGemini(valid_keys={KEY}) as server:
        wrong = client_for(server, api_key="wrong-key")
        with pytest.raises(errors.ClientError) as caught:
            wrong.models.generate_content(model=MODEL, contents=make_prompt(SEED))
        err = caught.value
        assert (err.code, err.status) == (400, "INVALID_ARGUMENT")
        assert err.message == "API key not valid. Please pass a valid API key."
        assert err.details["error"]["details"][0]["reason"] == "API_KEY_INVALID"
        client = client_for(server)
        assert client.models.generate_content(model=MODEL, contents=make_prompt(SEED)).text

        # The SDK refuses to send without a key, so check the missing-key answer with urllib.
        request = urllib.request.Request(
            f"{server.base_url}/v1/models/{MODEL}:generateContent",
            data=b'{"contents": []}',
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with pytest.raises(urllib.error.HTTPError) as http_caught:
            opener.open(request, timeout=5)
        assert http_caught.value.code == 403
        assert json.loads(http_caught.value.read())["error"]["status"] == "PERMISSION_DENIED"
        assert server.calls() == 3


def test_blocked_prompt_gives_text_none(fake):
    fake.script(blocked_prompt("SAFETY"))
    client = client_for(fake)
    response = client.models.generate_content(model=MODEL, contents=make_prompt(SEED), config=json_config())
    assert response.text is None
    assert response.parsed is None
    assert not response.candidates
    assert response.prompt_feedback.block_reason == types.BlockedReason.SAFETY


def test_content_faults(fake):
    truncated = '{"variants": [{"user": "Cho mình hỏi'
    fake.script(
        safety_finish(),
        empty_candidates(),
        raw_text(truncated, "MAX_TOKENS"),
        raw_text('```json\n{"variants": []}\n```'),
        raw_text('Đây là kết quả:\n{"variants": []}\nHết.'),
    )
    client = client_for(fake)

    def call():
        return client.models.generate_content(model=MODEL, contents=make_prompt(SEED), config=json_config())

    safety = call()
    assert safety.text is None and safety.candidates[0].finish_reason == types.FinishReason.SAFETY
    empty = call()
    assert empty.text is None and not empty.candidates
    cut = call()
    assert cut.text == truncated and cut.parsed is None
    assert cut.candidates[0].finish_reason == types.FinishReason.MAX_TOKENS
    fenced = call()
    assert fenced.text.startswith("```json") and fenced.parsed is None
    prose = call()
    assert prose.text.startswith("Đây là") and prose.parsed is None
    assert fake.pending_faults() == 0


def test_delay_triggers_client_timeout(fake):
    fake.script(delay(5))
    client = client_for(fake, timeout=300)  # milliseconds
    started = time.monotonic()
    with pytest.raises(httpx2.ReadTimeout):  # a transport error, not a google.genai APIError
        client.models.generate_content(model=MODEL, contents=make_prompt(SEED))
    assert time.monotonic() - started < 3
    assert fake.requests[0].headers["x-server-timeout"] == "1"


def test_drop_connection_then_recover(fake):
    fake.script(drop_connection())
    client = client_for(fake)
    with pytest.raises(httpx2.RemoteProtocolError):
        client.models.generate_content(model=MODEL, contents=make_prompt(SEED))
    assert client.models.generate_content(model=MODEL, contents=make_prompt(SEED)).text
    assert fake.calls() == 2


def test_fault_for_targets_one_seed(fake):
    other = dict(SEED, id="seed-002", question="Chùa Một Cột mở cửa lúc mấy giờ?", place="Chùa Một Cột")
    fake.fault_for(lambda body: '"seed-002"' in prompt_text(body), http_error(503), times=2)
    client = client_for(fake)
    assert client.models.generate_content(model=MODEL, contents=make_prompt(SEED)).text
    for _ in range(2):
        with pytest.raises(errors.ServerError):
            client.models.generate_content(model=MODEL, contents=make_prompt(other))
    response = client.models.generate_content(model=MODEL, contents=make_prompt(other))
    assert "Chùa Một Cột" in json.loads(response.text)["variants"][0]["user"]


def test_sdk_retry_options_retry_on_503(fake):
    fake.script(http_error(503), http_error(429))
    client = client_for(
        fake, retry_options=types.HttpRetryOptions(attempts=3, initial_delay=0.01, max_delay=0.02, jitter=0)
    )
    assert client.models.generate_content(model=MODEL, contents=make_prompt(SEED)).text
    assert fake.calls() == 3


# --------------------------------------------------------------------------- async


def test_async_client_and_concurrent_burst():
    async def run(server):
        client = client_for(server)
        try:
            single = await client.aio.models.generate_content(
                model=MODEL, contents=make_prompt(SEED), config=json_config()
            )
            assert isinstance(single.parsed, Variants)
            seeds = [dict(SEED, id=f"seed-{i:03d}") for i in range(200)]
            return await asyncio.gather(
                *(client.aio.models.generate_content(model=MODEL, contents=make_prompt(s)) for s in seeds)
            )
        finally:
            await client.aio.aclose()

    with FakeGemini(latency=0.05) as server:
        started = time.monotonic()
        responses = asyncio.run(run(server))
        elapsed = time.monotonic() - started
    assert len(responses) == 200 and all(r.text for r in responses)
    assert server.calls() == 201
    # 200 overlapping calls with 50 ms latency each: serial would take 10 s.
    assert elapsed < 5, elapsed


def test_async_errors(fake):
    async def run():
        client = client_for(fake)
        try:
            with pytest.raises(errors.ClientError) as caught:
                await client.aio.models.generate_content(model=MODEL, contents=make_prompt(SEED))
            assert caught.value.code == 429
            blocked = await client.aio.models.generate_content(model=MODEL, contents=make_prompt(SEED))
            assert blocked.text is None
        finally:
            await client.aio.aclose()

    fake.script(http_error(429), blocked_prompt())
    asyncio.run(run())


# --------------------------------------------------------------------------- batch


def test_batch_create_and_get_round_trip(fake):
    seeds = [dict(SEED, id=f"seed-{i:03d}", n=2) for i in range(3)]
    fake.fault_for(lambda body: '"seed-002"' in prompt_text(body), http_error(429), times=1)
    client = client_for(fake)
    job = client.batches.create(
        model=MODEL,
        src=[
            {
                "contents": [{"role": "user", "parts": [{"text": make_prompt(s)}]}],
                "config": {"response_mime_type": "application/json", "system_instruction": "Bạn là trợ lý."},
                "metadata": {"key": s["id"]},
            }
            for s in seeds
        ],
        config={"display_name": "variants-run"},
    )
    assert job.name.startswith("batches/")
    assert job.state == types.JobState.JOB_STATE_PENDING
    assert job.display_name == "variants-run"

    create = fake.requests[0]
    assert create.path == f"/v1/models/{MODEL}:batchGenerateContent"
    assert create.kind == "batch_create"
    assert create.body["batch"]["displayName"] == "variants-run"
    inline = create.body["batch"]["inputConfig"]["requests"]["requests"]
    assert inline[0]["metadata"] == {"key": "seed-000"}
    assert inline[0]["request"]["generationConfig"] == {"responseMimeType": "application/json"}
    assert inline[0]["request"]["systemInstruction"]["parts"] == [{"text": "Bạn là trợ lý."}]

    running = client.batches.get(name=job.name)
    assert running.state == types.JobState.JOB_STATE_RUNNING
    assert running.dest is None
    done = client.batches.get(name=job.name)
    assert done.state == types.JobState.JOB_STATE_SUCCEEDED
    assert done.end_time is not None
    assert fake.requests[-1].path == f"/v1/batches/{job.name.split('/')[1]}"
    assert fake.calls("batch_get") == 2 and fake.calls("generate") == 0

    results = done.dest.inlined_responses
    assert [r.metadata for r in results] == [{"key": s["id"]} for s in seeds]
    for result, seed in zip(results[:2], seeds[:2]):
        variants = json.loads(result.response.text)["variants"]
        assert [v["user"] for v in variants] == [v["user"] for v in default_variants(seed, 2)]
    assert results[2].response is None
    assert results[2].error.code == 8  # google.rpc.Code.RESOURCE_EXHAUSTED

    # Further polls keep answering SUCCEEDED with the same results.
    again = client.batches.get(name=job.name)
    assert again.dest.inlined_responses[0].response.text == results[0].response.text


@pytest.mark.parametrize("state", ["FAILED", "CANCELLED", "EXPIRED"])
def test_batch_can_end_without_output(state):
    with FakeGemini(batch_running_polls=0, batch_final_state=f"BATCH_STATE_{state}") as server:
        client = client_for(server)
        job = client.batches.create(model=MODEL, src=[{"contents": make_prompt(SEED)}])
        done = client.batches.get(name=job.name)
    assert done.state == types.JobState(f"JOB_STATE_{state}")
    assert done.dest is None and server.calls("generate") == 0


def test_batch_unknown_name_is_404(fake):
    client = client_for(fake)
    with pytest.raises(errors.ClientError) as caught:
        client.batches.get(name="batches/does-not-exist")
    assert caught.value.code == 404


# --------------------------------------------------------------------------- default responder


def test_default_variants_are_distinct_and_keep_names_and_numbers():
    variants = default_variants(SEED, 40)
    users = [v["user"] for v in variants]
    normalized = {" ".join(re.findall(r"\w+", u.casefold())) for u in users}
    assert len(normalized) == 40
    assert SEED["question"] not in users
    numbers = re.findall(r"\d+", SEED["question"])
    for variant in variants:
        assert SEED["place"] in variant["user"]
        assert all(num in variant["user"] for num in numbers)
        assert variant["register"] in {"polite", "deferential", "casual", "teencode", "terse", "nodiacritics"}
        assert variant["method"] in {"inversion", "synonym", "register"}
        assert not variant["assistant"].startswith("Dạ, ")
        assert variant["assistant"].endswith(SEED["answer"][len("Dạ, "):])
    assert variants[0]["assistant"].startswith("Dạ vâng, ")
    assert default_variants(SEED, 40) == variants  # deterministic
    assert len({v["register"] for v in variants}) == 6


def test_default_variants_pass_the_project_gates_and_dedup():
    from augment.quality.dedup import Deduper
    from augment.quality.gates import check_sample, seed_sample
    from augment.records import Sample, Seed

    seed = Seed(**{k: v for k, v in SEED.items() if k != "n"})
    deduper = Deduper()
    assert deduper.admit(seed_sample(seed)) == ""
    for variant in default_variants(SEED, 12):
        sample = Sample(seed, variant["user"], variant["assistant"], "gemini", variant["method"], variant["register"])
        assert check_sample(sample) == "", variant
        assert deduper.admit(sample) == "", variant


def test_seed_from_request_shapes():
    body = {"contents": [{"role": "user", "parts": [{"text": "Hi"}, {"text": make_prompt(SEED)}]}]}
    assert seed_from_request(body) == SEED
    inline = {"contents": [{"role": "user", "parts": [{"text": "Seed: " + json.dumps(SEED)}]}]}
    assert seed_from_request(inline) == SEED
    assert seed_from_request({"contents": [{"role": "user", "parts": [{"text": "nothing"}]}]}) is None
