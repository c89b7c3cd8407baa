"""The model catalogue and what it decides: settings per family, served model, retired models, --check-model, cost.

Every run here goes through the real google-genai SDK against the loopback fake.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections import Counter

import pytest

from augment.generators.gemini import models, sdk
from augment.run import main
from conftest import SEEDS, seed_file
from fake_gemini import FakeGemini, http_error, thinking_config
from test_gemini import KEY, fake, point_at  # noqa: F401 - fake is a fixture used here too

DEFAULT = "gemini-3.5-flash-lite"
FIELDS = ("family", "status", "released", "shutdown", "routed_to", "thinking", "paraphrase_thinking", "temperature",
          "input_usd", "output_usd", "batch_input_usd", "batch_output_usd", "checked", "source")


def run(seeds_path, out, *flags: str) -> int:
    return main(["--seeds", str(seeds_path), "--out", str(out), "--quiet", "--n", "4", "--backoff", "0.01",
                 "--timeout", "5", "--misconceptions", "0", *flags])


def generation_configs(server: FakeGemini) -> list[dict]:
    """Return each generate request's generationConfig, its thinkingConfig as {"thinking_level": "MINIMAL"} etc."""
    requests = [request.body for request in server.requests if request.kind == "generate"]
    return [body.get("generationConfig", {}) | {"thinkingConfig": thinking_config(body)} for body in requests]


def manifest_of(out) -> dict:
    return json.loads(out.with_name(f"{out.stem}.manifest.json").read_text(encoding="utf-8"))


def warnings(err: str, word: str) -> list[str]:
    return [line for line in err.splitlines() if word in line]


# ---------------------------------------------------------------- the catalogue


def test_every_row_is_complete_checked_and_sourced_from_google():
    rows = models._catalogue()["models"]
    assert len(rows) >= 8
    for model, row in rows.items():
        assert tuple(row) == FIELDS, model
        assert row["status"] in {"ga", "preview", "deprecated", "shut-down"} and row["family"] in {"2.0", "2.5", "3"}
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["checked"]) and row["source"].startswith("https://ai.google.dev/")
        assert row["batch_input_usd"] == row["input_usd"] / 2 and row["batch_output_usd"] == row["output_usd"] / 2
        assert row["thinking"] == {"3": "level", "2.5": "budget", "2.0": "none"}[row["family"]]
        assert row["temperature"] is (row["family"] != "3")  # Google advises its default 1.0 for Gemini 3
        assert not row["routed_to"] or row["routed_to"] in rows


def test_default_is_the_cheapest_ga_model_at_minimal_thinking_with_no_shutdown():
    default = models.lookup(models.default_model())
    assert default.id == DEFAULT and default.status == "ga" and not default.shutdown
    candidates = [models.lookup(m) for m in models._catalogue()["models"]]
    candidates = [m for m in candidates if m.status == "ga" and not m.shutdown and m.paraphrase_thinking == "minimal"]
    assert min(candidates, key=lambda m: m.prices()) == default
    assert models.lookup("gemini-2.5-flash").routed_to == DEFAULT  # Google's own replacement for the old default


@pytest.mark.parametrize("model, temperature, expected", [
    (DEFAULT, None, {"thinking_config": {"thinking_level": "minimal"}}),
    (DEFAULT, 0.7, {"thinking_config": {"thinking_level": "minimal"}, "temperature": 0.7}),
    ("gemini-3.8-flash", None, {"thinking_config": {"thinking_level": "low"}}),  # 3.8 Flash has no "minimal"
    ("gemini-2.5-flash-lite", None, {"thinking_config": {"thinking_budget": 0}, "temperature": 0.9}),
    ("gemini-2.5-flash-lite", 1.2, {"thinking_config": {"thinking_budget": 0}, "temperature": 1.2}),
    ("gemini-2.0-flash", None, {"temperature": 0.9}),
    ("gemini-9-experimental", None, {}),
    ("gemini-9-experimental", 0.5, {"temperature": 0.5}),
])
def test_settings_come_from_the_catalogue_per_family(model, temperature, expected):
    settings = models.generation_settings(model, temperature)
    assert settings == expected
    assert len(settings.get("thinking_config", {})) <= 1  # never both thinking fields


