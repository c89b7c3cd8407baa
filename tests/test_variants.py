"""The paraphrase prompt and the tolerant reading of a model's reply."""

from __future__ import annotations

import json

import pytest

from augment.generators.variants import VariantPool, paraphrase_prompt, parse_variants, system_instruction, to_sample
from augment.knowledge.prompting import system_prompt

ITEMS = [
    {"register": "casual", "method": "register", "user": "Ad ơi vé Langbiang bao nhiêu vậy?", "assistant": "Dạ, vé khoảng 50.000 đồng ạ."},
    {"register": "terse", "method": "synonym", "user": "giá vé langbiang", "assistant": "Dạ, khoảng 50.000 đồng ạ."},
]
REPLY = json.dumps({"variants": ITEMS}, ensure_ascii=False)


def test_prompt_carries_the_seed_as_one_json_line_after_seed(seeds):
    prompt = paraphrase_prompt(seeds[0], 9)
    lines = prompt.splitlines()
    line = json.loads(lines[lines.index("Seed:") + 1])
    assert list(line) == ["id", "intent", "place", "question", "answer", "n"]
    assert line["id"] == seeds[0].id and line["n"] == 9 and line["answer"] == seeds[0].answer
    assert "already written" not in prompt


def test_follow_up_prompt_lists_questions_to_avoid(seeds):
    prompt = paraphrase_prompt(seeds[0], 2, ["câu một", "câu hai"])
    assert "- câu một\n- câu hai" in prompt
    assert json.loads(prompt.splitlines()[prompt.splitlines().index("Seed:") + 1])["n"] == 2


def test_system_instruction_embeds_the_guide_persona():
    assert system_prompt() in system_instruction()
    assert "$" not in system_instruction()


@pytest.mark.parametrize(
    "text",
    [
        REPLY,
        f"```json\n{REPLY}\n```",
        f"Đây là kết quả:\n{REPLY}\nChúc bạn vui.",
        json.dumps(ITEMS, ensure_ascii=False),
    ],
)
def test_parse_accepts_plain_fenced_prose_wrapped_and_bare_lists(text):
    assert parse_variants(text) == (ITEMS, "")


def test_parse_salvages_complete_items_of_truncated_json():
    cut = REPLY[: REPLY.index('"terse"') + 4]
    assert parse_variants(cut) == (ITEMS[:1], "truncated")
    assert parse_variants("```json\n" + cut) == (ITEMS[:1], "truncated")


@pytest.mark.parametrize("text", ["", "Xin lỗi, mình không giúp được.", '{"variants": "none"}', '{"varia'])
def test_parse_reports_bad_json(text):
    assert parse_variants(text) == ([], "bad-json")


def test_to_sample_validates_turns_and_labels(seeds):
    sample = to_sample(seeds[0], {"user": " Vé bao nhiêu? ", "assistant": "Dạ, 50.000 đồng ạ.", "register": "Teen-code", "method": "synonym+inversion"})
    assert (sample.user, sample.generator, sample.register, sample.method) == ("Vé bao nhiêu?", "gemini", "teencode", "synonym+inversion")
    assert to_sample(seeds[0], {"user": "x", "assistant": "y", "register": "slang", "method": 3}).register == "other"
    assert to_sample(seeds[0], {"user": "x", "assistant": "y"}).method == "other"
    assert to_sample(seeds[0], {"user": "x"}) is None
    assert to_sample(seeds[0], {"user": "", "assistant": "y"}) is None
    assert to_sample(seeds[0], {"user": ["x"], "assistant": "y"}) is None


def test_pool_counts_usable_variants_and_ignores_extras(seeds):
    seed = seeds[1]  # "vé Langbiang bao nhiêu"
    answer = seed.answer
    pool = VariantPool(seed, 2)
    items = [
        {"user": seed.question, "assistant": answer},  # echo of the seed: not usable
        {"user": "Ad ơi, vé Langbiang bao nhiêu vậy?", "assistant": answer},
        {"user": "Ad ơi, vé Langbiang bao nhiêu vậy?", "assistant": answer},  # duplicate: not usable
        {"assistant": answer},  # missing user turn
        {"user": "Cho mình hỏi giá vé vào Langbiang với ạ?", "assistant": answer},
        {"user": "Dạ cho con hỏi vé Langbiang giá nhiêu ạ?", "assistant": answer},  # beyond n: ignored
    ]
    assert pool.add(items) == 2
    assert pool.missing == 0 and pool.invalid == 1
    assert len(pool.samples) == 4 and pool.usable == [items[1]["user"], items[4]["user"]]
    assert pool.seen == [seed.question, items[1]["user"], items[4]["user"]]
