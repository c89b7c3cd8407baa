"""Seed support and the fact guard on the evaluation set: false sentences rejected, faithful paraphrases kept."""

from __future__ import annotations

import threading
import zlib
from collections import Counter, defaultdict

import pytest

from augment.knowledge.seeds import load_seeds
from augment.quality.gates import check_support
from augment.quality.support import unsupported
from augment.records import Sample, Seed
from augment.text import sentences
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
    "seed_sentence, rewrite",
    [
        ("Khách sạn nằm ven biển, đi bộ ra bãi tắm rất gần.", "Khách sạn nằm sát mép biển, ra bãi tắm chỉ vài bước."),
        ("Tháng 11 bắt đầu mùa khô, trời ít mưa.", "Sang tháng 11 là bước vào mùa khô, trời ít mưa hẳn."),
        ("Cách trung tâm khoảng 6 km, đi xe mất 15 phút.", "Đi xe tầm 15 phút là tới, vì chỉ cách trung tâm khoảng 6 km."),
    ],
)
def test_rewording_within_a_term_group_is_supported(seed_sentence, rewrite):
    seed = Seed("T3", "suggestion", "Nha Trang", "Ở đâu ạ?", f"Dạ, ở Nha Trang ạ. {seed_sentence}")
    assert unsupported(f"Dạ, ở Nha Trang ạ. {rewrite}", seed.answer, seed.place) == ""


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
    assert min(worst.values()) >= 0.95, worst


def test_faithful_paraphrases_are_kept(all_seeds):
    items = fact_eval.load(fact_eval.FAITHFUL)
    lost = fact_eval.faithful_rejected(all_seeds, items)
    print(f"faithful rejected {len(lost)}/{len(items)} = {len(lost) / len(items):.4f}")
    assert len(lost) <= 0.03 * len(items), lost


# --- A fake Gemini (the real SDK against the loopback fake) that slips a false foundational sentence into 40% of its
# answers and a faithful paraphrase into 30%: none of the false ones may reach the output, which stays full.

ANSWER_SIDE = {"unsupported-claim", "place-drift", "added-landmark", "changed-answer-number", "answer-length"}


class _Slipping:
    """Wrap the fake's responder: rewrite some answers of each reply, remembering which are false or faithful."""

    def __init__(self, seeds: list[Seed]):
        self.place = {seed.id: seed.place for seed in seeds}
        self.false = defaultdict(list)
        for item in fact_eval.load(fact_eval.FALSE):
            self.false[item["place"]].append(item["text"])
        self.faithful = defaultdict(list)
        for item in fact_eval.load(fact_eval.FAITHFUL):
            self.faithful[item["seed_id"]].append((item["original"], item["paraphrase"]))
        self.kinds: dict[str, str] = {}  # assistant text -> "false" or "faithful"
        self.count = 0
        self.tally: Counter = Counter()  # slips made, repeats included
        self.lock = threading.Lock()

    def __call__(self, body):
        import json

        from fake_gemini import default_responder, ok_response, seed_from_request

        reply = default_responder(body)
        seed = seed_from_request(body)
        if seed["id"] not in self.place:  # a misconception row, not a seed: answered as the fake answers it
            return reply
        text = reply["candidates"][0]["content"]["parts"][0]["text"]
        variants = json.loads(text)["variants"]
        for index, variant in enumerate(variants):
            variant["assistant"] = self._slip(seed["id"], variant["assistant"], index)
        return ok_response(json.dumps({"variants": variants}, ensure_ascii=False))

    def _slip(self, seed_id: str, answer: str, index: int) -> str:
        # Decided by the answer itself, not by arrival order: requests run concurrently and retries must agree.
        draw = zlib.crc32(f"{seed_id}|{index}|{answer}".encode())
        roll = draw % 10
        with self.lock:
            self.count += 1
        if roll < 4:
            pool = self.false[self.place[seed_id]]
            sentence = pool[(draw // 10) % len(pool)]
            positions = list(fact_eval.insertions(answer, sentence).values())
            slipped = positions[(draw // 1000) % len(positions)]
            with self.lock:
                self.kinds[slipped] = "false"
                self.tally["false"] += 1
            return slipped
        if roll >= 7:
            return answer
        pairs = [pair for pair in self.faithful[seed_id] if pair[0] in answer]
        if pairs:
            original, paraphrase = pairs[index % len(pairs)]
            slipped = answer.replace(original, paraphrase, 1)
        else:  # no paraphrase written for this seed: reorder its middle sentences, as faithful a rewrite
            parts = list(sentences(answer))
            if len(parts) < 4 or "\n" in answer:
                return answer
            parts[1], parts[2] = parts[2], parts[1]
            slipped = " ".join(parts)
        with self.lock:
            self.kinds[slipped] = "faithful"
            self.tally["faithful"] += 1
        return slipped


def test_a_gemini_run_with_false_sentences_slipped_in_keeps_none_of_them(tmp_path, monkeypatch, all_seeds):
    import json

    from augment.run import main
    from fake_gemini import FakeGemini

    slipping = _Slipping(all_seeds)
    out = tmp_path / "out" / "fine_tune.jsonl"
    with FakeGemini(responder=slipping) as server:
        monkeypatch.setenv("GEMINI_API_KEY", "test-key")
        monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", server.base_url)
        # The fake repeats its user turns when asked again for the variants a seed still misses, so the seeds whose
        # slipped answers were dropped are topped up offline: allowed here, the output must still be full.
        code = main(["--seeds", str(SEEDS), "--out", str(out), "--quiet", "--n", "10", "--no-cache",
                     "--backoff", "0.01", "--timeout", "30", "--max-fallback", "1"])
    report = json.loads(out.with_name("fine_tune.report.json").read_text(encoding="utf-8"))
    assert code == 0, (report.get("generator"), report.get("fallbacks"), report.get("dropped"))
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 1000
    answers = [line["messages"][-1]["content"] for line in lines]
    kinds = Counter(slipping.kinds.values())
    assert slipping.tally["false"] >= 0.35 * slipping.count and slipping.tally["faithful"] >= 0.25 * slipping.count
    assert not [a for a in answers if slipping.kinds.get(a) == "false"]
    rejected = [json.loads(line) for line in out.with_name("fine_tune.rejected.jsonl").read_text(encoding="utf-8").splitlines()]
    faithful = [r for r in rejected if slipping.kinds.get(r["assistant"]) == "faithful"]
    lost = [r for r in faithful if r["reason"] in ANSWER_SIDE or r["reason"].startswith("fact-")]
    print(f"slipped {dict(slipping.tally)} of {slipping.count} answers ({dict(kinds)} distinct); faithful lost to the answer checks: {len(lost)}")
    assert len(lost) <= 0.05 * kinds["faithful"], [(r["reason"], r["assistant"]) for r in lost[:5]]
    assert sum(slipping.kinds.get(a) == "faithful" for a in answers) > 0
