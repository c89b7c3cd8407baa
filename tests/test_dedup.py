"""Dedup: exact and near-duplicate user turns, the MinHash index behind it, keys, and the diversity figures."""

from __future__ import annotations

import unicodedata

import numpy as np
import pytest

from augment.quality.dedup import NEAR_THRESHOLD, Deduper, fingerprint_of
from augment.quality.diversity import distinct_n, diversity, within_seed_similarity
from augment.generators.offline import OfflineGenerator
from augment.quality.minhash import MinHashIndex
from augment.records import Sample, Seed
from augment.text import _strip_slowly, exact_key, jaccard, shingles, strip_diacritics

SEED = Seed(
    "D1", "itinerary", "Đà Lạt", "Lịch trình Đà Lạt 3 ngày 2 đêm cho gia đình có con nhỏ?",
    "Dạ, ngày 1 dạo hồ Xuân Hương, ngày 2 đi Thung lũng Tình Yêu, ngày 3 ghé ga Đà Lạt ạ.",
)
OTHER = Seed("D2", "price", "Đà Lạt", "Vé Datanla bao nhiêu?", "Dạ, khoảng 50.000 đồng ạ.")


def sample(user: str, assistant: str = SEED.answer, seed: Seed = SEED, generator: str = "gemini") -> Sample:
    return Sample(seed, user, assistant, generator, "synonym")


FIRST = "Cho mình xin lịch trình Đà Lạt 3 ngày 2 đêm cho gia đình có con nhỏ với ạ?"


@pytest.mark.parametrize(
    "second, assistant, reason",
    [
        (FIRST, SEED.answer, "duplicate-pair"),
        (FIRST, "Dạ vâng, " + SEED.answer[4:], "duplicate-user"),  # same question, another answer
        ("cho mình xin LỊCH TRÌNH Đà Lạt 3 ngày 2 đêm cho gia đình có con nhỏ với ạ!!", SEED.answer, "duplicate-pair"),
        (unicodedata.normalize("NFD", FIRST), SEED.answer, "duplicate-pair"),  # decomposed Unicode
        ("Cho mình xin lịch trình Đà Lạt 3 ngày 2 đêm cho gia đình có con nhỏ với ạ\u200b?", SEED.answer, "duplicate-pair"),
        ("cho minh xin lich trinh da lat 3 ngay 2 dem cho gia dinh co con nho voi a", SEED.answer, "near-duplicate"),
        ("Xin chào, cho mình xin lịch trình Đà Lạt 3 ngày 2 đêm cho gia đình có con nhỏ với ạ?", SEED.answer, "near-duplicate"),
        ("Nhà mình có bé nhỏ, đi Đà Lạt 3 ngày 2 đêm thì nên đi những đâu?", SEED.answer, ""),
        ("ad ơi lên lịch đi đà lạt 3n2đ cho cả nhà có em bé z", SEED.answer, ""),
    ],
)
def test_second_turn(second, assistant, reason):
    deduper = Deduper()
    assert deduper.admit(sample(FIRST)) == ""
    assert deduper.admit(sample(second, assistant)) == reason


def test_same_question_of_another_seed_is_still_a_duplicate():
    deduper = Deduper()
    assert deduper.admit(sample("Vé Datanla bao nhiêu vậy ad?", OTHER.answer, OTHER)) == ""
    assert deduper.admit(sample("Vé Datanla bao nhiêu vậy ad?", SEED.answer)) == "duplicate-user"


def test_offline_and_gemini_variants_share_one_deduper():
    deduper = Deduper()
    assert deduper.admit(sample("Vé Datanla bao nhiêu vậy ad?", OTHER.answer, OTHER, generator="offline")) == ""
    assert deduper.admit(sample("vé Datanla bao nhiêu vậy ad", OTHER.answer, OTHER, generator="gemini")) == "duplicate-pair"


@pytest.mark.parametrize(
    "a, b",
    [
        ("Hoà Bình", "Hòa Bình"),  # old and new tone placement
        ("thuỷ cung", "thủy cung"),
        ("ĐÀ LẠT", "đà lạt"),
        ("Ðà Lạt", "Đà Lạt"),  # the look-alike Ð (U+00D0)
        ("quáaaa đẹp", "quá đẹp"),
        ("khoảng 5 km", "khoảng  5 km."),
    ],
)
def test_exact_key_folds_spelling_variants(a, b):
    assert exact_key(a) == exact_key(b)


@pytest.mark.parametrize(
    "a, b",
    [("hoàng hôn", "hòang hôn"), ("khoảng", "khỏang")],  # with a final consonant both styles agree: no folding
)
def test_exact_key_keeps_tone_placement_before_a_final_consonant(a, b):
    assert exact_key(a) == a and exact_key(a) != exact_key(b)