def test_same_model_accepts_a_pinned_version_only():
    assert models.same_model("gemini-2.0-flash", "gemini-2.0-flash-001")
    assert models.same_model(DEFAULT, "models/" + DEFAULT) and models.same_model(DEFAULT, "")
    assert not models.same_model("gemini-3.5-flash", DEFAULT) and not models.same_model("gemini-2.5-flash", DEFAULT)


# ---------------------------------------------------------------- the fake behaves like Google, through the SDK


def test_fake_answers_as_google_does(fake):
    fake.reroute["gemini-2.5-flash"] = DEFAULT
    client = sdk.new_client(KEY, 5)
    try:
        def ask(model: str, **thinking):
            config = sdk.content_config("hệ thống", {"thinking_config": thinking} if thinking else {})
            return client.models.generate_content(model=model, contents='Seed: {"question": "Hỏi?", "answer": "Dạ.", "n": 1}', config=config)

        assert ask(DEFAULT, thinking_level="minimal").model_version == DEFAULT
        assert ask("gemini-2.5-flash").model_version == DEFAULT  # rerouted
        assert ask("gemini-3.8-flash", thinking_level="low").usage_metadata.thoughts_token_count == 64
        for model, thinking, message in [
            (DEFAULT, {"thinking_level": "minimal", "thinking_budget": 0}, "not both"),
            ("gemini-2.5-flash-lite", {"thinking_level": "low"}, "Thinking level is not supported"),
            ("gemini-3.8-flash", {"thinking_level": "minimal"}, "MINIMAL is not supported"),
        ]:
            with pytest.raises(Exception) as refused:
                ask(model, **thinking)
            assert refused.value.code == 400 and message in refused.value.message
        with pytest.raises(Exception) as gone:
            ask("gemini-2.0-flash")
        assert gone.value.code == 404 and "is not found" in gone.value.message
        assert client.models.get(model=DEFAULT).name == f"models/{DEFAULT}"
    finally:
        client.close()


# ---------------------------------------------------------------- runs


def test_default_run_sends_thinking_level_and_no_temperature_and_writes_1000_lines(tmp_path, fake):
    out = tmp_path / "o" / "f.jsonl"
    assert main(["--seeds", str(SEEDS), "--out", str(out), "--quiet", "--n", "10", "--no-review"]) == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 1000
    configs = generation_configs(fake)
    assert len(configs) >= 100
    assert all(c["thinkingConfig"] == {"thinking_level": "MINIMAL"} and "temperature" not in c for c in configs)
    manifest = manifest_of(out)
    assert manifest["model"] == DEFAULT and manifest["served_models"] == {DEFAULT: len(configs)}
    tokens = manifest["tokens"]
    assert manifest["cost_usd"] == pytest.approx((tokens["prompt"] * 0.30 + (tokens["output"] + tokens["thoughts"]) * 2.50) / 1e6, abs=1e-6)


def test_temperature_is_sent_only_when_asked(tmp_path, fake, ten_seeds):
    seeds = seed_file(tmp_path / "seeds.csv", ten_seeds)
    assert run(seeds, tmp_path / "o" / "f.jsonl", "--temperature", "0.7", "--no-cache") == 0
    assert {c.get("temperature") for c in generation_configs(fake)} == {0.7}
    with pytest.raises(SystemExit) as usage:
        main(["--temperature", "3", "--offline"])  # out of 0-2: a usage error
    assert usage.value.code == 2


