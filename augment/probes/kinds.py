"""Build the five kinds of probe from the facts, the misconceptions table, the seeds and the probe wordings."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from augment.generators.ground import ground_with_figures
from augment.generators.misconceptions import misconception_seed
from augment.knowledge.facts import Destination, load_facts
from augment.knowledge.misconceptions import kind_table, misconceptions
from augment.probes.probe import Probe, probe_data
from augment.quality.gates import seed_sample
from augment.records import Seed
from augment.text import amounts, fold, nfc, sentences, strip_diacritics


def fill(template: str, **slots: str) -> str:
    """Fill a wording; one typed without diacritics stays without them, the names it is filled with too."""
    text = template.format(**slots)
    if template.startswith("{"):  # a sentence starting with a landmark ("tháp Bà Ponagar") starts with a capital
        text = text[:1].upper() + text[1:]
    return nfc(strip_diacritics(text) if template == strip_diacritics(template) else text)


def _register_of(question: str) -> str:
    """Return how a question outside the register kind is typed: with or without diacritics."""
    return "nodiacritics" if question == strip_diacritics(question) else "diacritics"


def _landmarks(destination: Destination) -> list[str]:
    """Return the landmarks a probe may ask about: unambiguous names that do not contain the destination's name."""
    facts = load_facts()
    names = [fold(name) for name in destination.names]
    return [
        group[0] for group in destination.landmark_groups
        if group[0].casefold() not in facts.ambiguous and not any(name in fold(group[0]) for name in names)
    ]


def foundation_probes(places: Sequence[Destination]) -> list[Probe]:
    """Return yes/no and open questions per destination: sea, snow, region, province, climate, landmark location."""
    data = probe_data()["foundation"]
    probes = []
    for d in places:
        marks = _landmarks(d)
        slots = {"place": d.name, "region": d.region, "landmark": marks[0] if marks else d.name}
        for fact, truth in (("sea", d.sea), ("snow", d.snow if d.climate.startswith("highland") else None)):
            if truth is None:
                continue
            table = data[fact]
            must, must_not = (table["yes_must"], table["yes_must_not"]) if truth else (table["no_must"], [])
            reference = fill(table["yes_answer" if truth else "no_answer"], **slots)
            for n, ask in enumerate(table["ask"]):
                probes.append(_foundation(f"F-{d.key}-{fact}-{n}", d, fill(ask, **slots), reference, fact, must, must_not))
        names = probe_data()["region_names"].get(d.region, [d.region])
        reference = fill(data["region"]["answer"], **slots)
        probes += [_foundation(f"F-{d.key}-region-{n}", d, fill(a, **slots), reference, "region", names) for n, a in enumerate(data["region"]["ask"])]
        if d.province not in d.names:  # a city's own province is no question
            must = [fill(m, province=d.province) for m in data["province"]["must"]]
            reference = fill(data["province"]["answer"], province=d.province, **slots)
            probes += [_foundation(f"F-{d.key}-province-{n}", d, fill(a, **slots), reference, "province", must) for n, a in enumerate(data["province"]["ask"])]
        if d.climate in data["climate"]["answers"]:
            reference = fill(data["climate"]["answers"][d.climate], **slots)
            words = probe_data()["climate_words"][d.climate]
            probes += [_foundation(f"F-{d.key}-climate-{n}", d, fill(a, **slots), reference, "climate", words) for n, a in enumerate(data["climate"]["ask"])]
        for i, landmark in enumerate(marks):
            ask = data["landmark"]["ask"][i % len(data["landmark"]["ask"])]
            reference = fill(data["landmark"]["answer"], landmark=landmark, place=d.name)
            probes.append(_foundation(f"F-{d.key}-landmark-{i}", d, fill(ask, landmark=landmark), reference, "landmark", d.names))
    return probes


def _foundation(pid: str, d: Destination, question: str, reference: str, fact: str, must, must_not=()) -> Probe:
    expect = {"fact": fact, "must": list(must), "must_not": list(must_not)}
    return Probe(pid, "foundation", d.name, question, reference, _register_of(question), expect=expect)


