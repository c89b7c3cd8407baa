"""The facts file and the foundational-fact guard: claims are judged about the place they are about."""

from __future__ import annotations

import tomllib
from importlib import resources

import pytest

from augment.quality.claims import contradiction, premises
from augment.knowledge.facts import load_facts
from augment.knowledge.places import destinations, landmarks, scan
from augment.knowledge.seeds import load_seeds
from augment.text import strip_diacritics
from conftest import SEEDS

FACTS = load_facts()


def test_facts_file_has_34_provinces_and_every_destination_in_one():
    provinces = dict(FACTS.provinces)
    assert len(provinces) == 34
    known = set(FACTS.province_names())
    for d in FACTS.destinations:
        assert d.province in provinces, d.key
        assert set(d.former) <= known, d.key
        assert d.region not in d.wrong_regions, d.key


def test_wrong_regions_are_derived_from_the_region_table():
    raw = tomllib.loads(resources.files("augment.knowledge.data").joinpath("facts.toml").read_text("utf-8"))
    every = {name for macro, inside in raw["regions"].items() for name in (macro, *inside)}
    for d in FACTS.destinations:
        entry = next(e for e in raw["destination"] if e["key"] == d.key)
        assert d.region in every and set(entry.get("regions_also", ())) <= every, d.key
        assert set(d.wrong_regions) == every - {d.region, *entry.get("regions_also", ())} - {
            macro for macro, inside in raw["regions"].items() if d.region in inside
        }, d.key


@pytest.mark.parametrize(
    "key, province, former, sea",
    [
        ("dalat", "Lâm Đồng", ("Lâm Đồng",), False),
        ("muine", "Lâm Đồng", ("Bình Thuận",), True),  # the new Lâm Đồng has a coast; Đà Lạt does not
        ("hoian", "Đà Nẵng", ("Quảng Nam",), True),
        ("phuquoc", "An Giang", ("Kiên Giang",), True),
        ("sapa", "Lào Cai", ("Lào Cai",), False),
        ("nhatrang", "Khánh Hòa", ("Khánh Hòa",), True),
        ("hcm", "TP.HCM", ("TP.HCM",), True),
    ],
)
def test_key_facts(key, province, former, sea):
    d = FACTS.by_key(key)
    assert (d.province, d.former, d.sea) == (province, former, sea)


def test_a_destination_is_found_by_any_of_its_names_in_any_spelling():
    facts = load_facts()
    for destination in facts.destinations:
        for name in destination.names:
            first = next(d for d in facts.destinations if name in d.names)  # a shared name goes to the first listed
            assert facts.by_name(name) is first
            assert facts.by_name(strip_diacritics(name).upper()) is first
    assert facts.by_name("Hogwarts") is None


def test_merged_provinces_after_2025():
    provinces = dict(FACTS.provinces)
    assert set(provinces["Lâm Đồng"]) == {"Đắk Nông", "Bình Thuận"}
    assert set(provinces["Khánh Hòa"]) == {"Ninh Thuận"}
    assert set(provinces["TP.HCM"]) == {"Bình Dương", "Bà Rịa - Vũng Tàu"}
    assert set(provinces["Lào Cai"]) == {"Yên Bái"}


def test_no_landmark_belongs_to_two_destinations():
    owner: dict[str, str] = {}
    for d in FACTS.destinations:
        for alias in (*d.names, *d.landmarks):
            key = alias.casefold()
            assert owner.setdefault(key, d.key) == d.key, f"{alias} is in {owner[key]} and {d.key}"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Dạ, Đà Lạt có quán nào ngon?", {"dalat"}),
        ("cho minh hoi an gi ngon o da lat", {"dalat"}),  # unaccented: "hoi an" is "hỏi ăn", not Hội An
        ("Nhà thơ Hồ Xuân Hương có bài Bánh trôi nước", set()),  # the poet is not the lake
        ("Bánh căn ngon ở đâu?", set()),  # Đà Lạt and Nha Trang both have it
        ("Chợ đêm ở đâu vui?", set()),
        ("Vé Thung lũng Tình Yêu bao nhiêu?", {"dalat"}),  # through its landmark
        ("Bảo tàng Hồ Chí Minh ở Hà Nội", {"hanoi"}),  # Hồ Chí Minh the person is not the city
        ("TP.HCM, tp hcm và Sài Gòn", {"hcm"}),
        ("Tỉnh Lâm Đồng có Mũi Né", {"muine"}),  # a province is not a destination
    ],
)
def test_destinations_named(text, expected):
    assert destinations(text) == expected


