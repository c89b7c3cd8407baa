"""Seed support and the fact guard on the evaluation set: false sentences rejected, faithful paraphrases kept."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

from augment.knowledge.seeds import load_seeds
from augment.quality.gates import check_support
from augment.quality.support import unsupported
from augment.records import Sample, Seed
from conftest import SEEDS
import fact_eval

SEA_SEED = Seed(
    "T1", "suggestion", "Đà Lạt", "Đà Lạt có biển không ạ?",
    "Dạ, Đà Lạt không có biển đâu ạ. Đà Lạt nằm trên cao nguyên, mát mẻ quanh năm. Nếu thích cảnh mặt nước, bạn "
    "có thể dạo hồ Xuân Hương nha. Bạn cần mình gợi ý thêm gì cứ nhắn nhé!",
)
COMPARE = Seed(
    "T2", "comparison", "Đà Lạt", "Nên đi Đà Lạt hay Nha Trang?",
    "Dạ, Nha Trang có biển đẹp, hợp tắm biển; Đà Lạt thì không có biển nhưng mát mẻ quanh năm. Bạn thích biển thì "
    "chọn Nha Trang, thích se lạnh thì chọn Đà Lạt nha.",
)


@pytest.fixture(scope="module")
def all_seeds():
    return load_seeds(SEEDS)


def _gemini(seed: Seed, answer: str, context: str = "") -> Sample:
    return Sample(seed, f"Cho mình hỏi, {seed.question}", answer, "gemini", "register", context=context)


@pytest.mark.parametrize(
    "answer",
    [
        # reordered, new opener and closer, an optional sentence dropped
        "Dạ, chào bạn ạ! Nếu thích cảnh mặt nước, bạn có thể dạo hồ Xuân Hương nha. Đà Lạt không có biển đâu ạ. "
        "Chúc bạn có chuyến đi thật vui ạ!",
        # reworded within a term group, and a denial reworded
        "Dạ, Đà Lạt chẳng có biển đâu bạn. Thành phố nằm trên cao nguyên nên se lạnh quanh năm.",
        # the seed's own sentences, one typed without diacritics
        "Dạ, Đà Lạt không có biển đâu ạ. Da Lat nam tren cao nguyen, mat me quanh nam.",
    ],
)
def test_faithful_rewrites_are_supported(answer):
    assert check_support(_gemini(SEA_SEED, answer)) == ""


@pytest.mark.parametrize(
    "added",
    [
        "Đà Lạt có bãi biển đẹp lắm ạ.",  # the seed denies it: opposite polarity
        "Da Lat co bien dep lam nha ban.",  # unaccented inside an accented answer
        "Đà Lạt nằm ở miền Bắc ạ.",  # a region term the seed never uses
        "Đà Lạt cách Nha Trang 30 phút đi xe ạ.",  # a name the seed never names
        "Mùa đông Đà Lạt có tuyết rơi ạ.",  # snow
        "Đà Lạt là thủ phủ của cả nước ạ.",  # capital
        "- Hồ Xuân Hương: nằm sát bờ biển ạ.",  # a list item
        "Hình như Đà Lạt giáp biên giới Lào đó bạn.",  # a new country, hedged but asserting
        "Thành phố nằm ở độ cao 300 m ạ.",  # altitude with a number
    ],
)
def test_unbacked_sentences_are_rejected_wherever_they_stand(added):
    body = SEA_SEED.answer
    cut = body.index(". ") + 2
    for answer in (f"{body} {added}", f"{body[:cut]}{added} {body[cut:]}", f"{body[:cut]}\n{added}\n{body[cut:]}"):
        assert check_support(_gemini(SEA_SEED, answer)) == "unsupported-claim", answer


def test_a_claim_about_one_place_does_not_back_another():
    assert unsupported("Dạ, Nha Trang có biển đẹp ạ.", COMPARE.answer, COMPARE.place) == ""
    assert unsupported("Dạ, Đà Lạt có biển đẹp ạ.", COMPARE.answer, COMPARE.place)
    assert unsupported("Dạ, Nha Trang thì không có biển ạ.", COMPARE.answer, COMPARE.place)


def test_grounded_answers_are_backed_by_seed_and_context():
    context = "Thông tin: Đà Lạt cách hồ Tuyền Lâm khoảng 6 km."
    answer = "Dạ, hồ Tuyền Lâm cách trung tâm Đà Lạt khoảng 6 km ạ."
    assert check_support(_gemini(SEA_SEED, answer, context)) == ""
    assert check_support(_gemini(SEA_SEED, answer)) == "unsupported-claim"


def test_every_seed_supports_itself_and_the_seed_pair_is_never_checked(all_seeds):
    for seed in all_seeds:
        assert unsupported(seed.answer, seed.answer, seed.place, names=seed.question) == "", seed.id
        assert check_support(Sample(seed, seed.question, "Đà Lạt có biển.", "seed", "seed")) == ""


def test_evaluation_set_is_large_varied_and_well_formed(all_seeds):
    false = fact_eval.load(fact_eval.FALSE)
    faithful = fact_eval.load(fact_eval.FAITHFUL)
    kinds = Counter(item["kind"] for item in false)
    assert len(false) >= 200 and len(kinds) >= 10 and min(kinds.values()) >= 10
    assert sum(not item["diacritics"] for item in false) >= 40
    places = {seed.place for seed in all_seeds}
    assert {item["place"] for item in false} <= places
    assert len(faithful) >= 100
    answers = {seed.id: seed.answer for seed in all_seeds}
    assert all(item["original"] in answers[item["seed_id"]] for item in faithful)
    assert all(item["original"] != item["paraphrase"] for item in faithful)


def test_false_sentences_are_rejected_in_every_seed_of_their_place(all_seeds):
    kept, per_seed = fact_eval.false_kept(all_seeds, fact_eval.load(fact_eval.FALSE))
    tried = sum(n for _, n in per_seed.values())
    rejected = sum(r for r, _ in per_seed.values())
    by_place = defaultdict(list)
    place_of = {seed.id: seed.place for seed in all_seeds}
    for seed_id, (r, n) in per_seed.items():
        by_place[place_of[seed_id]].append(r / n)
    worst = {place: min(rates) for place, rates in by_place.items()}
    print(f"false rejected {rejected}/{tried} = {rejected / tried:.4f}; worst seed per place {worst}")
    assert rejected / tried >= 0.99, kept[:20]
    assert min(worst.values()) >= 0.85, worst


def test_faithful_paraphrases_are_kept(all_seeds):
    items = fact_eval.load(fact_eval.FAITHFUL)
    lost = fact_eval.faithful_rejected(all_seeds, items)
    print(f"faithful rejected {len(lost)}/{len(items)} = {len(lost) / len(items):.4f}")
    assert len(lost) <= 0.03 * len(items), lost
