"""Quality gates, one table per check, and a poisoned Gemini run that must come out clean and full."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator, Sequence

import pytest

from augment import run
from augment.errors import InputError
from augment.quality.gates import (
    check_facts,
    check_fidelity,
    check_form,
    check_language,
    check_length,
    check_places,
    check_sample,
    check_seeds,
    seed_sample,
)
from augment.generators.base import Generation, Generator
from augment.generators.offline import OfflineGenerator
from augment.pipeline import Pipeline
from augment.knowledge.places import destinations
from augment.records import Sample, Seed
from augment.dataset.report import build_report
from augment.knowledge.seeds import load_seeds
from augment.text import amounts
from conftest import SEEDS, write_csv

PRICE = Seed(
    "P1", "price", "Đà Lạt", "Vé vào Thung lũng Tình Yêu bao nhiêu tiền ạ?",
    "Dạ, vé vào cổng Thung lũng Tình Yêu khoảng 250.000 đồng cho người lớn ạ. Giá có thể thay đổi, bạn kiểm tra lại nha.",
)
FOOD = Seed(
    "S1", "suggestion", "Nha Trang", "Ở Nha Trang nên ăn gì ạ?",
    "Dạ, đến Nha Trang bạn nên thử bún chả cá, bún sứa và nem nướng Ninh Hòa ạ. Bạn nhớ hỏi giá trước khi gọi món nha.",
)
BEACH = Seed(
    "S2", "suggestion", "Đà Lạt", "Đà Lạt có bãi biển nào đẹp không ad?",
    "Dạ, Đà Lạt không có biển ạ, Đà Lạt nằm trên cao nguyên Lâm Viên. Bù lại bạn có thể dạo hồ Tuyền Lâm nha.",
)
MERGER = Seed(
    "A2", "address", "Đà Lạt", "Nghe nói Lâm Đồng sáp nhập xong có biển rồi, vậy giờ Đà Lạt có biển luôn hả ad?",
    "Dạ, Đà Lạt vẫn không có biển đâu ạ. Tỉnh Lâm Đồng mới có thêm vùng ven biển, nhưng Đà Lạt nằm sâu trong nội địa nha.",
)
WAY = Seed(
    "A1", "address", "Đà Lạt", "Ga Đà Lạt đi đường nào vậy ad?",
    "Dạ, ga Đà Lạt cách chợ Đà Lạt khoảng 2 km, đi xe máy chừng 5-7 phút ạ. Bạn cần mình gợi ý thêm gì cứ nhắn nha!",
)


def variant(seed: Seed, user: str, assistant: str | None = None) -> Sample:
    """Return a Gemini-made sample of seed; the answer defaults to the seed's with another opener."""
    return Sample(seed, user, assistant if assistant is not None else "Dạ vâng, " + seed.answer[4:], "gemini", "synonym")


@pytest.mark.parametrize(
    "user, assistant, reason",
    [
        ("Giá vé Thung lũng Tình Yêu là bao nhiêu ạ?", None, ""),
        ("", None, "empty"),
        ("?!", None, "empty"),
        ("Vé vào Thung lũng Tình Yêu bao nhiêu?", "   ", "empty"),
        ('{"user": "Vé Thung lũng Tình Yêu bao nhiêu?"}', None, "markup-leftover"),
        ("```json\nVé Thung lũng Tình Yêu bao nhiêu?", None, "markup-leftover"),
        ("1. Vé Thung lũng Tình Yêu bao nhiêu ạ?", None, "markup-leftover"),
        ("Câu hỏi: Vé Thung lũng Tình Yêu bao nhiêu ạ?", None, "markup-leftover"),
        ("Vé Thung lũng Tình Yêu bao nhiêu ạ?", "Dạ, **250.000 đồng** ạ, giá có thể thay đổi, bạn kiểm tra lại nha bạn ơi.", "markup-leftover"),
        ("Biến thể 3: vé Thung lũng Tình Yêu bao nhiêu?", None, "markup-leftover"),
        ("Vé Thung lũng Tình Yêu bao nhiêu ạ?", "Dạ, là một mô hình ngôn ngữ, mình không chắc giá vé Thung lũng Tình Yêu 250.000 đồng ạ.", "meta-talk"),
        ("Viết lại câu hỏi: vé Thung lũng Tình Yêu bao nhiêu?", None, "meta-talk"),
        ("Ad ơi, hỏi xíu: vé Thung lũng Tình Yêu bao nhiêu?", None, ""),  # "Hỏi xíu:" is a casual wrapper
        ("Vé Thung lũng Tình Yêu bao nhiêu?", "Dạ, mình là một AI nên không chắc giá vé Thung lũng Tình Yêu 250.000 đồng ạ.", "meta-talk"),
        ("Hồ Xuân Hương là ai, vé Thung lũng Tình Yêu bao nhiêu?", None, ""),  # "là ai" is "who is"
        ("Vé Thung lũng\u202e Tình Yêu bao nhiêu ạ?", None, "bad-character"),
        ("Vé Thung lũng Tình Yêu bao nhiêu ạ?", "Dạ, vé khoảng 250.000 đồng ạ.\r\nBạn kiểm tra lại nha.", "bad-character"),
        ("Vé Thung lũng Tình Yêu bao nhiêu ạ?", "Dạ, vé khoảng\x00 250.000 đồng ạ.", "bad-character"),
        ("Vé Thung lũng Tình Yêu\u2066 bao nhiêu ạ?", None, "bad-character"),
    ],
)
def test_check_form(user, assistant, reason):
    assert check_form(variant(PRICE, user, assistant)) == reason