def test_landmark_aliases_share_one_name():
    assert landmarks("Langbiang") == landmarks("núi Lang Biang") == {"núi Langbiang"}


@pytest.mark.parametrize(
    "text, place, reason",
    [
        # claims that are false for the place they are about
        ("Dạ, Đà Lạt có biển rất đẹp ạ.", "Đà Lạt", "fact-sea"),
        ("Dạ, bạn có thể tắm biển thoải mái ạ.", "Đà Lạt", "fact-sea"),  # no place named: the seed's place
        ("Đi ra biển Đà Lạt chơi nha.", "Đà Lạt", "fact-sea"),  # the place after the claim
        ("Đà Lạt và Nha Trang đều có biển.", "Đà Lạt", "fact-sea"),  # joined subjects share the claim
        ("Hồ Tuyền Lâm có bãi tắm cho du khách.", "Đà Lạt", "fact-sea"),  # a landmark speaks for its city
        ("Đà Lạt không chỉ có biển mà còn có núi.", "Đà Lạt", "fact-sea"),  # "not only" is no negation
        ("Sa Pa có biển đẹp lắm.", "Sa Pa", "fact-sea"),
        ("da lat co bien dep lam", "Đà Lạt", "fact-sea"),  # typed without diacritics
        ("Đà Lạt nằm ở miền Bắc.", "Đà Lạt", "fact-region"),
        ("Đà Lạt và Sa Pa đều ở miền Bắc.", "Đà Lạt", "fact-region"),
        ("Đà Lạt là thành phố thuộc tỉnh Khánh Hòa.", "Đà Lạt", "fact-province"),
        ("Đà Lạt có tuyết rơi vào tháng 12.", "Đà Lạt", "fact-snow"),
        ("Đà Lạt nóng quanh năm.", "Đà Lạt", "fact-climate"),
        ("Đà Lạt có nhiệt độ trung bình khoảng 28 °C.", "Đà Lạt", "fact-climate"),
        ("Đà Lạt nằm ở độ cao 500 m.", "Đà Lạt", "fact-altitude"),
        ("Mùa hè Đà Lạt thường 38 độ.", "Đà Lạt", "fact-climate"),  # any temperature given a cool place
        ("mua he o da lat nhiet do len toi 36 do", "Đà Lạt", "fact-climate"),
        ("Ban ngày Sa Pa khoảng 28-37 độ C.", "Sa Pa", "fact-climate"),  # a range's upper end
        ("Ban ngày Đà Lạt khoảng 20-25 độ C.", "Đà Lạt", ""),
        ("Sài Gòn 35 độ, còn Đà Lạt chỉ khoảng 20 độ.", "Đà Lạt", ""),  # the heat is another city's
        ("Nha Trang mùa hè khoảng 35 độ.", "Nha Trang", ""),
        ("Đà Lạt là vùng đồng bằng.", "Đà Lạt", "fact-claim"),
        # true negatives: negations, corrections, comparisons, other subjects, other meanings of "biển"
        ("Dạ, Đà Lạt không có biển ạ.", "Đà Lạt", ""),
        ("Dạ, Đà Lạt vẫn không có biển đâu ạ.", "Đà Lạt", ""),
        ("Đà Lạt làm gì có biển ạ.", "Đà Lạt", ""),
        ("Dạ, Đà Lạt có biển đâu ạ.", "Đà Lạt", ""),
        ("Đà Lạt không phải là thành phố biển.", "Đà Lạt", ""),
        ("Nha Trang có biển, còn Đà Lạt thì không.", "Đà Lạt", ""),
        ("Tỉnh Lâm Đồng mới có biển ở Mũi Né, Phan Thiết, nhưng Đà Lạt thì không có biển.", "Đà Lạt", ""),
        ("Lâm Đồng sau sáp nhập có biển nhờ Bình Thuận.", "Đà Lạt", ""),
        ("Nhiều người tưởng Đà Lạt có biển, nhưng thực ra không ạ.", "Đà Lạt", ""),
        ('Câu "Đà Lạt có biển" là sai ạ.', "Đà Lạt", ""),
        ("Nếu muốn tắm biển, từ Đà Lạt bạn có thể đi Nha Trang.", "Đà Lạt", ""),
        ("Từ Đà Lạt đi biển Nha Trang mất 3 tiếng.", "Đà Lạt", ""),
        ("Sáng sớm lên đồi ngắm biển mây rất đẹp.", "Đà Lạt", ""),  # a sea of clouds
        ("Đường vào có biển báo cấm xe tải.", "Đà Lạt", ""),  # a road sign
        ("Đà Lạt nằm ở độ cao khoảng 1.500 m so với mực nước biển.", "Đà Lạt", ""),
        ("Đà Lạt nằm ở độ cao hơn 1.000 m.", "Đà Lạt", ""),  # a lower bound, true
        ("Đỉnh Langbiang có độ cao 2.167 m.", "Đà Lạt", ""),  # the peak's altitude, not the city's
        ("Đà Lạt có rừng thông và tuyết tùng.", "Đà Lạt", ""),  # a cedar
        ("Sa Pa có thể có tuyết vào tháng 1.", "Sa Pa", ""),
        ("Đà Lạt không nằm ở miền Bắc đâu ạ.", "Đà Lạt", ""),
        ("Đà Lạt thuộc tỉnh Lâm Đồng, vùng Tây Nguyên.", "Đà Lạt", ""),
        ("Hội An nay thuộc thành phố Đà Nẵng (trước đây thuộc tỉnh Quảng Nam).", "Hội An", ""),
        ("Đà Lạt có biển không ạ?", "Đà Lạt", ""),  # a question asserts nothing
        ("Phú Quốc có bãi biển đẹp, còn Đà Lạt mát mẻ quanh năm.", "Đà Lạt", ""),
        ("Nha Trang là thành phố ven biển, hợp tắm biển.", "Nha Trang", ""),
        # symmetric: a coast or an island denied where it is true
        ("Nha Trang không có biển, chủ yếu là đồi núi.", "Nha Trang", "fact-sea"),
        ("Dạ, Đà Nẵng đâu có giáp biển ạ.", "Đà Nẵng", "fact-sea"),
        ("Phú Quốc không phải là đảo đâu bạn.", "Phú Quốc", "fact-island"),
        ("Nha Trang nằm trên một hòn đảo lớn.", "Nha Trang", "fact-island"),
        ("Phú Quốc nằm trên đất liền.", "Phú Quốc", "fact-island"),
        ("Bạn đừng tắm biển khi có cờ đỏ nha, nhất là lúc không có cứu hộ.", "Phú Quốc", ""),  # advice, not a denial
        ("Phú Quốc là hòn đảo lớn nhất Việt Nam.", "Phú Quốc", ""),
        # capitals, landmarks in another destination, a former province stated as today's
        ("Đà Lạt là thủ đô của Việt Nam.", "Đà Lạt", "fact-capital"),
        ("Sa Pa là tỉnh lỵ của Lào Cai.", "Sa Pa", "fact-capital"),
        ("Đà Lạt là thủ phủ của tỉnh Khánh Hòa.", "Đà Lạt", "fact-capital"),
        ("Đà Lạt là thủ phủ của tỉnh Lâm Đồng.", "Đà Lạt", ""),
        ("Hà Nội là thủ đô của Việt Nam.", "Hà Nội", ""),
        ("Cũng như Nha Trang, Đà Lạt có Hòn Mun để lặn ngắm san hô.", "Đà Lạt", "fact-landmark"),
        ("Chiều ra Bãi Sao ở Đà Lạt ngắm hoàng hôn.", "Đà Lạt", "fact-landmark"),
        ("Chùa Cầu ở Đà Nẵng, cách trung tâm khoảng 30 km.", "Hội An", ""),  # Hội An is in Đà Nẵng now
        ("Nha Trang có vịnh đẹp, nhiều đảo như Hòn Mun.", "Nha Trang", ""),
        ("Hội An hiện nay vẫn thuộc tỉnh Quảng Nam.", "Hội An", "fact-province"),
        ("Phu Quoc hien nay van thuoc tinh Kien Giang a.", "Phú Quốc", "fact-province"),
        ("Hội An trước đây thuộc tỉnh Quảng Nam, nay thuộc Đà Nẵng.", "Hội An", ""),
        # snow all year is false everywhere; wishes hedge only in conditions; confirmations re-assert
        ("Sa Pa có tuyết rơi quanh năm.", "Sa Pa", "fact-snow"),
        ("Mình thích Đà Lạt vì có biển.", "Đà Lạt", "fact-sea"),
        ("Nếu thích tắm biển thì bạn nên đi Nha Trang.", "Đà Lạt", ""),
        ("Muốn tắm biển thì từ Đà Lạt bạn đi Nha Trang nha.", "Đà Lạt", ""),
        ("Nghe nói Đà Lạt có biển, đúng vậy đó bạn.", "Đà Lạt", "fact-sea"),
        ("Chuyện Đà Lạt có biển là một hiểu lầm.", "Đà Lạt", ""),
        ("Các tỉnh ven biển như Khánh Hòa nắng nóng hơn.", "Đà Lạt", ""),
        # wrong regions come from the region table: everything but a place's region, the one holding it, its also
        ("Đà Nẵng nằm ở miền Nam.", "Đà Nẵng", "fact-region"),
        ("Sa Pa thuoc vung Tay Nguyen, cung vung voi Da Lat do ban.", "Sa Pa", "fact-region"),
        ("Đà Lạt thuộc vùng duyên hải Nam Trung Bộ.", "Đà Lạt", "fact-region"),
        ("Nha Trang thuộc miền Nam Trung Bộ.", "Nha Trang", ""),
        ("Đà Nẵng nằm ở miền Trung.", "Đà Nẵng", ""),
        # the months of the rainy and dry season
        ("Mùa mưa ở Đà Lạt kéo dài từ tháng 11 đến tháng 4.", "Đà Lạt", "fact-season"),
        ("Bạn nên đi Đà Lạt vào tháng 7 vì đây là mùa khô.", "Đà Lạt", "fact-season"),
        ("Mùa mưa ở Đà Lạt thường từ tháng 5 đến tháng 10.", "Đà Lạt", ""),
        ("Phú Quốc đẹp nhất vào mùa khô, từ tháng 11 đến tháng 4 năm sau.", "Phú Quốc", ""),
        ("Hội An hay có mùa mưa lũ tháng 10-11.", "Hội An", ""),
        # an unaccented sentence in an accented answer is read unaccented
        ("Dạ, Đà Lạt mát mẻ quanh năm ạ. Da Lat co bien dep lam.", "Đà Lạt", "fact-sea"),
    ],
)
def test_contradiction(text, place, reason):
    finding = contradiction(text, place)
    assert (finding.reason if finding else "") == reason, finding


@pytest.mark.parametrize(
    "question, expected",
    [
        ("Đà Lạt có biển không ạ?", {"fact-sea"}),  # a false premise, asked
        ("Đà Lạt ở miền Bắc đúng không ạ?", {"fact-region"}),
        ("da lat co bien khong ad", {"fact-sea"}),
        ("Đà Lạt có gì chơi ạ?", set()),
        ("Nha Trang có biển đẹp không?", set()),
    ],
)
def test_premises(question, expected):
    assert premises(question, "Đà Lạt") == expected


def test_unaccented_text_is_scanned_unaccented():
    assert scan("cho minh hoi da lat").unaccented
    assert not scan("cho mình hỏi Đà Lạt").unaccented


def test_no_seed_answer_contradicts_the_facts():
    wrong = [(s.id, contradiction(s.answer, s.place)) for s in load_seeds(SEEDS) if contradiction(s.answer, s.place)]
    assert wrong == []