def test_a_25_model_gets_a_thinking_budget_and_temperature(tmp_path, fake, ten_seeds):
    seeds = seed_file(tmp_path / "seeds.csv", ten_seeds)
    assert run(seeds, tmp_path / "o" / "f.jsonl", "--model", "gemini-2.5-flash-lite") == 0
    configs = generation_configs(fake)
    assert configs and all(c["thinkingConfig"] == {"thinking_budget": 0} and c["temperature"] == 0.9 for c in configs)


def test_unknown_model_runs_with_generic_settings_and_one_warning(tmp_path, fake, ten_seeds, capsys):
    seeds = seed_file(tmp_path / "seeds.csv", ten_seeds)
    out = tmp_path / "o" / "f.jsonl"
    assert run(seeds, out, "--model", "gemini-9-experimental") == 0
    err = capsys.readouterr().err
    assert len(warnings(err, "not in the catalogue")) == 1 and "gemini-9-experimental" in err
    assert len(err.strip().splitlines()) == 1
    configs = generation_configs(fake)
    assert configs and all(not c["thinkingConfig"] and "temperature" not in c for c in configs)
    assert manifest_of(out)["cost_usd"] is None  # no prices: unknown, not zero


def test_rerouted_replies_warn_once_naming_both_models_and_are_counted(tmp_path, monkeypatch, ten_seeds, capsys):
    seeds = seed_file(tmp_path / "seeds.csv", ten_seeds)
    out = tmp_path / "o" / "f.jsonl"
    with FakeGemini(reroute={"gemini-2.5-flash": DEFAULT}) as server:
        point_at(monkeypatch, server)
        assert run(seeds, out, "--model", "gemini-2.5-flash") == 0
        rerouted = warnings(capsys.readouterr().err, "answered with")
        assert len(rerouted) == 1 and DEFAULT in rerouted[0] and "requested gemini-2.5-flash" in rerouted[0]
        manifest = manifest_of(out)
        assert manifest["model"] == "gemini-2.5-flash" and manifest["served_models"] == {DEFAULT: server.calls()}
        assert json.loads(out.with_name("f.report.json").read_text(encoding="utf-8"))["served_models"] == {DEFAULT: server.calls()}
        with sqlite3.connect(tmp_path / ".augment-cache" / "gemini.sqlite") as db:
            served = Counter(json.loads(text)["served"] for (text,) in db.execute("SELECT text FROM responses"))
        assert served == {DEFAULT: server.calls()}  # every cached reply keeps the model that served it
        calls = server.calls()
        assert run(seeds, tmp_path / "p" / "f.jsonl", "--model", "gemini-2.5-flash") == 0  # from the cache
        assert server.calls() == calls and len(warnings(capsys.readouterr().err, "answered with")) == 1
        assert manifest_of(tmp_path / "p" / "f.jsonl")["served_models"] == {DEFAULT: calls}


def test_refused_settings_give_one_line_with_googles_message_and_the_default(tmp_path, fake, ten_seeds, capsys):
    refusal = "Thinking level MINIMAL is not supported for model gemini-3.5-flash-lite."
    fake.fault_for(lambda body: True, http_error(400, message=refusal), times=None)
    seeds = seed_file(tmp_path / "seeds.csv", ten_seeds)
    assert run(seeds, tmp_path / "o" / "f.jsonl") == 3  # offline fallback, outputs written
    lines = warnings(capsys.readouterr().err, "refused the generation settings")
    assert len(lines) == 1 and "HTTP 400 INVALID_ARGUMENT" in lines[0] and refusal in lines[0]
    assert f"current default is {DEFAULT}" in lines[0]
    assert run(seeds, tmp_path / "p" / "f.jsonl", "--no-fallback") == 1


