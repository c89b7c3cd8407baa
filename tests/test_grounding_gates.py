"""Gates on figures and contexts: each defect has its own reason, and sound lines pass."""

from __future__ import annotations

import pytest

from augment.quality.gates import check_sample, seed_sample
from augment.quality.grounding import (
    check_attribution,
    check_context_voice,
    check_price_noun,
    check_range_order,
    check_schedule_order,
    check_times,
)
from augment.records import Sample, Seed

SEED = Seed("T1", "price", "Đà Lạt", "Giá vé Datanla bao nhiêu?", "Dạ, vé khoảng 50.000 đồng ạ.")


def _sample(answer: str, context: str = "", grounding: str = "", seed: Seed = SEED, user: str = "Giá vé Datanla?") -> Sample:
    return Sample(seed, user, answer, "offline", "register", context=context, grounding=grounding)


@pytest.mark.parametrize(
    "answer, context, bad",
    [
        ("Dạ, cách khoảng 15-14 km ạ.", "", True),
        ("Dạ, giá 900.000-630.000 đồng ạ.", "", True),
        ("Dạ, cách khoảng 4-4 km ạ.", "", True),
        ("Dạ, mất 2,5-2 giờ ạ.", "", True),
        ("Dạ, mất khoảng 1 giờ đến 45 phút ạ.", "", True),
        ("Dạ, vé khoảng 60.000 đồng ạ.", "[1] Giá: 120.000-90.000 đồng", True),
        ("Dạ, giá 630.000-900.000 đồng, cách 14-15 km ạ.", "", False),
        ("Dạ, mất khoảng 45 phút đến 1 giờ ạ.", "", False),
        ("Dạ, mùa mưa lũ tháng 10-11, từ ngày 1/7/2025 ạ.", "", False),
        ("Dạ, Tháng 11-12 hoa dã quỳ nở ạ.", "", False),
        ("Dạ, giá từ 900.000 đến 630.000 đồng ạ.", "", True),
        ("Dạ, giá khoảng 200-150k một người ạ.", "", True),
        ("Dạ, giá khoảng 1,2-1,2 triệu ạ.", "", True),
        ("Dạ, đi mất 2 tiếng - 90 phút ạ.", "", True),
        ("Dạ, giá khoảng 150-200k, từ 8 đến 10 km ạ.", "", False),
        ("Dạ, giá khoảng 900k-1,2 triệu ạ.", "", False),
    ],
)
def test_range_order(answer, context, bad):
    assert check_range_order(_sample(answer, context)) == ("range-order" if bad else "")


@pytest.mark.parametrize(
    "answer, bad",
    [
        ("Dạ, bạn nên dành khoảng 0 giờ để tham quan ạ.", True),
        ("Dạ, cầu phun lửa lúc 21 giờ 00 ạ.", True),
        ("Dạ, mở cửa lúc 25:30 ạ.", True),
        ("Dạ, xuất phát lúc 4 giờ 75 ạ.", True),
        ("Dạ, bạn nên dành khoảng 1 giờ 30 để tham quan ạ.", True),
        ("Dạ, bạn nên dành khoảng 1 giờ 30 phút để tham quan ạ.", False),
        ("Dạ, cầu phun lửa khoảng 21 giờ, xuất phát 4 giờ 30 sáng ạ.", False),
        ("Dạ, mở cửa 7:30, đóng cửa 23:00 ạ.", False),
        ("Dạ, đi bộ mất 0 phút là tới ạ.", True),
        ("Dạ, mở cửa lúc 26h ạ.", True),
        ("Dạ, đi mất khoảng 1 giờ 75 phút ạ.", True),
        ("Dạ, quán mở 24h, xuất phát 5h30 ạ.", False),
    ],
)
def test_impossible_times(answer, bad):
    assert check_times(_sample(answer)) == ("impossible-time" if bad else "")


