"""Grounded samples: every figure of the answer comes from the context, never from the seed."""

from __future__ import annotations

import random
import re
from dataclasses import replace

import pytest

from augment.quality.gates import seed_sample
from augment.generators.ground import ground, ground_with_figures, ground_without_figure
from augment.knowledge.seeds import load_seeds
from augment.records import Sample, Seed
from conftest import SEEDS

FIGURES = re.compile(r"\d+(?:[.,:]\d+)*")


def _figures(text: str) -> set[str]:
    return set(FIGURES.findall(text))


def test_grounded_answer_numbers_all_come_from_its_context(seeds):
    rng = random.Random(3)
    grounded = [g for g in (ground_with_figures(seed_sample(s), rng) for s in seeds) if g]
    assert len(grounded) >= 40
    for sample in grounded:
        assert sample.grounding == "grounded" and sample.context
        assert _figures(sample.assistant) <= _figures(sample.context), sample.seed.id
        changed = _figures(sample.seed.answer) - _figures(sample.assistant)
        assert changed, sample.seed.id  # at least one seed figure was replaced...
        assert not changed & _figures(sample.assistant)  # ...and none of the replaced ones leaks back


def test_no_figure_answer_invents_no_number(seeds):
    rng = random.Random(5)
    for seed in (s for s in seeds if s.intent == "price"):
        sample = ground_without_figure(seed_sample(seed), rng)
        assert sample.grounding == "no-figure"
        assert not re.search(r"\d", sample.assistant)
        assert not re.search(r"\d{1,3}\.\d{3}", sample.context)
        assert sample.assistant.startswith("Dạ")


def test_ground_converts_the_requested_share_deterministically(seeds, offline):
    samples = [v for s in seeds for v in offline.variants(s, 9)]
    once = ground(samples, 0.3, random_seed=1)
    again = ground(samples, 0.3, random_seed=1)
    assert [(s.user, s.assistant, s.context) for s in once] == [(s.user, s.assistant, s.context) for s in again]
    grounded = [s for s in once if s.grounding]
    assert abs(len(grounded) - 0.3 * len(samples)) <= 0.01 * len(samples)
    assert 0.1 <= sum(s.grounding == "no-figure" for s in grounded) / len(grounded) <= 0.2
    untouched = [(a, b) for a, b in zip(samples, once) if not b.grounding]
    assert all(a is b for a, b in untouched)


def test_zero_ratio_changes_nothing(offline):
    seed = Seed("T1", "price", "Đà Lạt", "Giá vé Datanla bao nhiêu?", "Dạ, vé khoảng 50.000 đồng ạ.")
    samples = offline.variants(seed, 5)
    assert ground(samples, 0.0, 0) == samples
    assert all(isinstance(s, Sample) and not s.context for s in ground(samples, 0.0, 0))


SEED = Seed("T9", "price", "Đà Lạt", "Giá vé Datanla bao nhiêu?", "Dạ, vé khoảng 50.000 đồng ạ.")


@pytest.mark.parametrize(
    "grounding, context, answer, reason",
    [
        ("grounded", "- Vé khoảng 60.000 đồng.", "Dạ, vé khoảng 60.000 đồng ạ.", ""),
        ("grounded", "- Vé khoảng 60.000 đồng.", "Dạ, vé khoảng 50.000 đồng ạ.", "figure-not-in-context"),
        ("grounded", "- Vé khoảng 60.000 đồng, mở cửa 7:30.", "Dạ, vé 60.000 đồng, mở 7:30 ạ.", ""),
        ("no-figure", "- Không tìm thấy giá vé.", "Dạ, mình chưa có giá vé cập nhật ạ.", ""),
        ("no-figure", "- Không tìm thấy giá vé.", "Dạ, chắc tầm 50.000 đồng ạ.", "invented-figure"),
        ("", "", "Dạ, vé khoảng 50.000 đồng ạ.", ""),
    ],
)
def test_check_grounding(grounding, context, answer, reason):
    from augment.quality.gates import check_grounding

    sample = Sample(SEED, "Giá vé Datanla?", answer, "offline", "register", context=context, grounding=grounding)
    assert check_grounding(sample) == reason


def test_run_grounds_thirty_percent_from_context_only(tmp_path, seeds):
    import json

    from augment.run import main
    from conftest import SEEDS

    out = tmp_path / "g" / "fine_tune.jsonl"
    assert main(["--seeds", str(SEEDS), "--out", str(out), "--offline", "--quiet", "--grounded-ratio", "0.3"]) == 0
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    meta = [json.loads(line) for line in out.with_name("fine_tune.meta.jsonl").read_text(encoding="utf-8").splitlines()]
    by_id = {s.id: s for s in seeds}
    grounded = [(m, r) for m, r in zip(meta, records) if m.get("grounding")]
    assert len(records) == 1000 and 290 <= len(grounded) <= 310
    for m, record in grounded:
        user, answer = record["messages"][1]["content"], record["messages"][2]["content"]
        assert user.startswith("Thông tin tra cứu:\n") and "\n\nCâu hỏi: " in user
        context = user.split("\n\nCâu hỏi: ")[0]
        assert _figures(answer) <= _figures(context)
        if m["grounding"] == "no-figure":
            assert not re.search(r"\d", answer)
        else:
            replaced = _figures(by_id[m["seed_id"]].answer) - _figures(context)
            assert not replaced & _figures(answer)
    plain = [r for m, r in zip(meta, records) if not m.get("grounding")]
    assert not any("Thông tin tra cứu" in r["messages"][1]["content"] for r in plain)
    report = json.loads(out.with_name("fine_tune.report.json").read_text(encoding="utf-8"))
    assert report["by_grounding"]["plain"] == len(plain)