def test_dry_run_prints_usd_at_standard_and_batch_prices(tmp_path, monkeypatch, ten_seeds, capsys):
    monkeypatch.setenv("GEMINI_API_KEY", KEY)
    seeds = seed_file(tmp_path / "seeds.csv", ten_seeds)
    costs = {}
    for flags in ((), ("--batch",)):
        assert main(["--seeds", str(seeds), "--out", str(tmp_path / "o" / "f.jsonl"), "--dry-run", "--misconceptions", "0", *flags]) == 0
        out = capsys.readouterr().out
        costs[flags] = float(re.search(r"cost, estimated: ~\$([\d.]+) USD", out).group(1))
        assert ("Batch prices" if flags else "standard prices") in out and "thinking" in out
    assert costs[()] > 0 and costs[("--batch",)] == pytest.approx(costs[()] / 2, abs=1e-4)
    assert main(["--seeds", str(seeds), "--out", str(tmp_path / "o" / "f.jsonl"), "--dry-run", "--misconceptions", "0", "--model", "gemini-3.8-flash"]) == 0
    assert "thinking ~3,000 (low)" in capsys.readouterr().out  # 10 requests x 300 estimated thinking tokens


def test_run_reports_thinking_tokens_and_their_cost(tmp_path, fake, ten_seeds, capsys):
    seeds = seed_file(tmp_path / "seeds.csv", ten_seeds)
    out = tmp_path / "o" / "f.jsonl"
    assert main(["--seeds", str(seeds), "--out", str(out), "--n", "4", "--model", "gemini-3.8-flash", "--misconceptions", "0"]) == 0
    tokens, cost = manifest_of(out)["tokens"], manifest_of(out)["cost_usd"]
    assert tokens["thoughts"] == 64 * fake.calls() > 0
    assert cost == pytest.approx((tokens["prompt"] * 0.75 + (tokens["output"] + tokens["thoughts"]) * 3.75) / 1e6, abs=1e-6)
    summary = capsys.readouterr().err
    assert f"({tokens['thoughts']} of them thinking), cost ${cost:.4f} USD" in summary
    assert "replies served by: gemini-3.8-flash" in summary


# ---------------------------------------------------------------- --check-model


def test_check_model_exits_0_for_a_served_model_with_status_and_prices(fake, capsys):
    assert main(["--check-model"]) == 0
    out = capsys.readouterr().out
    assert f"{DEFAULT}: Gemini serves it" in out and "ga (released 2026-07-21)" in out
    assert "input 0.3 / output 2.5, Batch 0.15 / 1.25" in out
    assert (fake.calls("model_get"), fake.calls("generate")) == (1, 0)


def test_check_model_exits_1_for_a_retired_model(fake, capsys):
    assert main(["--check-model", "--model", "gemini-2.0-flash"]) == 1
    out = capsys.readouterr().out
    assert "gemini-2.0-flash: not usable (HTTP 404 NOT_FOUND: models/gemini-2.0-flash is not found" in out
    assert f"current default is {DEFAULT}: pass --model {DEFAULT}" in out
    fake.reroute["gemini-2.5-flash"] = DEFAULT  # served, but only by another model: not usable as asked
    assert main(["--check-model", "--model", "gemini-2.5-flash"]) == 1
    assert f"shut down on 2026-12-01 (Google routes its requests to {DEFAULT})" in capsys.readouterr().out


def test_check_model_without_a_key_exits_2_with_one_line(capsys):
    assert main(["--check-model"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--check-model: no GEMINI_API_KEY" in err[0]


def test_dry_run_of_an_unknown_model_says_the_cost_is_unknown(tmp_path, monkeypatch, ten_seeds, capsys):
    monkeypatch.setenv("GEMINI_API_KEY", KEY)
    seeds = seed_file(tmp_path / "seeds.csv", ten_seeds)
    assert main(["--seeds", str(seeds), "--out", str(tmp_path / "o" / "f.jsonl"), "--dry-run", "--model", "gemini-9-experimental"]) == 0
    captured = capsys.readouterr()
    assert "cost: unknown, gemini-9-experimental is not in the model catalogue" in captured.out
    assert len(warnings(captured.err, "not in the catalogue")) == 1
