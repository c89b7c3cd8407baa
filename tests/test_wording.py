"""Wording checks: each defect class found, and the natural turns and answers beside it left alone."""

from __future__ import annotations

import random

import pytest

from augment.generators.bodies import split_frame, vary_body
from augment.generators.offline import rewrite_answer
from augment.generators.turns import asked_in, fitting_wrappers, sentence_type, with_pronoun
from augment.quality import framing, wording
from augment.text import amounts


@pytest.mark.parametrize("user, bad", [
    ("langbiang vé bnhiu k ạ", True),
    ("Hồ Tuyền Lâm đi đường nào không ạ?", True),
    ("chợ đêm nằm ở đâu ko ad", True),
    ("tour lặn bao nhiêu tiền 1 người hông vậy", True),
    ("ve cap treo gia bao nhieu khong", True),
    ("Đà Lạt có quán cà phê nào view đẹp không ạ?", False),  # "có ... nào ... không" asks yes/no
    ("Hái dâu có mất phí ko ad?", False),
    ("Đi bộ được không ạ?", False),
    ("Vé Langbiang bao nhiêu ạ?", False),
    ("Cách trung tâm bao xa, đi xe máy được không?", False),  # the tag closes its own clause
])
def test_yes_no_tag_on_a_wh_question(user, bad):
    assert wording.tag_on_wh(user) is bad


@pytest.mark.parametrize("user, count", [
    ("cho mik hỏi cho mik xin lịch trình đà lạt 2 ngày", 2),
    ("Xin hỏi, cho mình xin lịch trình Hội An?", 2),
    ("Tư vấn giúp mình: gợi ý lịch trình Sa Pa", 2),
    ("Cho mình xin lịch trình Đà Lạt 2 ngày 1 đêm với ạ", 1),
    ("Nhờ tư vấn lịch trình ít leo dốc", 1),
    ("Xin chào, vé Langbiang bao nhiêu?", 0),  # a greeting asks for nothing
    ("Chỉ có 1 buổi sáng thì đi đâu?", 0),
])
def test_requests_are_counted(user, count):
    assert wording.requests(user) == count


@pytest.mark.parametrize("user, families", [
    ("Cho cháu hỏi nhóm mình 5 người nên ở đâu ạ?", {"cháu", "mình"}),
    ("Dạ cho em hỏi, tôi đi Đà Lạt thì ở đâu ạ?", {"em", "tôi"}),
    ("Mình đi Đà Lạt một mình 2 ngày", {"mình"}),  # "một mình" is "alone"
    ("Đi Đà Lạt với con nhỏ 5 tuổi", set()),  # "con nhỏ" is a child
    ("Lẩu gà lá é cho 4 người ăn", set()),
    ("cho minh hoi toi o da lat an gi", {"mình"}),  # unaccented "toi" here is "tối"
    ("Dạ cho con hỏi bố mẹ con đi đâu ạ?", {"con"}),
])
def test_pronoun_families(user, families):
    assert wording.pronoun_families(user) == families


def test_mid_sentence_capitals_only_for_names():
    assert wording.mid_capitals("Cho mình hỏi Vé Thung lũng Tình Yêu bao nhiêu?") == ["Vé"]
    assert wording.mid_capitals("Cho mình hỏi vé Thung lũng Tình Yêu bao nhiêu? Tối nay đi") == []
    assert wording.mid_capitals("Ăn gì ở Sa Pa cho đúng chất Tây Bắc?", allowed="Tây Bắc") == []
    # A name whose own spelling starts with a common noun ("hồ Tuyền Lâm") keeps it small inside a sentence.
    assert wording.mid_capitals("Cho mình hỏi Hồ Tuyền Lâm đi đường nào?", allowed="Hồ Tuyền Lâm đi đường nào") == ["Hồ"]
    assert wording.mid_capitals("Hồ Tuyền Lâm đi đường nào?") == []


@pytest.mark.parametrize("user, register, bad", [
    ("ad ơi vé langbiang bao nhiêu", "teencode", True),  # "ad ơi" is casual, not teen-code
    ("cho e hỏi vé langbiang bnhiu z", "teencode", False),
    ("vé langbiang bao nhiêu", "teencode", True),
    ("ve langbiang bao nhieu", "nodiacritics", False),
    ("ve langbiang bao nhiêu", "nodiacritics", True),
    ("vé langbiang bao nhiêu", "terse", False),
    ("cho mình hỏi vé langbiang bao nhiêu", "terse", True),
    ("Vé Langbiang bao nhiêu?", "deferential", True),
    ("Dạ cho em hỏi vé Langbiang bao nhiêu ạ?", "deferential", False),
])
def test_register_markers(user, register, bad):
    assert wording.register_unmarked(user, register) is bad


