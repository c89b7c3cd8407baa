"""Misconception samples: a false premise in the user turn, corrected first in the answer, balanced in the output."""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import replace

import pytest

from augment.generators.misconceptions import REGISTERS, add_misconceptions, misconception_sample
from augment.knowledge.facts import load_facts
from augment.knowledge.misconceptions import kind_table, misconceptions
from augment.quality.corrections import check_misconception
from augment.run import main
from augment.text import strip_diacritics
from tests.conftest import SEEDS

ROWS = misconceptions()


@pytest.mark.parametrize("row", ROWS, ids=[row.key for row in ROWS])
def test_every_row_makes_samples_in_every_register_that_pass_the_guard(row):
    rng = random.Random(7)
    for register in REGISTERS:
        for _ in range(6):  # several draws: every correction, need and closer gets its turn
            sample = misconception_sample(row, register, rng)
            assert check_misconception(sample) == "", (sample.user, sample.assistant)
            assert sample.assistant.startswith("Dạ") and sample.misconception == row.key


def test_derived_rows_agree_with_the_facts_file():
    facts = load_facts()
    kinds = Counter(row.kind for row in ROWS)
    assert len(kinds) >= 4 and len({row.destination for row in ROWS}) >= 4
    for row in ROWS:
        destination = facts.by_key(row.destination)
        slots = dict(row.slots)
        assert slots["region"] == destination.region and slots["province"].endswith(destination.province)
        if row.kind == "sea":
            assert destination.sea is False
        if row.kind == "province":
            assert slots["former"] in destination.former and destination.province not in destination.former


# The belief itself, stated plainly, per kind the facts file decides.
BELIEFS = {
    "sea": "{place} có biển đẹp.",
    "snow": "{place} có tuyết rơi vào mùa đông.",
    "province": "{place} hiện nay vẫn thuộc tỉnh {former}.",
    "region": "{place} nằm ở {wrong_region}.",
    "landmark": "{landmark} nằm ở {wrong_place}.",
}


@pytest.mark.parametrize("row", [row for row in ROWS if row.kind in BELIEFS], ids=lambda row: row.key)
def test_every_belief_the_facts_decide_is_false_by_the_fact_guard(row):
    # A row whose belief is true is no misconception (Chùa Cầu "ở Đà Nẵng" is true since Hội An joined Đà Nẵng).
    from augment.quality.claims import contradiction

    assert contradiction(row.fill(BELIEFS[row.kind]), row.place) is not None


def test_user_turns_carry_the_premise_in_their_register():
    rng = random.Random(3)
    for row in ROWS:
        plain = misconception_sample(row, "nodiacritics", rng).user
        assert plain == strip_diacritics(plain) and plain == plain.lower()
        polite = misconception_sample(row, "polite", rng).user
        subject = dict(row.slots)["landmark"] or row.place
        assert subject in polite


def _with_answer(row, answer):
    return replace(misconception_sample(row, "polite", random.Random(1)), assistant=answer)


def test_an_answer_that_repeats_the_premise_or_skips_the_correction_is_rejected():
    sea = next(row for row in ROWS if row.key == "dalat-sea")
    province = next(row for row in ROWS if row.key == "hoian-province")
    landmark = next(row for row in ROWS if row.kind == "landmark")
    # Goes straight to the need: the belief is left standing.
    assert check_misconception(_with_answer(sea, "Dạ, bạn có thể ghé Nha Trang cách khoảng 135 km ạ. Chúc bạn vui!")) == "missing-correction"
    # Corrects, then restates the belief as true.
    restated = "Dạ, Đà Lạt không có biển đâu ạ. Tuy vậy Đà Lạt có bãi biển nhỏ ở hồ Tuyền Lâm, bạn ghé nhé."
    assert check_misconception(_with_answer(sea, restated)) != ""
    assert check_misconception(_with_answer(sea, "Dạ, Đà Lạt có biển đẹp lắm ạ, bạn ra bãi nào cũng được.")) != ""
    stale = "Dạ, Hội An thuộc thành phố Đà Nẵng ạ. Bạn cứ ghi địa chỉ tỉnh Quảng Nam như cũ nhé."
    assert check_misconception(_with_answer(province, stale)) == "repeats-premise"
    wrong = landmark.fill("Dạ, đúng rồi ạ, {landmark} ở {wrong_place}, bạn đi taxi là tới.")
    assert check_misconception(_with_answer(landmark, wrong)) == "missing-correction"