@pytest.mark.parametrize(
    "answer, bad",
    [
        ("Dạ, lịch nè:\n- 14 giờ: ga Đà Lạt.\n- 13 giờ 30: hồ Xuân Hương.\n- 17 giờ: quảng trường.", True),
        ("Dạ, lịch nè:\n- 8:00: ăn sáng.\n- 8:00: đi chợ.", True),
        ("Dạ, lịch nè:\n- 14 giờ: ga Đà Lạt.\n- 15 giờ 30: hồ Xuân Hương.\n- 17 giờ: quảng trường.", False),
        ("Dạ, lịch nè:\nNgày 2: đi chợ.\nNgày 1: nghỉ.", False),
        ("Dạ, lịch nè:\n* 8h30: ăn sáng.\n* 8h: đi chợ.", True),
        ("Dạ, lịch nè:\n- 7h: ăn sáng.\n- 9h30: đi chợ.\n- 21h - xem cầu.", False),
    ],
)
def test_schedule_order(answer, bad):
    assert check_schedule_order(_sample(answer)) == ("schedule-order" if bad else "")


@pytest.mark.parametrize(
    "context, bad",
    [
        ("- Dạ, mình gợi ý bạn nha: vé khoảng 60.000 đồng.", True),
        ("[1] Vé vào cổng: 60.000 đồng. Bạn cần mình gợi ý thêm cứ nhắn!", True),
        ("[1] Vé vào cổng: 60.000 đồng ạ.", True),
        ("[1] Tên: Thác Datanla | Vé vào cổng: 60.000 đồng | Ghi chú: Máng trượt tính riêng nhé", True),
        ("[1] Tên: Chợ Đầm | Địa chỉ: trung tâm Nha Trang, tỉnh Khánh Hòa | Cách bãi biển: 1-2 km", False),
        ("[1] Tên: Thác Datanla | Vé vào cổng (cập nhật 05/2025): 60.000 đồng/người", False),
        ("[1] Chúng tôi mở cửa từ 7:30 đến 17:00, vé 60.000 đồng.", True),
        ("[1] Vé 60.000 đồng nè, đừng ngại hỏi thêm.", True),
        ("[1] Tên: Dinh Cậu | Địa chỉ: gần chợ đêm Phú Quốc | Trẻ em miễn vé", False),
        ("[1] Em gợi ý anh chị đi buổi sáng: vé 60.000 đồng.", True),
        ("Dạ, vé vào cổng 60.000 đồng.", True),
        ("[1] Mùa mai anh đào: tháng 1-2; trẻ em dưới 1 m miễn vé", False),
    ],
)
def test_context_voice(context, bad):
    assert check_context_voice(_sample("Dạ, vé khoảng 60.000 đồng ạ.", context, "grounded")) == ("context-voice" if bad else "")


CONTEXT = "[1] Tên: Thác Datanla | Địa chỉ: đèo Prenn, phía nam Đà Lạt | Vé vào cổng: 60.000 đồng | Ghi chú: Cổng vào nằm sát đường lớn"


@pytest.mark.parametrize(
    "answer, context, bad",
    [
        ("Dạ, theo thông tin mới nhất mình tra được, vé vào cổng khoảng 60.000 đồng ạ.", CONTEXT, False),
        ("Dạ, theo thông tin mới nhất mình tra được, vé vào cổng khoảng 50.000 đồng ạ.", CONTEXT, True),
        ("Dạ, theo thông tin mới nhất mình tra được, thác nằm ở phường Xuân Hương, cách chợ 5 km ạ.", CONTEXT, True),
        ("Dạ, theo thông tin mình tra được, bạn nên đi buổi sáng cho mát ạ.", CONTEXT, True),
        ("Dạ, tài liệu mình tra được chỉ ghi cổng vào nằm sát đường lớn, chưa có giá vé ạ.", CONTEXT, False),
        ("Dạ, theo thông tin mới nhất mình tra được, vé khoảng 50.000 đồng ạ.", "", True),
        ("Dạ, theo dữ liệu mình tra được, giá như sau:\n- Vé vào cổng: 60.000 đồng.\n- Bạn nên đi sớm.", CONTEXT, True),
        ("Dạ, theo dữ liệu mình tra được, giá như sau:\n- Vé vào cổng: 60.000 đồng.\nBạn nên đi sớm nha.", CONTEXT, False),
        ("Dạ, vé khoảng 50.000 đồng ạ. Bạn nên đi sớm nha.", "", False),
        ("Dạ, theo tài liệu thì vé khoảng 50.000 đồng ạ.", "", True),
        ("Dạ, theo kết quả tra cứu, vé khoảng 60.000 đồng, bạn nên mang áo mưa ạ.", CONTEXT, False),
        ("Dạ, theo kết quả tra cứu, mùa mưa từ tháng 5 đến tháng 10 ạ.", CONTEXT, True),
    ],
)
def test_attribution_only_of_what_the_context_states(answer, context, bad):
    grounding = "grounded" if context else ""
    assert check_attribution(_sample(answer, context, grounding)) == ("attribution-outside-context" if bad else "")