def test_answer_framing_defects():
    body = "Giá tham khảo như sau:\n- Vé: khoảng 50.000 đồng."
    assert framing.opener_phrase("Dạ, mình xin tư vấn như sau ạ:", body) == "như sau"
    assert framing.opener_phrase("Dạ, chào bạn ạ!", body) == ""
    assert framing.closers("Dạ, vé 50.000 đồng ạ. Chúc bạn đi vui! Cần gì cứ nhắn mình nha!") == 2
    assert framing.closers("Dạ, vé 50.000 đồng ạ. Cần gì cứ nhắn mình nha!\nChúc bạn đi vui!") == 2
    assert framing.closers("Dạ, chúc bạn đi vui, vé 50.000 đồng ạ.\n- Vé: 50.000 đồng.\nCứ nhắn mình nha!") == 1
    assert framing.stacked_opener("Dạ, có ngay ạ! Được ạ! Mình gợi ý lịch trình nha:")
    assert not framing.stacked_opener("Dạ, có ạ! Đà Lạt có nhiều hồ đẹp.")
    lead_twice = "Dạ, mình xin tư vấn như sau ạ: Mình gợi ý lịch trình 2 ngày nha:\nNgày 1: đi hồ."
    assert framing.answer_defect(lead_twice, framing.known_openers()) == "stacked-opener"


@pytest.mark.parametrize("answer, defect", [
    ("Dạ, có ngay ạ! Đà Lạt không có biển ạ, vì nằm sâu trong đất liền.", "eager-opener-on-denial"),
    ("Dạ, có ngay bạn ơi! Dạo quanh hồ Tuyền Lâm thì không mất vé vào cửa đâu ạ.", "eager-opener-on-denial"),
    ("Dạ, có ngay ạ! Hiện chưa có chuyến bay thẳng từ Đà Lạt đi Phú Quốc ạ.", "eager-opener-on-denial"),
    ("Dạ, chào bạn ạ! Đà Lạt không có biển ạ.", ""),  # a greeting is no yes
    ("Dạ, có ngay ạ! Vé vào cổng khoảng 50.000 đồng, không gồm máng trượt.", ""),  # the denial is a later clause
    ("Dạ, có ngay ạ! Đà Lạt có nhiều hồ đẹp, bạn ghé hồ Tuyền Lâm nha.", ""),
])
def test_an_eager_yes_never_opens_a_denial(answer, defect):
    assert framing.answer_defect(answer, framing.known_openers()) == defect


@pytest.mark.parametrize("core, kind", [
    ("vé ⟦0⟧ bao nhiêu", "wh"),
    ("tháng ⟦0⟧ nên đi ⟦1⟧ hay ⟦2⟧", "wh"),
    ("⟦0⟧ có quán cà phê nào view đẹp không", "yesno"),
    ("cho mình xin lịch trình ⟦0⟧ ⟦1⟧ ngày", "request"),
    ("lịch trình ⟦0⟧ ⟦1⟧ ngày ⟦2⟧ đêm cho gia đình", "keyword"),
])
def test_sentence_type(core, kind):
    assert sentence_type(core) == kind


def test_a_question_is_never_taken_for_a_topic():
    # The seed asked ("... có biển luôn hả ad?") though its core lost the particle: a yes/no question, so no
    # "gợi ý ..." or "cho mình xin ..." wrapper; a statement after a question keeps the question's type.
    core = "nghe nói ⟦0⟧ sáp nhập xong có biển rồi, vậy giờ ⟦1⟧ có biển luôn"
    assert sentence_type(core) == "keyword"
    assert asked_in("Nghe nói Lâm Đồng sáp nhập xong có biển rồi, vậy giờ Đà Lạt có biển luôn hả ad?")
    assert sentence_type(core, asked=True) == "yesno"
    assert sentence_type("cầu ⟦0⟧ nằm ở đâu? Tối nay muốn xem phun lửa") == "wh"
    assert not asked_in("Lịch trình Đà Lạt 3 ngày 2 đêm cho gia đình có con nhỏ")
    table = {"ask": ["Bạn ơi, {q} ạ?", "{q} vậy ad?"], "wh": ["Ad ơi {q} vậy ta?"], "keyword": ["Ad gợi ý {q} với"]}
    fitting = [wrapper for wrapper, _ in fitting_wrappers(table, "cầu ⟦0⟧ nằm ở đâu? Tối nay muốn xem phun lửa")]
    assert fitting == ["Bạn ơi, {q} ạ?"]  # no "vậy ad?" closing the statement, no topic wrapper