@pytest.mark.parametrize(
    "user, assistant, reason",
    [
        ("Vé vào Thung lũng Tình Yêu giá nhiêu ad?", None, ""),
        ("cho minh hoi ve thung lung tinh yeu bao nhieu tien", None, ""),  # no diacritics is still Vietnamese
        ("ad ơi cho e hỏi vé tltk bnhiu k ạ", None, ""),  # teen-code
        ("Review giá vé Thung lũng Tình Yêu với view đẹp không?", None, ""),  # loanwords
        ("What is the ticket price for Thung lũng Tình Yêu?", None, "not-vietnamese"),
        ("Ticket price please?", None, "not-vietnamese"),
        ("Vé bao nhiêu ạ?", "Dạ, the ticket for Thung lũng Tình Yêu costs about 250.000 đồng for adults.", "not-vietnamese"),
        ("Vé bao nhiêu ạ?", "The ticket costs about 250.000 VND per adult, prices may change.", "not-vietnamese"),
        ("Vé bao nhiêu ạ?", "Vé vào cổng Thung lũng Tình Yêu khoảng 250.000 đồng cho người lớn ạ, bạn kiểm tra lại nha.", "impolite-opening"),
    ],
)
def test_check_language(user, assistant, reason):
    assert check_language(variant(PRICE, user, assistant)) == reason


@pytest.mark.parametrize(
    "user, assistant, reason",
    [
        ("Vé Thung lũng Tình Yêu bao nhiêu?", None, ""),
        ("Vé Thung lũng Tình Yêu bao nhiêu?", "Dạ, 250.000 đồng ạ.", "answer-length"),
        ("Vé Thung lũng Tình Yêu bao nhiêu?", "Dạ, " + "rất đẹp, " * 80, "answer-length"),
        ("Vé Thung lũng Tình Yêu bao nhiêu? " * 12, None, "question-length"),
    ],
)
def test_check_length(user, assistant, reason):
    assert check_length(variant(PRICE, user, assistant)) == reason


@pytest.mark.parametrize(
    "seed, user, assistant, reason",
    [
        (BEACH, "Đà Lạt có bãi tắm nào đẹp không ạ?", None, ""),  # the seed's own premise, kept and corrected
        (BEACH, "da lat co bai bien nao dep khong ad", None, ""),
        (BEACH, "Đà Lạt có bãi biển nào đẹp không ạ?", "Dạ, Đà Lạt có biển rất đẹp, bạn có thể tắm biển thoải mái ở hồ Tuyền Lâm nha.", "fact-sea"),
        (PRICE, "Đà Lạt có biển, vé Thung lũng Tình Yêu bao nhiêu?", None, "false-premise"),
        (PRICE, "Vé Thung lũng Tình Yêu bao nhiêu?", "Dạ, Thung lũng Tình Yêu ở Đà Lạt (miền Bắc) có vé khoảng 250.000 đồng ạ, bạn kiểm tra lại nha.", ""),
        (PRICE, "Vé Thung lũng Tình Yêu bao nhiêu?", "Dạ, Đà Lạt nằm ở miền Bắc, vé Thung lũng Tình Yêu khoảng 250.000 đồng ạ, bạn kiểm tra lại nha.", "fact-region"),
        (FOOD, "Nha Trang nên ăn gì ạ, nghe nói Nha Trang có biển?", None, ""),
    ],
)
def test_check_facts(seed, user, assistant, reason):
    assert check_facts(variant(seed, user, assistant)) == reason