def _price_seed(seeds, seed_id):
    return next(s for s in seeds if s.id == seed_id)


@pytest.mark.parametrize(
    "seed_id, answer, bad",
    [
        ("S007", "Dạ, mình chưa có giá vé của lẩu gà lá é ạ. Bạn gọi trực tiếp đến điểm tham quan nha.", True),
        ("S007", "Dạ, mình chưa có giá món của lẩu gà lá é ạ. Bạn hỏi quầy vé khi đến nơi nha.", True),
        ("S007", "Dạ, mình chưa có giá món của lẩu gà lá é ạ. Bạn xem thực đơn tại quán trước khi gọi nha.", False),
        ("S008", "Dạ, mình chưa có giá vé homestay ạ. Bạn hỏi quầy vé nha.", True),
        ("S008", "Dạ, mình chưa có giá phòng homestay cập nhật ạ. Bạn xem trên các ứng dụng đặt phòng nha.", False),
        ("S014", "Dạ, mình chưa có giá tour lặn Hòn Mun ạ. Bạn hỏi hai, ba đơn vị tổ chức tour nha.", False),
        ("S001", "Dạ, mình chưa có thông tin cập nhật ạ. Bạn hỏi quầy vé khi đến nơi nha.", True),
    ],
)
def test_price_noun_fits_the_subject(seeds, seed_id, answer, bad):
    sample = _sample(answer, "[1] Tên: x", "no-figure", seed=_price_seed(seeds, seed_id))
    assert check_price_noun(sample) == ("wrong-price-noun" if bad else "")


def test_every_seed_passes_the_new_gates(seeds):
    assert not [s.id for s in seeds if check_sample(seed_sample(s))]


@pytest.mark.parametrize(
    "question, answer, bad",
    [
        ("Phở bò ở quán này giá bao nhiêu?", "Dạ, mình chưa có giá vé phở bò ạ. Bạn hỏi quầy vé nha.", True),
        ("Phở bò ở quán này giá bao nhiêu?", "Dạ, mình chưa có giá món cập nhật ạ. Bạn xem thực đơn tại quán nha.", False),
        ("Khách sạn gần biển giá sao ad?", "Dạ, mình chưa có giá vé khách sạn ạ. Bạn hỏi quầy vé nha.", True),
        ("Thuê xe máy ở Sa Pa bao nhiêu 1 ngày?", "Dạ, mình chưa có giá thuê mới nhất ạ. Bạn hỏi vài tiệm cho thuê nha.", False),
        ("Tour lặn Cù Lao Chàm giá vé sao?", "Dạ, mình chưa có giá vé tour ạ. Bạn hỏi quầy vé nha.", True),
    ],
)
def test_price_noun_of_a_seed_without_a_record_comes_from_its_question(question, answer, bad):
    seed = Seed("X9", "price", "Đà Lạt", question, "Dạ, giá khoảng 50.000 đồng ạ.")
    sample = _sample(answer, "[1] Tên: x", "no-figure", seed=seed, user=question)
    assert check_price_noun(sample) == ("wrong-price-noun" if bad else "")