@pytest.mark.parametrize("user, bad", [
    ("Chào bạn, cho mình hỏi Hồ Xuân Hương nằm ở đâu nhé?", True),
    ("Bạn ơi, vé Langbiang bao nhiêu tiền nha?", True),
    ("Cho tui hỏi chợ đêm ở đâu nè", True),
    ("cho dem o dau nhe ban", True),
    ("Đà Lạt tháng 12 có lạnh không nhé?", True),
    ("Đà Lạt có biển không với", True),  # "với" closes a question only after a request
    ("Nhờ bạn cho mình biết Hồ Xuân Hương nằm ở đâu nhé?", False),  # asks to be told: the softener fits
    ("Gợi ý giúp mình quán nào ngon nha", False),
    ("Ad ơi cho hỏi chợ đêm ở đâu với", False),
    ("cho mik hỏi chợ đêm ở đâu vs", False),
    ("Mình hỏi chút nhé, chợ đêm ở đâu?", False),  # the softener closes its own clause
    ("Bạn ơi, cho mình xin lịch trình 3 ngày nha", False),
])
def test_a_softener_never_closes_a_question(user, bad):
    assert wording.particle_on_question(user) is bad


@pytest.mark.parametrize("user, bad", [
    ("Dạ anh chị cho con hỏi thác Datanla nằm chỗ nào ạ?", True),
    ("Bạn ơi cho cháu hỏi chợ đêm ở đâu?", True),
    ("Cô chú ơi cho tôi hỏi đường ra hồ ạ?", True),
    ("da anh chi cho con hoi cho dem o dau a", True),
    ("Dạ anh chị ơi, cho em hỏi chợ ở đâu ạ?", False),
    ("Con chào cô chú ạ, cho con hỏi chợ ở đâu ạ?", False),
    ("Dạ, anh chị cho em hỏi đi với con nhỏ 5 tuổi thì chơi ở đâu ạ?", False),  # "con nhỏ" is a child
    ("Lịch trình cho nhóm bạn, cho mình xin nhé", False),  # "nhóm bạn" calls nobody
])
def test_the_pronoun_pairs_with_how_the_bot_is_addressed(user, bad):
    assert wording.address_mismatch(user) is bad


@pytest.mark.parametrize("user, register, bad", [
    ("Phiền bạn cho mình hỏi Dinh Bảo Đại vé vào cửa nhiêu ạ?", "polite", True),
    ("Dạ cho em hỏi bản Cát Cát có xa ko ạ?", "deferential", True),
    ("Cho mình hỏi lịch trình cho nhóm 6 đứa sv ít tiền ạ?", "polite", True),
    ("Cho mình hỏi vé Langbiang bao nhiêu ạ?", "polite", False),  # "bao nhiêu" is no shorthand
    ("ad ơi vé langbiang bnhiu z", "teencode", False),  # shorthand is teen-code's own
    ("ad ơi tôi muốn đưa bố mẹ đi đà lạt 3 ngày vs ạ", "teencode", True),  # teen-code does not say "tôi"
    ("Cho tôi hỏi vé Langbiang bao nhiêu ạ?", "polite", False),
])
def test_a_turn_holds_no_word_its_register_never_uses(user, register, bad):
    assert wording.register_leak(user, register) is bad


def test_polite_cores_are_written_in_standard_spelling():
    from augment.generators.offline import _style_core
    core = "vé vào cửa nhiêu, có xa ko, bao nhiêu tiền, nhóm 6 đứa sv"
    assert _style_core(core, "polite") == "vé vào cửa bao nhiêu, có xa không, bao nhiêu tiền, nhóm 6 đứa sinh viên"
    assert _style_core(core, "casual") == core


@pytest.mark.parametrize("user, bad", [
    ("Bạn cho mình biết quảng trường Lâm Viên cách chợ xa không được không ạ?", True),
    ("cách xa ko dc ko ad", True),
    ("bản cát cát có xa ko ạ, đi bộ dc ko ạ", False),  # one tag a clause
    ("Bạn cho mình biết chợ đêm ở đâu được không ạ?", False),
])
def test_a_clause_ends_with_one_yes_no_tag(user, bad):
    assert wording.stacked_tags(user) is bad


def test_a_yes_no_core_gets_no_wrapper_that_adds_a_tag():
    table = {"ask": ["Bạn cho mình biết {q} được không ạ?", "Cho mình hỏi {q} ạ?"], "yesno": ["Ad ơi {q} ta?"]}
    fitting = [wrapper for wrapper, _ in fitting_wrappers(table, "⟦0⟧ có bãi biển nào đẹp, nước trong không")]
    assert "Bạn cho mình biết {q} được không ạ?" not in fitting and "Cho mình hỏi {q} ạ?" in fitting