@pytest.mark.parametrize(
    "seed, user, assistant, reason",
    [
        (PRICE, "Giá vé Thung lũng Tình Yêu là bao nhiêu ạ?", None, ""),
        (PRICE, "Vé vào Thung lũng Tình Yêu ở Sa Pa bao nhiêu?", None, "place-drift"),
        (PRICE, "Vé Fansipan bao nhiêu tiền ạ?", None, "place-drift"),  # a landmark of another destination
        (PRICE, "Vé Thung lũng Tình Yêu bao nhiêu?", "Dạ, vé vào cổng Thung lũng Tình Yêu khoảng 250.000 đồng, gần Hồ Tuyền Lâm ạ, bạn kiểm tra lại nha.", "added-landmark"),
        (PRICE, "Vé vào cổng bao nhiêu tiền ạ?", None, "place-lost"),
        (WAY, "cho minh hoi ga da lat di duong nao", None, ""),  # place kept without diacritics
        (FOOD, "Ở Nha Trang ăn bánh căn ở đâu ngon ạ?", None, ""),  # bánh căn is Đà Lạt's too: no drift
        (FOOD, "Ở Nha Trang nên ăn gì, có chợ đêm không ạ?", None, ""),  # every city has a chợ đêm
        (FOOD, "Ở Nha Trang nên ăn gì, mình mê thơ Hồ Xuân Hương ạ?", None, ""),  # the poet, not the lake
        (FOOD, "Ở Đà Lạt nên ăn gì ạ?", None, "place-drift"),
        (BEACH, "Lâm Đồng giờ có biển, vậy Đà Lạt có bãi biển nào đẹp không?", None, ""),  # a province is no drift
    ],
)
def test_check_places(seed, user, assistant, reason):
    assert check_places(variant(seed, user, assistant)) == reason


@pytest.mark.parametrize(
    "seed, user, assistant, reason",
    [
        (PRICE, "Giá vé Thung lũng Tình Yêu là bao nhiêu ạ?", None, ""),
        (PRICE, "cho minh hoi gia ve thung lung tinh yeu bao nhieu", None, ""),  # no diacritics
        (PRICE, "ad ơi cho e hỏi vé thung lũng tình yêu bnhiu k ạ", None, ""),  # teen-code
        (PRICE, "Tư vấn giúp mình: vé Thung lũng Tình Yêu bao nhiêu?", None, ""),  # a wrapper word is no intent
        (PRICE, "Thung lũng Tình Yêu nằm ở đâu ạ?", None, "intent-changed"),
        (PRICE, "Lịch trình đi Thung lũng Tình Yêu mấy ngày là đủ?", None, "intent-changed"),
        (PRICE, "Thung lũng Tình Yêu có đẹp không?", None, ""),  # signals no intent: not clearly another
        (PRICE, "Vé vào cổng Đà Lạt bao nhiêu tiền ạ?", None, "lost-entity"),
        (PRICE, "Vé Thung lũng Tình Yêu cho 2 người bao nhiêu ạ?", None, "changed-number"),
        (PRICE, "Vé Thung lũng Tình Yêu bao nhiêu?", "Dạ, vé vào cổng Thung lũng Tình Yêu khoảng 300.000 đồng cho người lớn ạ. Giá có thể thay đổi, bạn kiểm tra lại nha.", "changed-answer-number"),
        (PRICE, "Vé Thung lũng Tình Yêu bao nhiêu?", "Dạ, vé vào cổng Thung lũng Tình Yêu khoảng 250k cho người lớn ạ. Giá có thể thay đổi, bạn kiểm tra lại nha.", ""),
        (PRICE, "vé vào thung lũng tình yêu bao nhiêu tiền ạ", None, "echo-of-seed"),
        (WAY, "Đi ga Đà Lạt theo hướng nào ạ?", None, ""),
        (WAY, "Lần đầu mình lên, cho minh hoi ga da lat di sao ad", None, ""),
        # the seed question signals no intent, so context a paraphrase adds cannot count as a change
        (MERGER, "Nhà mình đang lên kế hoạch đi chơi, nghe nói Lâm Đồng sáp nhập xong có biển, vậy Đà Lạt có biển luôn hả?", None, ""),
        (WAY, "Ga Đà Lạt vé vào bao nhiêu tiền?", None, "intent-changed"),
    ],
)
def test_check_fidelity(seed, user, assistant, reason):
    assert check_fidelity(variant(seed, user, assistant)) == reason


