"""Offline generator: varied registers, locked names and numbers, reproducible."""

from __future__ import annotations

import random
import re
import unicodedata
from collections import Counter

import pytest

from augment.quality.dedup import is_near_duplicate
from augment.generators.offline import (
    OfflineGenerator,
    _core_variations,
    _invert,
    _joined_grams,
    _plan,
    _style_core,
    _styled_core,
    _user_turn,
    mask,
    question_core,
    rewrite_answer,
    unmask,
)
from augment.records import Seed
from augment.text import exact_key, loose_key, nfc, shingles
from conftest import digit_runs

PRICE = Seed("T1", "price", "Đà Lạt", "Cho mình hỏi giá vé Thung lũng Tình Yêu bao nhiêu tiền ạ?",
             "Dạ, vé vào cổng khoảng 250.000 đồng/người ạ.\nBạn cần mình gợi ý thêm gì cứ nhắn nha!")
COMPARE = Seed("T2", "comparison", "Đà Lạt", "Tháng 12 nên đi Đà Lạt hay Sa Pa?",
               "Dạ, tháng 12 Đà Lạt khô ráo, Sa Pa lạnh hơn ạ.")


def test_mask_locks_names_and_numbers():
    masked, slots = mask("Tháng 12 nên đi Đà Lạt hay Sa Pa, vé 250.000 đồng?")
    assert slots == ["12", "Đà Lạt", "Sa Pa", "250.000"]
    assert "Đà Lạt" not in masked
    assert unmask(masked, slots) == "Tháng 12 nên đi Đà Lạt hay Sa Pa, vé 250.000 đồng?"


@pytest.mark.parametrize(
    "question, core",
    [
        ("Cho mình hỏi giá vé ⟦0⟧ bao nhiêu tiền ạ?", "giá vé ⟦0⟧ bao nhiêu tiền"),
        ("1. ⟦0⟧ ăn gì ngon?", "⟦0⟧ ăn gì ngon"),
        ("ad ơi chợ đêm ⟦0⟧ nằm ở đâu vậy", "chợ đêm ⟦0⟧ nằm ở đâu"),
        ("Xin chào, lịch trình ⟦0⟧!!", "lịch trình ⟦0⟧"),
    ],
)
def test_question_core_strips_greetings_particles_and_numbering(question, core):
    assert question_core(question) == core


def test_variants_keep_every_name_and_number(offline):
    for seed in (PRICE, COMPARE):
        for sample in offline.variants(seed, 30):
            user = loose_key(sample.user)
            for name in ("thung lung tinh yeu",) if seed is PRICE else ("da lat", "sa pa"):
                assert name in user, sample.user
            assert digit_runs(sample.user) == digit_runs(seed.question), sample.user
            assert digit_runs(sample.assistant) == digit_runs(seed.answer)


def test_variants_span_registers_and_methods(offline):
    samples = offline.variants(PRICE, 12)
    registers = Counter(s.register for s in samples)
    assert set(registers) == {"polite", "deferential", "casual", "teencode", "terse", "nodiacritics"}
    assert max(registers.values()) <= 3
    methods = {s.method for s in samples}
    assert any("synonym" in m for m in methods) and any("inversion" in m for m in methods)


def test_variants_are_distinct_and_differ_from_the_seed(offline):
    samples = offline.variants(COMPARE, 25)
    keys = [exact_key(s.user) for s in samples]
    assert len(set(keys)) == len(keys)
    assert exact_key(COMPARE.question) not in keys


def test_inversions_reorder_words(offline):
    users = {s.user for s in offline.variants(COMPARE, 40)}
    assert any("Sa Pa hay Đà Lạt" in u for u in users)
    assert any(u.lower().endswith("vào tháng 12?") or "vào tháng 12" in u.lower() for u in users)
    price_users = {s.user for s in offline.variants(PRICE, 40)}
    assert any(u.startswith("Thung lũng Tình Yêu") or "Thung lũng Tình Yêu giá vé" in u for u in price_users)


def test_no_diacritics_and_teencode_look_like_users_type(offline):
    samples = offline.variants(PRICE, 40)
    bare = [s.user for s in samples if s.register == "nodiacritics"]
    assert bare and all(u.isascii() and u == u.lower() for u in bare)
    teen = [s.user for s in samples if s.register == "teencode"]
    assert teen and any(token in u.split() for u in teen for token in ("z", "k", "e", "mik", "vs", "bnhiu"))


def test_answers_stay_polite_and_nfc(offline):
    for sample in offline.variants(PRICE, 30):
        assert sample.assistant.startswith("Dạ")
        assert "250.000 đồng" in sample.assistant
        assert unicodedata.is_normalized("NFC", sample.assistant)