def test_a_rewrite_that_lost_the_premise_is_refused_whatever_its_register():
    sea = next(row for row in ROWS if row.key == "dalat-sea")
    landmark = next(row for row in ROWS if row.kind == "landmark")
    kept = _with_answer(sea, "Dạ, Đà Lạt không có biển đâu ạ, vì nằm sâu trong đất liền.")
    assert check_misconception(replace(kept, user="Đi Đà Lạt chơi mấy ngày thì đẹp ạ?")) == "premise-lost"
    assert check_misconception(replace(kept, user="da lat tam bien o dau dep ad")) == ""  # typed without diacritics
    assert check_misconception(replace(kept, user="Đi Đà Lạt xem biển mây ở đâu ạ?")) == ""  # the word is what counts
    landmark_sample = misconception_sample(landmark, "polite", random.Random(1))
    for fair in ("Dạ cho em hỏi {landmark} đi đường nào ạ?", "Mình ở {wrong_place} 2 ngày, muốn ghé {landmark} thì đi sao ạ?"):
        # Naming both is no premise: staying in one city and visiting the other's landmark is a fair question.
        assert check_misconception(replace(landmark_sample, user=landmark.fill(fair))) == "premise-lost"


def test_an_answer_sentence_the_table_does_not_back_is_refused():
    sea = next(row for row in ROWS if row.key == "dalat-sea")
    correction = "Dạ, Đà Lạt không có biển đâu ạ, vì nằm sâu trong đất liền, thuộc vùng Tây Nguyên."
    assert check_misconception(_with_answer(sea, correction + " Chúc bạn có chuyến đi thật vui ạ!")) == ""
    # A made-up recommendation: a name the table never gives, introduced by the generator.
    added = correction + " Bạn có thể ghé Hồ Tuyền Lâm để chèo thuyền, ngắm cảnh nhé."
    assert check_misconception(_with_answer(sea, added)) == "unsupported-claim"
    # A made-up figure for the real need: the table gives 135 km.
    far = correction + " Nếu muốn tắm biển, bạn có thể đi Nha Trang, cách Đà Lạt khoảng 40 km."
    assert check_misconception(_with_answer(sea, far)) != ""


def test_add_misconceptions_takes_the_primary_generators_candidates_first(seeds):
    from augment.generators.offline import OfflineGenerator
    from augment.pipeline import Pipeline

    offline = OfflineGenerator(random_seed=0)
    selected = Pipeline(offline, offline, progress=False).run(seeds[:20], 10, 200).selected
    sea = next(row for row in ROWS if row.key == "dalat-sea")
    good = replace(misconception_sample(sea, "casual", random.Random(2)), generator="gemini", user="Ê ad, biển Đà Lạt bãi nào đẹp?")
    lost = replace(good, user="Ê ad, Đà Lạt đi đâu đẹp?")
    lines, refused = add_misconceptions(selected, 0.05, 0, check_misconception, [good, lost])
    assert good in lines and lost not in lines and (lost, "premise-lost") in refused
    assert len(lines) == 200 and sum(bool(s.misconception) for s in lines) == 10


def test_add_misconceptions_replaces_plain_variants_and_keeps_the_count(seeds):
    from augment.generators.offline import OfflineGenerator
    from augment.pipeline import Pipeline

    offline = OfflineGenerator(random_seed=0)
    selected = Pipeline(offline, offline, progress=False).run(seeds[:20], 10, 200).selected
    lines, refused = add_misconceptions(selected, 0.05, 0, check_misconception)
    made = [s for s in lines if s.misconception]
    assert len(lines) == 200 and len(made) == 10 and not refused
    assert all(s.generator == "seed" for s in selected if s.generator == "seed" and s in lines)
    assert sum(s.generator == "seed" for s in lines) == sum(s.generator == "seed" for s in selected)  # seeds' pairs stay
    assert add_misconceptions(selected, 0, 0, check_misconception) == (selected, [])