@pytest.mark.parametrize(
    "text, values",
    [
        ("250.000 đồng", {250000}),
        ("250k", {250000}),
        ("250 nghìn", {250000}),
        ("1,5 triệu", {1500000}),
        ("3n2đ", {3, 2}),
        ("cho 2 người k ạ", {2}),  # teen-code "k" after a space is "không", not thousands
        ("5-7 phút", {5, 7}),
    ],
)
def test_amounts(text, values):
    assert amounts(text) == values


def test_seed_samples_skip_the_variant_checks():
    assert check_sample(seed_sample(BEACH)) == ""


def test_every_real_seed_passes():
    seeds = load_seeds(SEEDS)
    check_seeds(seeds, str(SEEDS))
    assert all(check_sample(seed_sample(seed)) == "" for seed in seeds)


@pytest.mark.parametrize(
    "answer, expected",
    [
        ("Dạ, Đà Lạt có biển rất đẹp, bạn nhớ mang đồ bơi nha.", "row 3 (id B2) fails the 'fact-sea' check: the answer says 'có biển' about Đà Lạt"),
        ("The lake is in the centre of the city, a short walk away.", "row 3 (id B2) fails the 'not-vietnamese' check"),
    ],
)
def test_a_bad_seed_stops_the_run_naming_its_row(tmp_path, answer, expected):
    rows = [["B1", *PRICE_ROW], ["B2", "suggestion", "Đà Lạt", "Đà Lạt đi đâu chơi ạ?", answer]]
    path = write_csv(tmp_path / "s.csv", rows)
    with pytest.raises(InputError, match=re.escape(expected)):
        check_seeds(load_seeds(path), str(path))


PRICE_ROW = ["price", "Đà Lạt", PRICE.question, PRICE.answer]

# --- A fake Gemini that mixes poisoned variants in: the output must contain none of them and still be full.

CONTEXT = [
    "Nhà mình sắp đi chơi, cho mình hỏi",
    "Lần đầu mình tới nên chưa rành,",
    "Bố mẹ em sắp lên thăm,",
    "Tụi mình là sinh viên đi phượt,",
]
# Each poison kind and the reasons that may reject it.
EXPECTED = {
    "other-place": {"place-drift", "fact-sea"},  # "ở Hà Nội thì ... tắm biển" is also false
    "sea": {"fact-sea", "place-drift"},
    "english": {"not-vietnamese"},
    "empty": {"empty"},
    "unrelated": {"intent-changed", "place-lost", "lost-entity"},
    "echo": {"echo-of-seed"},
    "duplicate": {"duplicate-pair", "duplicate-user"},
    "json": {"markup-leftover"},
    "meta": {"meta-talk"},
}


def _other_place(seed: Seed) -> str:
    named = destinations(seed.question) | destinations(seed.answer)
    return next(name for key, name in [("hanoi", "Hà Nội"), ("hcm", "TP.HCM")] if key not in named)


def _poisoned(seed: Seed) -> list[tuple[str, str, str]]:
    """Return (kind, user, assistant) for each poison, written the way a paraphrasing model gets it wrong."""
    body = seed.answer[4:] if seed.answer.startswith("Dạ, ") else seed.answer
    other = _other_place(seed)
    return [
        ("other-place", f"Cho mình hỏi ở {other}: {seed.question}", f"Dạ, ở {other} thì {body}"),
        ("sea", f"Mình muốn hỏi: {seed.question}", f"Dạ, Đà Lạt có biển rất đẹp, bạn có thể tắm biển thoải mái ạ. {body}"),
        ("english", "What is the best thing to do there, and how much does it cost?", "Sure, I recommend you visit early in the morning when it is quiet."),
        ("empty", f"Dạ cho em hỏi {seed.question}", ""),
        ("unrelated", "Cách nấu phở bò ngon nhất tại nhà là gì ạ?", seed.answer),
        ("echo", seed.question, "Dạ vâng, " + body),
        ("json", json.dumps({"user": seed.question}, ensure_ascii=False), seed.answer),
        ("meta", f"Biến thể cách hỏi khác của câu: {seed.question}", seed.answer),
    ]


