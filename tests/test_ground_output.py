"""The default offline output (the nightly build's settings): grounded lines hold none of the defects of issue #13."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from augment.quality.grounding import check_attribution, check_price_noun
from augment.records import Sample
from augment.text import amounts, parse_number, sentences
from conftest import SEEDS

RANGE = re.compile(r"(?<![\d.,/])(?<!tháng )(\d+(?:[.,]\d+)*)\s*-\s*(\d+(?:[.,]\d+)*)(?![\d/])")
VOICE = re.compile(r"(?<!\w)(?:mình|bạn|ạ|nha|nhé|nhỉ|cứ nhắn|gợi ý thêm)(?!\w)")
SCHEDULE = re.compile(r"^\s*-?\s*(\d{1,2})(?: giờ(?: (\d\d))?|:(\d\d))\s*:", re.MULTILINE)




@pytest.fixture(scope="module")
def output(tmp_path_factory):
    """Return (meta, user, context, answer) per line of a default offline run, the seeds by id and the report."""
    from augment.knowledge.seeds import load_seeds
    from augment.run import main

    out = tmp_path_factory.mktemp("default") / "fine_tune.jsonl"
    assert main(["--seeds", str(SEEDS), "--out", str(out), "--offline", "--quiet", "--no-review"]) == 0
    lines = []
    for meta, record in zip(out.with_name("fine_tune.meta.jsonl").read_text("utf-8").splitlines(), out.read_text("utf-8").splitlines()):
        user, answer = (m["content"] for m in json.loads(record)["messages"][1:])
        context, question = "", user
        if user.startswith("Thông tin tra cứu:\n"):
            context, question = user.removeprefix("Thông tin tra cứu:\n").split("\n\nCâu hỏi: ")
        lines.append((json.loads(meta), question, context, answer))
    report = json.loads(out.with_name("fine_tune.report.json").read_text("utf-8"))
    return lines, {seed.id: seed for seed in load_seeds(SEEDS)}, report


def _sample(line, seeds) -> Sample:
    meta, question, context, answer = line
    return Sample(seeds[meta["seed_id"]], question, answer, meta["generator"], meta["method"], context=context, grounding=meta.get("grounding", ""))


def test_no_reversed_or_degenerate_range(output):
    lines, _, _ = output
    bad = [text for _, _, context, answer in lines for text in (answer, context)
           for a, b in RANGE.findall(text.casefold()) if parse_number(a) >= parse_number(b)]
    assert bad == []


def test_no_zero_hour_and_no_whole_hour_with_zero_minutes(output):
    lines, _, _ = output
    assert [a for _, _, c, a in lines if re.search(r"(?<![\d,.])0 giờ|\d giờ 00(?!\d)", a + c)] == []


def test_no_schedule_out_of_order(output):
    lines, _, _ = output
    for _, _, _, answer in lines:
        times = [int(h) * 60 + int(m or n or 0) for h, m, n in SCHEDULE.findall(answer)]
        assert times == sorted(set(times)), answer


def test_no_context_in_the_bots_voice(output):
    lines, _, _ = output
    voiced = [c for _, _, c, _ in lines if c and VOICE.search(c.replace("Nha Trang", "").casefold())]
    assert voiced == []


def test_no_answer_cites_the_lookup_for_what_its_context_lacks(output):
    lines, seeds, _ = output
    cited = [line for line in lines if "tra được" in line[3] or "tra cứu" in line[3]]
    assert len(cited) >= 150
    assert [line[3] for line in lines if line[0]["seed_id"] in seeds and check_attribution(_sample(line, seeds))] == []
    for _, question, context, answer in cited:
        for sentence in (s for s in sentences(answer) if "tra được" in s or "tra cứu" in s):
            assert amounts(sentence) <= amounts(context) | amounts(question), sentence


def test_every_grounded_answer_takes_its_figures_from_its_context(output):
    lines, seeds, report = output
    grounded = [line for line in lines if line[0].get("grounding")]
    assert abs(len(grounded) - 300) <= 3 and report["grounding"]["share"] == pytest.approx(len(grounded) / len(lines))
    shapes = Counter()
    for meta, question, context, answer in grounded:
        assert amounts(answer) <= amounts(context) | amounts(question), answer
        assert context.startswith("[1] ")
        shapes[("card" if " | " in context else "notice" if context.startswith("[1] Cập nhật") else "article")] += 1
        if meta["grounding"] == "grounded":  # the context contradicts what the seed memorised, and the answer follows it
            seed = seeds[meta["seed_id"]].answer
            assert amounts(answer) - amounts(seed), answer
            assert not (amounts(seed) - amounts(context) - amounts(question)) & amounts(answer), answer
    assert min(shapes.values()) >= 50 and len(shapes) == 3


def test_price_lines_mostly_read_the_price_from_a_context(output):
    lines, seeds, report = output
    price = [line for line in lines if line[0]["intent"] == "price"]
    memorised = report["price_seed_figures"]
    assert memorised["of"] == len(price) and memorised["share"] <= 1 / 3
    kinds = Counter(line[0].get("grounding", "plain") for line in price)
    assert kinds["grounded"] > 2 * kinds["no-figure"] > 0


def test_no_figure_answers_vary_name_the_right_price_and_use_their_context(output):
    lines, seeds, _ = output
    refusals = [line for line in lines if line[0].get("grounding") == "no-figure"]
    assert len({line[0]["seed_id"] for line in refusals}) >= 12
    assert [line[3] for line in refusals if check_price_noun(_sample(line, seeds)) or re.search(r"\d", line[3])] == []
    openings = Counter(" ".join(line[3].split()[1:4]) for line in refusals)
    checks = Counter(sentences(line[3])[-1] for line in refusals)
    assert len(openings) >= 3 and max(openings.values()) <= len(refusals) / 2 and len(checks) >= 8
    assert Counter("tra được" in line[3] for line in refusals)[True] >= len(refusals) * 0.7