def test_default_output_holds_the_share_over_destinations_and_kinds(tmp_path):
    out = tmp_path / "fine_tune.jsonl"
    assert main(["--offline", "--quiet", "--seeds", str(SEEDS), "--out", str(out)]) == 0
    metas = [json.loads(line) for line in (tmp_path / "fine_tune.meta.jsonl").read_text("utf-8").splitlines()]
    lines = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    tagged = [(meta, line) for meta, line in zip(metas, lines) if "misconception" in meta]
    assert len(lines) == 1000 and 25 <= len(tagged) <= 35
    rows = {row.key: row for row in ROWS}
    assert len({rows[m["misconception"]].destination for m, _ in tagged}) >= 4
    assert len({rows[m["misconception"]].kind for m, _ in tagged}) >= 4
    report = json.loads((tmp_path / "fine_tune.report.json").read_text("utf-8"))
    assert sum(report["by_misconception"].values()) == len(tagged)
    assert "misconception" in (tmp_path / "README.md").read_text("utf-8")
    out0 = tmp_path / "zero" / "fine_tune.jsonl"
    assert main(["--offline", "--quiet", "--seeds", str(SEEDS), "--out", str(out0), "--misconceptions", "0"]) == 0
    assert "misconception" not in (tmp_path / "zero" / "fine_tune.meta.jsonl").read_text("utf-8")


def test_gemini_makes_misconception_lines_and_the_gates_refuse_its_slips(tmp_path, monkeypatch, ten_seeds):
    from conftest import seed_file
    from fake_gemini import FakeGemini, default_responder, default_variants, ok_response, seed_from_request

    slip = "Dạ, đúng rồi ạ, chỗ đó đẹp lắm, bạn cứ đi nhé."  # agrees with whatever the premise was

    def slipping(body):
        seed = seed_from_request(body) or {}
        if not seed.get("id", "").startswith("M-"):
            return default_responder(body)
        variants = default_variants(seed, seed["n"])
        variants[0] = {**variants[0], "assistant": slip}  # the first rewrite of every row takes the premise as true
        return ok_response(json.dumps({"variants": variants}, ensure_ascii=False))

    with FakeGemini(responder=slipping) as fake:
        monkeypatch.setenv("GEMINI_API_KEY", "test-key")
        monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", fake.base_url)
        out = tmp_path / "out.jsonl"
        seeds = seed_file(tmp_path / "seeds.csv", ten_seeds)
        flags = ["--seeds", str(seeds), "--out", str(out), "--quiet", "--n", "4", "--misconceptions", "0.25", "--backoff", "0.01"]
        assert main(flags) == 0
        asked = {(seed_from_request(r.body) or {}).get("id", "") for r in fake.requests}
    assert len({seed_id for seed_id in asked if seed_id.startswith("M-")}) == 11  # 10 wanted, one row to spare
    metas = [json.loads(line) for line in out.with_name("out.meta.jsonl").read_text("utf-8").splitlines()]
    lines = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    tagged = [(meta, line) for meta, line in zip(metas, lines) if "misconception" in meta]
    assert len(lines) == 40 and len(tagged) == 10
    assert all(meta["generator"] == "gemini" for meta, _ in tagged)  # the fake's rewrites pass, none filled offline
    assert len({meta["misconception"] for meta, _ in tagged}) == 10  # spread: one line per row first
    for meta, line in tagged:
        user, answer = line["messages"][1]["content"], line["messages"][2]["content"]
        row = next(row for row in ROWS if row.key == meta["misconception"])
        sample = replace(misconception_sample(row, "polite", random.Random(0)), user=user, assistant=answer)
        assert check_misconception(sample) == "" and answer != slip, (user, answer)
    rejected = [json.loads(line) for line in out.with_name("out.rejected.jsonl").read_text("utf-8").splitlines()]
    assert {r["reason"] for r in rejected if r["assistant"] == slip} == {"missing-correction"}


def test_a_landmark_is_never_corrected_to_a_place_that_holds_the_wrong_one():
    # Hội An is part of thành phố Đà Nẵng since 2025-07-01: "Cầu Vàng thuộc Đà Nẵng, không phải Hội An" corrects
    # nothing. Such a row names the spot ("Bà Nà Hills"), and every correction says where, not which city.
    facts = load_facts()
    for row in misconceptions():
        if row.kind != "landmark":
            continue
        slots = dict(row.slots)
        wrong = facts.by_name(slots["wrong_place"])
        if wrong is not None and wrong.province in (row.place, facts.by_key(row.destination).province):
            assert slots["spot"] not in (row.place, wrong.province), row.key
        for correction in kind_table("landmark")["correction"]:
            text = row.fill(correction)
            assert slots["spot"] in text and slots["wrong_place"] in text
