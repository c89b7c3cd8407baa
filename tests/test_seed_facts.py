"""Fact records: every figure is the seed's own, and a context rendered from a record holds all of its answer's figures."""

from __future__ import annotations

import re

import pytest

from augment.generators.contexts import SHAPES, render_context
from augment.generators.ground import _data as grounding_data
from augment.knowledge.seed_facts import VARIED, fact_records, record_for
from augment.quality.grounding import _has_voice
from augment.records import Seed
from augment.text import amounts

KINDS = {"venue", "dish", "stay", "tour", "rental", "trip", "service", "area", "plan", "topic"}


def test_every_seed_has_a_record_and_every_record_a_seed(seeds):
    assert set(fact_records()) == {seed.id for seed in seeds}
    assert all(record_for(seed) is not None for seed in seeds)


def test_every_figure_is_written_as_its_seed_answer_writes_it(seeds):
    for seed in seeds:
        for figure in fact_records()[seed.id].figures:
            assert figure.text in seed.answer, (seed.id, figure.text)
            assert figure.kind in (*VARIED, "fixed"), (seed.id, figure.kind)
            # Digits in a label are the seed's own too ("Thuê 2 ngày"), so a context never adds a figure.
            assert amounts(figure.label) <= amounts(seed.answer) | amounts(seed.question), (seed.id, figure.label)


def test_records_use_known_kinds_and_neutral_notes_without_figures(seeds):
    for seed in seeds:
        record = fact_records()[seed.id]
        assert record.kind in KINDS, seed.id
        assert not record.as_of or re.fullmatch(r"(0[1-9]|1[0-2])/20\d\d", record.as_of), seed.id
        for text in (*record.notes, record.address, record.entity, *(f.label for f in record.figures)):
            assert not _has_voice(text), (seed.id, text)
        assert not any(re.search(r"\d", note) for note in record.notes), seed.id


def test_price_seeds_have_a_price_and_a_kind_with_a_noun(seeds):
    kinds = grounding_data()["kinds"]
    for seed in (s for s in seeds if s.intent == "price"):
        record = fact_records()[seed.id]
        assert record.kind in kinds, seed.id
        assert any(figure.kind == "price" for figure in record.figures), seed.id


@pytest.mark.parametrize("shape", SHAPES)
def test_a_context_holds_every_figure_of_its_answer(seeds, shape):
    for seed in seeds:
        record = fact_records()[seed.id]
        if not record.varied:
            continue
        context = render_context([(record, {}, True)], shape)
        assert amounts(seed.answer) <= amounts(context) | amounts(seed.question), (seed.id, shape)
        assert not _has_voice(context), (seed.id, context)


def test_a_record_that_no_longer_matches_its_seed_is_not_used(seeds):
    seed = next(s for s in seeds if s.id == "S001")
    changed = Seed(seed.id, seed.intent, seed.place, seed.question, seed.answer.replace("250.000", "260.000"))
    assert record_for(seed) is not None and record_for(changed) is None