def test_checking_the_answer_alone_grounds_exactly_as_checking_everything(seeds, offline):
    from augment.quality.gates import check_answer, check_sample

    kept = [v for s in seeds for v in offline.variants(s, 9) if not check_sample(v)]
    assert ground(kept, 0.3, 5, check=check_answer) == ground(kept, 0.3, 5, check=check_sample)


@pytest.mark.parametrize(
    "change",
    [
        lambda answer: "Dạ, Đà Lạt có biển rất đẹp, tắm biển thoải mái ạ. " + answer[3:],  # a foundational error
        lambda answer: answer + " Bạn ghé thêm Phú Quốc nhé.",  # another destination
        lambda answer: "Sure, the ticket costs about 60,000 dong, see you there.",  # English
        lambda answer: answer + " ```json",  # markup
        lambda answer: answer[: len(answer) // 4],  # too short
        lambda answer: "",  # empty
    ],
)
def test_checking_the_answer_alone_catches_what_checking_everything_catches(seeds, offline, change):
    from dataclasses import replace

    from augment.quality.gates import check_answer, check_sample

    dalat = [s for s in seeds if s.place == "Đà Lạt"][:10]
    for variant in (v for s in dalat for v in offline.variants(s, 3) if not check_sample(v)):
        changed = replace(variant, assistant=change(variant.assistant))
        assert check_sample(changed), changed.assistant
        assert check_answer(changed) == check_sample(changed), changed.assistant


def test_substitution_replaces_whole_figures_only(seeds):
    by_id = {s.id: s for s in seeds}
    for seed_id, kept in (("S056", "thứ 7"), ("S038", "Hội An")):
        for n in range(20):
            grounded = ground_with_figures(seed_sample(by_id[seed_id]), random.Random(n))
            assert grounded.assistant.count(kept) == by_id[seed_id].answer.count(kept)
            assert "21 giờ" not in grounded.assistant and "20-25 phút" not in grounded.assistant
    # "10 phút" (by motorbike) is replaced on its own, never inside another range such as "5-10 phút".
    from augment.generators.ground import _substitute

    assert _substitute("xe máy 10 phút, xe đạp 5-10 phút", {"10 phút": "12 phút"}) == "xe máy 12 phút, xe đạp 5-10 phút"


def test_a_seed_without_a_record_is_not_grounded():
    seed = Seed("T5", "price", "Đà Lạt", "Giá vé chợ?", "Dạ, vé khoảng 50.000 đồng, cách 5 km ạ.")
    assert ground_with_figures(seed_sample(seed), random.Random(0)) is None
    assert ground_without_figure(seed_sample(seed), random.Random(0)) is None


def test_lead_in_only_before_a_sentence_the_context_backs(seeds):
    from augment.quality.grounding import check_attribution
    from augment.text import sentences

    by_id = {s.id: s for s in seeds}
    for seed_id in ("S021", "S056", "S085", "S003", "S030"):
        for n in range(10):
            grounded = ground_with_figures(seed_sample(by_id[seed_id]), random.Random(n))
            assert check_attribution(grounded) == ""
            cited = [s for s in sentences(grounded.assistant) if "tra được" in s or "tra cứu" in s]
            assert all(not s.lstrip().startswith("-") for s in cited)  # never inside a list item
            if seed_id == "S021":  # the address sentence has no figure: the lead-in waits for the lake's length
                assert len(cited) == 1 and "km" in cited[0]


def test_a_no_figure_answer_quotes_what_the_question_also_asks_about():
    # "... vé vào cổng nhiêu, có thang máy ko": the context lacks the price but says there is a lift; the answer
    # says so, rather than a random note of the passage.
    seed = next(s for s in load_seeds(SEEDS) if "thang máy" in s.question.lower())
    sample = Sample(seed, "ad ơi ngu hanh son ve vao cong nhieu, co thang may ko", seed.answer, "offline", "register", "nodiacritics")
    answers = [ground_without_figure(sample, random.Random(i)) for i in range(12)]
    assert all(grounded is not None and "thang máy" in grounded.assistant for grounded in answers)
    plain = replace(sample, user="vé vào cổng bao nhiêu ạ")  # nothing else asked: any fact of the passage may be quoted
    assert {ground_without_figure(plain, random.Random(i)).assistant for i in range(12)} - {a.assistant for a in answers}