def test_rewrite_answer_swaps_the_closing_offer():
    answers = {rewrite_answer(PRICE.answer, "casual", random.Random(i)) for i in range(40)}
    assert len(answers) > 3
    assert all(a.count("cứ nhắn nha") <= 1 for a in answers)


def test_same_random_seed_same_variants_other_seed_differs():
    first = [(s.user, s.assistant) for s in OfflineGenerator(7).variants(PRICE, 10)]
    again = [(s.user, s.assistant) for s in OfflineGenerator(7).variants(PRICE, 10)]
    other = [(s.user, s.assistant) for s in OfflineGenerator(8).variants(PRICE, 10)]
    assert first == again
    assert first != other


def test_real_seeds_give_enough_variants_that_are_no_near_duplicates_of_each_other(seeds, offline):
    counts = {seed.id: len(offline.variants(seed, 10)) for seed in seeds}
    # --n 10 needs 10 per seed; the few seeds that run dry leave their shortfall to the next seed.
    assert sum(count == 10 for count in counts.values()) >= 95
    assert min(counts.values()) >= 5


def test_variants_of_one_seed_are_no_near_duplicates_of_each_other(seeds, offline):
    for seed in seeds[:20]:
        grams = [shingles(seed.question)]
        for variant in offline.iter_variants(seed):
            assert not is_near_duplicate(shingles(variant.user), grams), (seed.id, variant.user)
            grams.append(shingles(variant.user))


def test_ngrams_worked_out_from_wrapper_and_core_equal_those_of_the_written_user_turn(seeds):
    # The generator tells a near-duplicate candidate without writing it: every candidate of every seed, not only
    # those it yields, must get the n-grams its written user turn would have.
    joined = 0
    for seed in seeds:
        rng = random.Random(seed.id)
        masked, slots = mask(nfc(seed.question))
        cores = _core_variations(question_core(masked), rng)
        for candidate in (c for planned in _plan(cores, rng, False).values() for c in planned):
            core = _styled_core(_style_core(cores[candidate.core][0], candidate.register), tuple(slots))
            grams = _joined_grams(candidate.wrapper, core)
            assert grams == shingles(_user_turn(candidate, core.text, slots)), (seed.id, candidate)
            joined += 1
    assert joined > 5000


@pytest.mark.parametrize("wrapper", ["{q}nhé?", "Hỏi{q}?", "Ad ơiii, {q}?", "{q} hay {q}?", "{q} ⟦0⟧?"])
def test_a_wrapper_that_could_change_how_the_core_is_keyed_is_written_out_instead(wrapper):
    core = _styled_core("giá vé ⟦0⟧ bao nhiêu", ("Đà Lạt",))
    assert core.grams is not None
    assert _joined_grams(wrapper, core) is None


def test_a_stretched_question_is_written_out_before_its_ngrams_are_taken():
    stretched = Seed("T3", "price", "Đà Lạt", "giá vé Thung lũng Tình Yêu bao nhiêuuu vậy ad", PRICE.answer)
    assert _styled_core("giá vé ⟦0⟧ bao nhiêuuu", ("Thung lũng Tình Yêu",)).grams is None
    variants = list(OfflineGenerator(0).iter_variants_with_grams(stretched))
    assert len(variants) >= 5
    assert all(grams == shingles(sample.user) for sample, grams in variants)


def test_variants_come_with_the_ngrams_of_their_user_turn(seeds, offline):
    for seed in seeds[:20]:
        pairs = list(offline.iter_variants_with_grams(seed))
        assert [sample for sample, _ in pairs] == list(offline.iter_variants(seed))
        assert all(grams == shingles(sample.user) for sample, grams in pairs)


def test_inversion_alternatives_list_longer_phrases_first():
    # "(?P<attr>giá vé|giá vé vào cổng)" then ".+" splits the phrase: "giá vé cáp treo Hòn Thơm vào cổng sao".
    import tomllib
    from importlib import resources
    raw = tomllib.loads(resources.files("augment.knowledge.data").joinpath("offline.toml").read_text("utf-8"))
    shadowed = []
    for rule in raw["inversion"]:
        for group in re.findall(r"\(\?P<\w+>((?:[^()]|\((?!\?P)[^()]*\))+)\)", rule["pattern"]):
            options = group.split("|")
            shadowed += [(rule["name"], a, b) for i, a in enumerate(options) for b in options[i + 1:]
                         if b.startswith(a + " ")]
    assert shadowed == []
    assert _invert("⟦0⟧ giá vé vào cổng sao") == ["giá vé vào cổng ⟦0⟧ sao"]