class PoisonGenerator(Generator):
    """Yield a few good paraphrases per seed, every kind of poisoned one, and a duplicate of a good one."""

    name = "gemini"

    def __init__(self):
        self.poison: dict[int, str] = {}  # id(sample) -> kind
        self.poison_texts: dict[tuple[str, str], str] = {}  # (user, assistant) -> kind, to find them in files

    def generate(self, seeds: Sequence[Seed], n: int) -> Iterator[Generation]:
        """Yield one Generation per seed with good and poisoned samples mixed."""
        for seed in seeds:
            body = seed.answer[4:] if seed.answer.startswith("Dạ, ") else seed.answer
            question = seed.question[:1].lower() + seed.question[1:] if not seed.question.startswith(seed.place) else seed.question
            good = [Sample(seed, f"{clause} {question}", "Dạ vâng, " + body, self.name, "register") for clause in CONTEXT]
            bad = [self._mark(Sample(seed, user, answer, self.name, "synonym"), kind) for kind, user, answer in _poisoned(seed)]
            duplicate = self._mark(Sample(seed, good[0].user, good[0].assistant, self.name, "register"), "duplicate")
            mixed = [good[0], bad[0], good[1], *bad[1:4], duplicate, good[2], *bad[4:], good[3]]
            yield Generation(seed, mixed)

    def _mark(self, sample: Sample, kind: str) -> Sample:
        self.poison[id(sample)] = kind
        self.poison_texts[(sample.user, sample.assistant)] = kind
        return sample


@pytest.fixture(scope="module")
def poisoned_run():
    seeds = load_seeds(SEEDS)
    generator = PoisonGenerator()
    outcome = Pipeline(generator, OfflineGenerator(random_seed=0), progress=False).run(seeds, 10, 1000)
    return seeds, generator, outcome


def test_poisoned_run_still_writes_exactly_1000_clean_samples(poisoned_run):
    seeds, generator, outcome = poisoned_run
    assert len(outcome.selected) == 1000
    assert not [s for s in outcome.selected if id(s) in generator.poison]
    assert sum(s.generator == "seed" for s in outcome.selected) == len(seeds)
    assert sum(s.generator == "gemini" for s in outcome.selected) >= 3 * len(seeds)  # good paraphrases survive


def test_every_poisoned_sample_is_rejected_for_its_reason(poisoned_run):
    seeds, generator, outcome = poisoned_run
    rejected = {id(sample): reason for sample, reason in outcome.rejected}
    assert len(generator.poison) == len(seeds) * (len(EXPECTED))
    for key, kind in generator.poison.items():
        assert rejected.get(key) in EXPECTED[kind], (kind, rejected.get(key))


def test_no_seed_is_rejected_and_every_rejection_is_counted(poisoned_run):
    _, _, outcome = poisoned_run
    assert not [s for s, _ in outcome.rejected if s.generator == "seed"]
    assert all(reason for _, reason in outcome.rejected)
    assert Counter(reason for _, reason in outcome.rejected) == outcome.dropped
    settings = {"target": 1000, "seeds": 100, "n": 10, "random_seed": 0, "primary": "gemini"}
    report = build_report(outcome, settings)
    assert sum(report.dropped.values()) == len(outcome.rejected) == sum(report.as_dict()["dropped"].values())


def test_rejected_file_lines_carry_reasons_counted_in_the_report(tmp_path, monkeypatch):
    rows = [["R1", *PRICE_ROW], ["R2", "suggestion", FOOD.place, FOOD.question, FOOD.answer],
            ["R3", "address", WAY.place, WAY.question, WAY.answer]]
    seeds_path = write_csv(tmp_path / "s.csv", rows)
    generator = PoisonGenerator()
    monkeypatch.setattr(run, "_choose_generator", lambda args, offline: generator)
    out = tmp_path / "out" / "fine_tune.jsonl"
    assert run.main(["--seeds", str(seeds_path), "--out", str(out), "--n", "6", "--quiet"]) == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 18
    rejected = [json.loads(line) for line in out.with_name("fine_tune.rejected.jsonl").read_text(encoding="utf-8").splitlines()]
    assert rejected and all(line["reason"] for line in rejected)
    kinds = {generator.poison_texts.get((line["user"], line["assistant"])) for line in rejected}
    assert kinds - {None} == set(EXPECTED)
    report = json.loads(out.with_name("fine_tune.report.json").read_text(encoding="utf-8"))
    assert report["dropped"] == dict(Counter(line["reason"] for line in rejected))
    assert set(report["diversity"]) == {"distinct_1", "distinct_2", "mean_similarity_within_seed", "max_similarity_within_seed"}