@pytest.mark.parametrize(
    "text",
    ["Đà Lạt có hồ Xuân Hương", "ĐẮK LẮK", unicodedata.normalize("NFD", "Phú Quốc"), "Straße Ω 🌸 Đà", "ǅ ǈ ÿ"],
)
def test_fast_diacritic_stripping_matches_unicode(text):
    assert strip_diacritics(text) == _strip_slowly(text)


def test_index_returns_the_most_similar_first_and_honours_the_floor():
    index = MinHashIndex(num_perm=64, bands=16)
    base = shingles("lịch trình đà lạt ba ngày hai đêm cho gia đình có con nhỏ đi xe máy")
    close = shingles("lịch trình đà lạt ba ngày hai đêm cho gia đình có con nhỏ đi ô tô")
    far = shingles("vé thác datanla bao nhiêu tiền một người")
    for key, grams in enumerate([far, close, base]):
        index.insert(key, index.signature(grams))
    found = index.query(index.signature(base))
    assert found[0] == 2 and 0 not in found
    assert index.query(index.signature(base), min_agreement=1.0) == [2]


def test_index_grows_past_its_first_block():
    index = MinHashIndex()
    for key in range(3000):
        index.insert(key, index.signature({f"gram{key}", "shared"}))
    assert 2999 in index.query(index.signature({"gram2999", "shared"}), min_agreement=0.9)


def test_index_rejects_bands_that_do_not_divide():
    with pytest.raises(ValueError, match="multiple of bands"):
        MinHashIndex(num_perm=64, bands=10)


def test_lsh_finds_every_near_duplicate_an_exhaustive_search_finds():
    generator = OfflineGenerator(random_seed=0)
    seeds = [SEED, OTHER, Seed("D3", "address", "Đà Lạt", "Chợ đêm Đà Lạt nằm ở đâu ạ?", "Dạ, ngay trung tâm ạ.")]
    variants = [v for seed in seeds for v in generator.iter_variants(seed)][:200]
    # The generator skips its own near-duplicates: greeting-only rewrites of its variants make some again.
    samples = [s for v in variants for s in (v, Sample(v.seed, f"Xin hỏi, {v.user}", v.assistant, "gemini", "register"))]
    deduper = Deduper()
    verdicts = [deduper.admit(s) == "near-duplicate" for s in samples]
    kept: list[set[str]] = []
    users: set[str] = set()
    expected = []
    for s in samples:
        grams = shingles(s.user)
        duplicate = exact_key(s.user) in users
        near = not duplicate and any(jaccard(grams, other) >= NEAR_THRESHOLD for other in kept)
        expected.append(near)
        if not duplicate and not near:
            users.add(exact_key(s.user))
            kept.append(grams)
    assert verdicts == expected
    assert sum(verdicts) > 10  # the greetings do make near-duplicates


@pytest.mark.parametrize(
    "texts, n, expected",
    [
        (["a b c", "a b d"], 1, 4 / 6),
        (["a b c", "a b d"], 2, 3 / 4),
        (["Đà Lạt", "đà lạt!"], 1, 2 / 4),  # on the comparison key
        ([], 1, 0.0),
    ],
)
def test_distinct_n(texts, n, expected):
    assert distinct_n(texts, n) == pytest.approx(expected)


def test_within_seed_similarity_is_a_mean_per_seed():
    samples = [sample("a b c"), sample("a b c"), sample("x y", seed=OTHER), sample("p q", seed=OTHER)]
    mean, highest = within_seed_similarity(samples)
    assert highest == 1.0
    assert mean == pytest.approx((1.0 + 0.0) / 2)


def test_diversity_report_keys():
    figures = diversity([sample("a b c"), sample("a b d")])
    assert set(figures) == {"distinct_1", "distinct_2", "mean_similarity_within_seed", "max_similarity_within_seed"}
    assert 0 < figures["mean_similarity_within_seed"] < 1


def test_diversity_from_the_pipelines_fingerprints_equals_diversity_from_the_text(seeds, offline):
    samples = [variant for seed in seeds[:30] for variant in offline.variants(seed, 10)]
    fingerprints = {sample.user: fingerprint_of(sample.user) for sample in samples[::2]}  # some known, some not
    assert diversity(samples, fingerprints) == diversity(samples)
    assert diversity(samples)["mean_similarity_within_seed"] > 0


def test_signature_is_deterministic_across_indexes():
    grams = shingles("vé thác datanla bao nhiêu tiền")
    assert np.array_equal(MinHashIndex().signature(grams), MinHashIndex().signature(grams))