def premise_probes() -> list[Probe]:
    """Return questions built on a false premise, one set per row of the misconceptions table, in new wordings."""
    data = probe_data()["premise"]
    probes = []
    for row in misconceptions():
        table, wordings = kind_table(row.kind), data.get(row.kind)
        if not wordings:
            continue
        reference = misconception_seed(row).answer  # correction first, then the real need, then an offer
        expect = {
            "misconception": row.key,
            "false_claim": row.fill(wordings["claim"]),
            "must": [row.fill(p) for p in table["must"]],
            "premise": [row.fill(p) for p in table["premise"]],
        }
        for n, ask in enumerate(wordings["ask"]):
            question = fill(ask, **dict(row.slots))
            probes.append(Probe(f"P-{row.key}-{n}", "premise", row.place, question, reference, _register_of(ask), expect=dict(expect)))
    return probes


def conflict_probes(seeds: Sequence[Seed], random_seed: int) -> list[Probe]:
    """Return questions whose context gives other figures than the seed: the answer must use the context's."""
    data = probe_data()["conflict"]["ask"]  # per intent; "general" when the question names only its destination
    rng = random.Random(f"probes-{random_seed}:conflict")
    probes = []
    for seed in seeds:
        grounded = ground_with_figures(seed_sample(seed), rng)
        if grounded is None or seed.intent not in data:
            continue
        memorised = amounts(seed.answer) - amounts(grounded.context) - amounts(seed.question)  # "2 ngày" was asked
        fresh = amounts(grounded.context) - amounts(seed.answer)
        if not memorised or not fresh:
            continue
        subject = subject_of(seed)
        asks = data[seed.intent] if subject != seed.place else probe_data()["conflict"]["general"][seed.intent]
        question = fill(asks[len(probes) % len(asks)], subject=subject)
        expect = {"context_figures": sorted(fresh), "memorised_figures": sorted(memorised), "seed": seed.id}
        probes.append(Probe(f"C-{seed.id}", "conflict", seed.place, question, grounded.assistant, "diacritics", grounded.context, expect))
    return probes


def subject_of(seed: Seed) -> str:
    """Return the first landmark, dish or place the seed question names (longest name first), else the seed's place."""
    folded = fold(seed.question)
    found = [(folded.find(fold(name)), name) for name in load_facts().locked_names() if fold(name) in folded]
    return min(found)[1] if found else seed.place


def unknown_probes(places: Sequence[Destination], seeds: Sequence[Seed]) -> list[Probe]:
    """Return questions for a figure neither the seeds nor the context hold: the answer invents none, says how to check."""
    data = probe_data()["unknown"]
    seed_sentences = [fold(s) for seed in seeds for s in sentences(seed.answer)]
    open_air = set(data["open_air"])
    probes = []
    for d in places:
        for landmark in _landmarks(d):
            for n, ask in enumerate(data["ask"]):
                known = re.compile(ask["known"])
                if landmark in open_air and not ask.get("open_air"):
                    continue  # no ticket, no opening hours
                if any(fold(landmark) in s and known.search(s) for s in seed_sentences):
                    continue  # a seed gives that figure for it: not unknown
                what, question = ask["what"], ask["questions"][len(probes) % len(ask["questions"])]
                context = fill(data["empty_context"], what=what, subject=landmark)
                reference = fill(data["answers"][what], subject=landmark)
                expect = {"what": what, "subject": landmark, "must": list(probe_data()["checking"])}
                question = fill(question, subject=landmark)
                probes.append(Probe(f"U-{d.key}-{_key(landmark)}-{n}", "unknown", d.name, question, reference, _register_of(question), context, expect))
    return probes


def register_probes(places: Sequence[Destination]) -> list[Probe]:
    """Return questions in teen-code, without diacritics, in keywords and half in English, each needing a polite answer."""
    data = probe_data()["register"]
    probes = []
    for d in places:
        marks = _landmarks(d) or [d.name]
        for register in ("teencode", "nodiacritics", "terse", "english"):
            for n, ask in enumerate(data[register]):
                slots = {"place": d.name, "landmark": marks[n % len(marks)], "landmark2": marks[(n + 1) % len(marks)]}
                reference = fill(data["answer"], **slots)
                probes.append(Probe(f"R-{d.key}-{register}-{n}", "register", d.name, fill(ask, **slots), reference, register, expect={"register": register}))
    return probes


def _key(name: str) -> str:
    return "".join(ch for ch in strip_diacritics(name).lower() if ch.isalnum())
