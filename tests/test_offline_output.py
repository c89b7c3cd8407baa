"""The default offline output, counted whole: wording defects, answer bodies, copies, registers and diversity."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict

import pytest

from augment.generators.bodies import body_sentences
from augment.generators.lexicon import misplaced_phrase
from augment.knowledge.misconceptions import misconceptions
from augment.generators.misconceptions import misconception_seed
from augment.quality import framing, wording
from conftest import SEEDS
from augment.knowledge.seeds import load_seeds

_FIGURE_RE = re.compile(r"\d[\d.,]*")


@pytest.fixture(scope="module")
def lines(default_output):
    """Return (meta, user turn, answer, seed question, seed answer) for every line of the default run."""
    records = [json.loads(line) for line in default_output.read_text("utf-8").splitlines()]
    meta_file = default_output.with_name("fine_tune.meta.jsonl")
    metas = [json.loads(line) for line in meta_file.read_text("utf-8").splitlines()]
    seeds = {seed.id: seed for seed in load_seeds(SEEDS)}
    seeds.update({seed.id: seed for seed in map(misconception_seed, misconceptions())})
    out = []
    for record, meta in zip(records, metas, strict=True):
        user = record["messages"][1]["content"].rsplit("Câu hỏi: ", 1)[-1]  # a grounded turn asks after its context
        seed = seeds[meta["seed_id"]]
        out.append((meta, user, record["messages"][2]["content"], seed.question, seed.answer))
    return out


def _generated(lines):
    return [line for line in lines if line[0]["generator"] == "offline" and line[0]["method"] != "misconception"]


@pytest.mark.parametrize("defect", [
    "tag-on-wh-question", "stacked-tags", "particle-on-question", "stacked-request", "pronoun-clash", "address-mismatch",
    "mid-sentence-capital", "register-unmarked", "register-leak",
])
def test_no_user_turn_has_a_wording_defect(lines, defect):
    found = [(meta["register"], user) for meta, user, _, question, _ in _generated(lines)
             if wording.user_defect(user, meta["register"], question) == defect]
    assert found == []


def test_no_user_turn_stacks_requests_or_tags_a_wh_question_at_all(lines):
    # Each rule on its own, not only the first that user_defect reports.
    users = [user for _, user, *_ in _generated(lines)]
    assert sum(map(wording.tag_on_wh, users)) == 0
    assert sum(wording.requests(user) > 1 for user in users) == 0
    assert sum(len(wording.pronoun_families(user)) > 1 for user in users) == 0


def test_every_answer_has_one_closer_one_opener_and_no_doubled_phrase(lines):
    answers = [answer for meta, _, answer, _, _ in lines if meta["generator"] != "seed"]
    assert sum(framing.closers(answer) > 1 for answer in answers) == 0
    assert sum(framing.stacked_opener(answer) for answer in answers) == 0
    defects = {framing.answer_defect(a, framing.known_openers()) for a in answers}
    assert defects - {""} == set()  # no stacked opener, no eager "có ngay!" before a denial
    openers = framing.known_openers()
    doubled = [a for a in answers if framing.opener_phrase(*framing.split_opener(a, openers))]
    assert doubled == []
    plain = [a for meta, _, a, _, _ in _generated(lines) if not meta.get("grounding")]
    assert all(framing.closers(answer) == 1 for answer in plain)


def test_no_answer_piles_up_particles_or_says_yes_before_a_closed_question(lines):
    generated = [(user, answer) for meta, user, answer, _, _ in lines if meta["generator"] != "seed"]
    assert [a for _, a in generated if framing.particle_pileup(a)] == []
    openers = framing.known_openers()
    eager = [(u, a) for u, a in generated if framing.eager_on_question(framing.split_opener(a, openers)[0], u)]
    assert eager == []


def test_no_common_noun_keeps_a_capital_after_an_opener_or_a_connector(lines):
    # "Thêm nữa, Lẩu gà lá é có vị ..." : the capital was the seed sentence's start, not the dish's name.
    leads = re.compile(r"(?:^Dạ,|Ngoài ra,|Thêm nữa,|Một điều nữa là) (?=[^\W\d_])(.{0,40})", re.MULTILINE)
    names = wording.canonical_names()
    capitalised = []
    for meta, _, answer, _, _ in _generated(lines):
        for rest in leads.findall(answer):
            if not rest[:1].isupper():
                continue
            named = wording.names_re().match(rest.lower())
            if not (named and names[" ".join(named.group(0).split())][:1].isupper()):
                capitalised.append(rest)
    assert capitalised == []


_HEDGES = r"(?:khoảng|tầm|chừng|cỡ|độ|xấp xỉ)"


def test_no_answer_stacks_two_hedges_its_seed_does_not(lines):
    stacked = re.compile(rf"(?<!\w){_HEDGES} {_HEDGES}(?!\w)", re.IGNORECASE)
    found = [a for meta, _, a, _, seed_answer in lines
             if meta["generator"] != "seed" and len(stacked.findall(a)) > len(stacked.findall(seed_answer))]
    assert found == []


def test_no_user_turn_puts_a_swapped_phrase_where_it_reads_wrong(lines):
    assert [user for _, user, *_ in _generated(lines) if misplaced_phrase(user)] == []
    assert misplaced_phrase("giá vé vào cổng cáp treo Bà Nà Hills bao nhiêu?") == "vé vào cổng"
    assert misplaced_phrase("lên giúp mình kế hoạch Đà Lạt 4 ngày") == "kế hoạch"
    assert misplaced_phrase("vé vào cổng Thung lũng Tình Yêu bao nhiêu?") == ""


def test_each_seed_has_four_answer_bodies(lines):
    plain, figures_masked, counts, figure_counts = defaultdict(set), defaultdict(set), Counter(), Counter()
    for meta, _, answer, _, _ in _generated(lines):
        body = body_sentences(answer)
        if not meta.get("grounding"):
            plain[meta["seed_id"]].add(body)
            counts[meta["seed_id"]] += 1
        if meta.get("grounding") != "no-figure":  # a grounded answer is a body too, its figures set aside
            figures_masked[meta["seed_id"]].add(tuple(_FIGURE_RE.sub("#", part) for part in body))
            figure_counts[meta["seed_id"]] += 1
    # Among a seed's plain lines, every one has its own body while there are fewer than 4, and 4 at least from then on.
    assert {seed: len(bodies) for seed, bodies in plain.items() if len(bodies) < min(4, counts[seed])} == {}
    # Grounding takes many of a seed's lines: over all its lines with a body, the same bound.
    assert {s: len(b) for s, b in figures_masked.items() if len(b) < min(4, figure_counts[s])} == {}
    assert sum(len(b) >= 4 for b in figures_masked.values()) >= 0.9 * len(figures_masked)


def test_at_most_35_percent_of_lines_copy_their_seed_answer(lines):
    copies = 0
    for _, _, answer, _, seed_answer in lines:
        seed_body = body_sentences(seed_answer)
        kept = set(body_sentences(answer))
        copies += bool(seed_body) and sum(part in kept for part in seed_body) >= 0.8 * len(seed_body)
    assert copies <= 0.35 * len(lines)


def test_hard_registers_keep_their_share(lines):
    registers = Counter(meta["register"] for meta, *_ in lines)
    for register in ("nodiacritics", "teencode", "terse"):
        assert registers[register] >= 0.08 * len(lines), registers


def test_user_turns_are_more_diverse_than_before(default_output):
    figures = json.loads(default_output.with_name("fine_tune.report.json").read_text("utf-8"))["diversity"]
    assert figures["distinct_2"] > 0.168  # 0.1679 before user turns were built by sentence type
    assert figures["mean_similarity_within_seed"] < 0.5185