@pytest.mark.parametrize("user, opener, bad", [
    ("Tháng 12 đi Đà Lạt có lạnh không ạ?", "Dạ, có ngay ạ!", True),
    ("Nên đi Đà Lạt hay Sa Pa vào tháng 12?", "Dạ, có liền nha!", True),
    ("Đà Lạt có biển luôn hả ad?", "Dạ, được ạ!", True),
    ("Vé Langbiang bao nhiêu ạ?", "Dạ, có ngay ạ!", False),
    ("Bạn cho mình biết chợ đêm ở đâu được không ạ?", "Dạ, có ngay ạ!", False),  # asks to be told
    ("Đà Lạt có quán nào ngon không ạ?", "Dạ, chào bạn ạ!", False),  # a greeting pre-empts nothing
])
def test_an_eager_yes_never_opens_the_answer_to_a_closed_question(user, opener, bad):
    answer = f"{opener} Tháng 12 Đà Lạt se lạnh, bạn nhớ mang áo ấm. Bạn cần gì cứ nhắn mình nha!"
    assert (framing.answer_defect(answer, [opener], user) == "eager-opener-on-question") is bad


def test_a_lead_in_announcing_a_list_never_opens_a_paragraph():
    opener = "Dạ, mình xin tư vấn như sau ạ:"
    prose = f"{opener} Vé cáp treo khoảng 600.000 đồng/người lớn ạ. Bạn cần gì cứ nhắn mình nha!"
    listed = f"{opener}\n- Vé người lớn: khoảng 600.000 đồng.\n- Trẻ em: thấp hơn.\nBạn cần gì cứ nhắn mình nha!"
    assert framing.answer_defect(prose, [opener]) == "lead-in-before-prose"
    assert framing.answer_defect(listed, [opener]) == ""
    assert framing.answer_defect(prose.replace(opener, "Dạ, chào bạn ạ!"), ["Dạ, chào bạn ạ!"]) == ""


@pytest.mark.parametrize("user, count", [
    ("Bạn cho mình biết xin lịch trình Hội An 2 ngày 1 đêm, có đi đảo được không nhé?", 2),
    ("Bạn cho mình biết chợ đêm ở đâu được không ạ?", 1),
])
def test_asking_to_be_told_is_a_request(user, count):
    assert wording.requests(user) == count


def test_sentence_final_particles_are_thinned_to_the_limit():
    answer = "Dạ, chào bạn nha! Vé 50.000 đồng nha. Bạn nên đi sớm nhé.\nMẹo: mang áo nha!\nCứ nhắn mình nha!"
    assert framing.final_particles(answer) == 5
    assert framing.answer_defect(answer) == "particle-pileup"
    tamed = framing.tame_particles(answer, keep_from=len("Dạ, chào bạn nha!"))
    assert tamed == "Dạ, chào bạn nha! Vé 50.000 đồng. Bạn nên đi sớm.\nMẹo: mang áo!\nCứ nhắn mình nha!"
    assert framing.final_particles("Dạ, đi nha hay nhé đều được. Cứ nhắn mình nha!") == 1  # only a sentence's end


def test_core_takes_the_wrappers_pronoun_and_keeps_common_nouns():
    assert with_pronoun("nhóm mình 5 người đi một mình", "em") == "nhóm em 5 người đi một mình"


ITINERARY = (
    "Dạ, mình gợi ý lịch trình 2 ngày nha:\nNgày 1: Sáng đi hồ; chiều đi chợ.\nNgày 2: Sáng đi thác; tối ăn lẩu.\n"
    "Bạn nên mang áo ấm nha. Bạn cần mình gợi ý thêm gì cứ nhắn nha!"
)
LIST = (
    "Dạ, giá tham khảo như sau:\n- Vé vào cổng: khoảng 50.000 đồng.\n- Máng trượt: khoảng 100.000 đồng.\n"
    "- Cáp treo: khoảng 80.000 đồng.\n- Lưu ý: giá đổi theo mùa.\nBạn nên đi sớm nha. Chúc bạn có chuyến đi vui ạ!"
)


def test_itinerary_days_keep_their_order_and_lists_are_reordered():
    for i in range(30):
        lines = vary_body(split_frame(ITINERARY)[0], "itinerary", random.Random(i), len(ITINERARY))
        days = [line[:6] for line in lines if line.startswith("Ngày")]
        assert days == ["Ngày 1", "Ngày 2"]
    lists = [vary_body(split_frame(LIST)[0], "price", random.Random(i), len(LIST)) for i in range(30)]
    orders = {tuple(line[:4] for line in lines if line.startswith("-")) for lines in lists}
    assert len(orders) > 1
    assert all(order[-1] == "- Lư" for order in orders)  # the caveat stays last


def test_rewritten_answers_keep_every_figure_and_end_with_one_closer():
    seen: set = set()
    answers = {rewrite_answer(LIST, "casual", random.Random(i), "price", seen) for i in range(20)}
    assert len(answers) >= 10
    for answer in answers:
        assert amounts(answer) == amounts(LIST)
        assert framing.closers(answer) == 1
        assert framing.answer_defect(answer, framing.known_openers()) == ""
