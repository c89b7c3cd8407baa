"""The review page: its sample, its marked texts, reading a run back, the CLI, the summary and the run's page."""

from __future__ import annotations

import json
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

import augment.run
from augment.dataset.review import main, review_files
from augment.dataset.review_input import read_run
from augment.dataset.review_view import (
    CHANGED, FIGURE, LOOSE_FIGURE, ReviewOptions, figure_spans, review_page, runs, stratified_sample, syllable_diff,
)
from augment.records import INTENTS, Sample, Seed
from conftest import seed_file

DATA_RE = re.compile(r'<script type="application/json" id="review-data">(.*?)</script>', re.DOTALL)


def page_data(text: str) -> dict:
    """Return the data a review page carries."""
    return json.loads(DATA_RE.search(text).group(1))


def joined(parts: list) -> str:
    return "".join(part if isinstance(part, str) else part[0] for part in parts)


def marked(parts: list, flag: int) -> list[str]:
    return [part[0] for part in parts if not isinstance(part, str) and part[1] & flag]


def metas(out: Path) -> list[dict]:
    return [json.loads(line) for line in out.with_name(f"{out.stem}.meta.jsonl").read_text("utf-8").splitlines()]


def test_default_run_page_holds_50_lines_over_every_stratum(default_output):
    data = page_data(default_output.with_name("fine_tune.review.html").read_text("utf-8"))
    meta = metas(default_output)
    lines = data["lines"]
    assert len(lines) == 50 == len({line["line"] for line in lines}) and data["total"] == 1000
    assert {line["intent"] for line in lines} == set(INTENTS)
    assert {line["register"] for line in lines} == {m["register"] for m in meta}
    assert {"grounded", "no-figure", "none"} == {line["grounding"] for line in lines}
    assert {line["generator"] for line in lines} == {"seed", "offline"}
    assert len({line["seed_id"] for line in lines}) >= 40  # spread over seeds too
    records = default_output.read_text("utf-8").splitlines()
    for line in lines:
        m, record = meta[line["line"] - 1], json.loads(records[line["line"] - 1])
        assert (line["seed_id"], line["register"], line["method"]) == (m["seed_id"], m["register"], m["method"])
        user, answer = record["messages"][1]["content"], record["messages"][2]["content"]
        assert joined(line["answer"]) == answer and user.endswith(joined(line["user"]))
        assert ("context" in line) == (line["grounding"] != "none")
        assert [gate for gate, reason in line["gates"] if reason] == []  # every written line passed every gate


def test_grounded_lines_mark_the_figures_they_use_in_both_texts(default_output):
    data = page_data(default_output.with_name("fine_tune.review.html").read_text("utf-8"))
    grounded = [line for line in data["lines"] if line["grounding"] == "grounded"]
    assert grounded
    for line in grounded:
        in_answer, in_context = marked(line["answer"], FIGURE), marked(line["context"], FIGURE)
        assert in_answer and in_context
        assert set(in_answer) <= {figure for figure in in_answer if figure in joined(line["context"])}
        assert not marked(line["answer"], LOOSE_FIGURE)


def test_page_is_self_contained(default_output):
    text = default_output.with_name("fine_tune.review.html").read_text("utf-8")
    parser = _Tags()
    parser.feed(text)
    references = [value for _, attrs in parser.tags for name, value in attrs.items() if name in ("src", "href", "srcset", "action")]
    assert references == ["data:,"]  # the empty icon, so the browser asks for no favicon
    assert "@import" not in text and "url(" not in text and "fetch(" not in text and "XMLHttpRequest" not in text


def test_standalone_page_is_the_runs_page(default_output, tmp_path, capsys):
    page = tmp_path / "page.html"
    assert main([str(default_output), "--html", str(page)]) == 0
    assert page.read_bytes() == default_output.with_name("fine_tune.review.html").read_bytes()
    assert capsys.readouterr().out.strip() == f"wrote {page}: 50 of 1000 lines (--seed 0); open it in a browser"
    assert main([str(default_output), "--html", str(page), "--seed", "5", "--sample", "20"]) == 0
    assert len(page_data(page.read_text("utf-8"))["lines"]) == 20


def _population() -> list[Sample]:
    """Return 400 samples with skewed strata: one rare register and one rare grounding kind."""
    seeds = [Seed(f"S{i:03d}", INTENTS[i % 5], "Đà Lạt", f"hỏi {i}", f"đáp {i}") for i in range(40)]
    samples = []
    for i in range(400):
        register = "terse" if i == 123 else ("casual", "polite")[i % 2]
        grounding = "no-figure" if i == 321 else ("", "grounded")[i % 3 == 0]
        samples.append(Sample(seeds[i % 40], f"u{i}", f"a{i}", ("seed", "offline")[i % 7 > 0], "m", register, grounding=grounding))
    return samples


def test_sample_covers_rare_values_and_follows_the_seed():
    samples = _population()
    chosen = stratified_sample(samples, 12, 0)
    assert len(chosen) == len(set(chosen)) == 12 and chosen == sorted(chosen)
    assert 123 in chosen and 321 in chosen  # the only terse line and the only no-figure line
    assert {samples[i].seed.intent for i in chosen} == set(INTENTS)
    assert stratified_sample(samples, 12, 0) == chosen
    assert stratified_sample(samples, 12, 1) != chosen
    assert stratified_sample(samples, 500, 3) == list(range(400))
    counts = Counter(samples[i].register for i in stratified_sample(samples, 101, 2))
    assert abs(counts["casual"] - counts["polite"]) <= 2  # after coverage, in proportion to the file


def test_syllable_diff_marks_changed_syllables_only():
    before, after = "Vé vào cổng Dinh Bảo Đại bao nhiêu ạ?", "ve vao cong dinh bảo đại bao nhieu vay ad"
    removed, added = syllable_diff(before, after)
    assert [before[s:e] for s, e in removed] == ["Vé vào cổng", "nhiêu ạ?"]
    assert [after[s:e] for s, e in added] == ["ve vao cong", "nhieu vay ad"]
    assert syllable_diff("Dạ, giá 50.000 đồng ạ.", "Dạ, giá 50.000 đồng ạ.") == ([], [])
    before, after = "vé 950.000 đồng, mở 7:30", "vé 1.045.000 đồng, mở 7:30"
    removed, added = syllable_diff(before, after)
    assert [before[s:e] for s, e in removed] == ["950.000"] and [after[s:e] for s, e in added] == ["1.045.000"]


def test_figures_the_context_holds_and_those_it_lacks():
    answer = "Dạ, vé 250.000 đồng/người, xe điện 30k, gửi xe 99.000 đồng ạ."
    context = "- Vé 250.000 đồng/người.\n- Xe điện 30 nghìn."
    used, loose = figure_spans(answer, context)
    assert [answer[s:e] for s, e in used] == ["250.000", "30k"] and [answer[s:e] for s, e in loose] == ["99.000"]
    parts = runs(answer, {FIGURE: used, LOOSE_FIGURE: loose, CHANGED: [(0, 6)]})
    assert joined(parts) == answer
    assert marked(parts, FIGURE) == ["250.000", "30k"] and marked(parts, LOOSE_FIGURE) == ["99.000"]
    assert marked(parts, CHANGED) == ["Dạ, vé"]


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


HOSTILE = '</script><script>window.pwned=1</script><img src=x onerror="window.pwned=2"><!-- & "quotes" \u2028'


def hostile_samples() -> list[Sample]:
    """Return samples whose every text tries to break out of the page."""
    seed = Seed("S<1>", "price", "Đà Lạt", f"Giá vé {HOSTILE}?", f"Dạ, 50.000 đồng {HOSTILE} ạ.")
    return [
        Sample(seed, f"giá vé {HOSTILE}", f"Dạ, 50.000 đồng {HOSTILE}", "offline", "m<b>", "casual", context=f"- {HOSTILE} 50.000", grounding="grounded"),
        Sample(seed, seed.question, seed.answer, "seed", "seed", "original"),
    ]


def test_no_markup_from_the_data_reaches_the_page():
    text = review_page(hostile_samples(), {"S<1>": Counter({HOSTILE: 2})}, ReviewOptions(title=f"{HOSTILE}.jsonl"))
    parser = _Tags()
    parser.feed(text)
    assert [tag for tag, _ in parser.tags if tag in ("script", "img")] == ["script", "script"]
    assert "<img" not in text and "window.pwned" in text  # only as escaped text
    data = page_data(text)
    assert data["title"] == f"{HOSTILE}.jsonl" and data["lines"][0]["seed_id"] == "S<1>"
    assert joined(data["lines"][0]["user"]) == f"giá vé {HOSTILE}"
    assert data["lines"][0]["dropped"] == [[HOSTILE, 2]]


@pytest.fixture(scope="module")
def small_run(tmp_path_factory, ten_seeds):
    """Return a small run in two formats with a split: (out, seed file)."""
    folder = tmp_path_factory.mktemp("small")
    seeds = seed_file(folder / "seeds.csv", ten_seeds)
    out = folder / "out" / "fine_tune.jsonl"
    flags = ["--seeds", str(seeds), "--out", str(out), "--n", "4", "--offline", "--quiet", "--format", "openai,gemini", "--val-ratio", "0.2"]
    assert augment.run.main(flags) == 0
    return out, seeds


def test_read_run_reads_every_format_and_split(small_run):
    out, seeds = small_run
    main_run = read_run(out, seeds)
    assert read_run(out.with_name("fine_tune.gemini.jsonl"), seeds).samples == main_run.samples
    assert main_run.dropped == {} and main_run.warnings == []
    grounded = [s for s in main_run.samples if s.grounding]
    assert grounded and all(s.context and "Câu hỏi" not in s.user for s in grounded)
    val = read_run(out.with_name("fine_tune.val.jsonl"), seeds).samples
    assert 0 < len(val) < len(main_run.samples) and {s.seed.id for s in val} <= {s.seed.id for s in main_run.samples}


def test_without_the_seed_file_the_seeds_own_lines_stand_in(small_run, tmp_path):
    out, seeds = small_run
    moved = tmp_path / "gone.csv"
    run = read_run(out, None)  # the manifest names the seed file
    assert run.warnings == [] and run.samples == read_run(out, seeds).samples
    seeds.rename(moved)
    try:
        run = read_run(out, None)
    finally:
        moved.rename(seeds)
    assert "not found" in run.warnings[0]
    assert [(s.seed.id, s.seed.question) for s in run.samples if s.generator == "seed"] == [
        (s.seed.id, s.user) for s in run.samples if s.generator == "seed"
    ]


def _copy_run(out: Path, folder: Path) -> Path:
    folder.mkdir()
    for path in out.parent.iterdir():
        if path.is_file():
            (folder / path.name).write_bytes(path.read_bytes())
    return folder / out.name


@pytest.mark.parametrize(
    "breakage, message",
    [
        (lambda out: out.with_name("fine_tune.meta.jsonl").unlink(), "fine_tune.meta.jsonl: not found"),
        (lambda out: out.with_name("fine_tune.meta.jsonl").write_text('{"seed_id": "S1"}\n', "utf-8"), "come from different runs"),
        (lambda out: out.write_text("not json\n", "utf-8"), "fine_tune.jsonl:1: not a JSON object"),
        (lambda out: out.unlink(), "fine_tune.jsonl: not found"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(small_run, tmp_path, capsys, breakage, message):
    out = _copy_run(small_run[0], tmp_path / "copy")
    breakage(out)
    before = sorted(path.name for path in out.parent.iterdir())
    assert main([str(out), "--seeds", str(small_run[1]), "--html", str(tmp_path / "page.html")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "page.html").exists() and sorted(path.name for path in out.parent.iterdir()) == before


def test_unknown_seed_names_the_line_and_the_fix(small_run, tmp_path, capsys):
    out = _copy_run(small_run[0], tmp_path / "copy")
    lines = metas(out)
    lines[3] = {**lines[3], "seed_id": "S999", "generator": "offline"}
    out.with_name("fine_tune.meta.jsonl").write_text("".join(json.dumps(m) + "\n" for m in lines), "utf-8")
    assert main([str(out), "--seeds", str(small_run[1])]) == 2
    assert "fine_tune.jsonl:4: seed 'S999' is not in the seed file; pass --seeds PATH" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [[], ["x.jsonl", "--sample", "0"], ["x.jsonl", "--sample", "many"]])
def test_usage_errors_exit_2_with_one_line(argv, capsys):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2 and capsys.readouterr().err.count("\n") == 1


def _verdict_csv(path: Path, rows: list[list], header=("line", "seed_id", "verdict", "note", "intent", "register", "generator", "grounding")) -> Path:
    import csv

    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_summary_gives_pass_rates_per_intent_register_and_grounding(tmp_path, capsys):
    rows = [
        [1, "S1", "pass", "", "price", "casual", "offline", "grounded"],
        [2, "S1", "fail", 'sai giá, "250k"\nxuống dòng', "price", "polite", "offline", "none"],
        [3, "S2", "minor", "", "address", "casual", "offline", "none"],
        [4, "S3", "pass", "", "address", "casual", "seed", "none"],
        [5, "S4", "", "", "itinerary", "terse", "offline", "no-figure"],
    ]
    assert main(["--summary", str(_verdict_csv(tmp_path / "v.csv", rows))]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("5 lines, 4 judged, 1 not judged yet")
    table = {tuple(line.split()[:2]) if line.split()[0] in ("intent", "register", "grounding") else (line.split()[0],): line.split() for line in out[2:]}
    assert table[("overall",)][1:] == ["4", "50.0%", "2", "1", "1"]
    assert table[("intent", "address")][2:] == ["2", "50.0%", "1", "1", "0"]
    assert table[("register", "casual")][2:] == ["3", "66.7%", "2", "1", "0"]
    assert table[("grounding", "grounded")][2:] == ["1", "100.0%", "1", "0", "0"]
    assert not any(line.split()[:2] == ["itinerary"] for line in out)  # not judged: no row


def test_summary_joins_a_bare_csv_with_the_runs_provenance(small_run, tmp_path, capsys):
    out = small_run[0]
    meta = metas(out)
    bare = _verdict_csv(tmp_path / "v.csv", [[2, meta[1]["seed_id"], "pass", ""], [3, meta[2]["seed_id"], "fail", "x"]], header=("line", "seed_id", "verdict", "note"))
    assert main(["--summary", str(bare)]) == 2
    assert "pass the output it reviews too" in capsys.readouterr().err
    assert main(["--summary", str(bare), str(out)]) == 0
    assert f"intent      {meta[1]['intent']}" in capsys.readouterr().out
    wrong = _verdict_csv(tmp_path / "w.csv", [[2, "S999", "pass", ""]], header=("line", "seed_id", "verdict", "note"))
    assert main(["--summary", str(wrong), str(out)]) == 2
    assert "belong to another run" in capsys.readouterr().err


@pytest.mark.parametrize(
    "rows, message",
    [
        ([[1, "S1", "great", ""]], "verdict 'great' is not one of pass, minor, fail"),
        ([["x", "S1", "pass", ""]], "line 'x' is not a line number"),
        ([[1, "S1", "pass", ""], [1, "S1", "fail", ""]], "line 1 is judged twice"),
    ],
)
def test_bad_verdicts_exit_2_with_one_line(tmp_path, capsys, rows, message):
    path = _verdict_csv(tmp_path / "v.csv", [row + ["price", "casual", "offline", "none"] for row in rows])
    assert main(["--summary", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_page_counts_the_dropped_siblings_of_each_seed():
    samples = hostile_samples()[1:]
    rejected = [(samples[0], "near-duplicate"), (samples[0], "near-duplicate"), (samples[0], "changed-number")]
    ((path, text),) = review_files(Path("o/fine_tune.jsonl"), samples, rejected, 0).items()
    assert path == Path("o/fine_tune.review.html")
    assert page_data(text)["lines"][0]["dropped"] == [["near-duplicate", 2], ["changed-number", 1]]


def test_page_is_written_with_the_other_outputs_in_one_atomic_write(small_run, tmp_path, monkeypatch):
    out = tmp_path / "out" / "fine_tune.jsonl"
    flags = ["--seeds", str(small_run[1]), "--out", str(out), "--n", "3", "--offline", "--quiet"]
    written = []
    monkeypatch.setattr(augment.run, "write_atomically", lambda files: written.append(set(files)))
    assert augment.run.main(flags) == 0
    assert len(written) == 1 and out.with_name("fine_tune.review.html") in written[0] and out in written[0]


def test_no_review_writes_no_page_and_warns_about_an_old_one(small_run, tmp_path, capsys):
    out = tmp_path / "out" / "fine_tune.jsonl"
    flags = ["--seeds", str(small_run[1]), "--out", str(out), "--n", "3", "--offline", "--quiet"]
    assert augment.run.main(flags + ["--no-review"]) == 0
    assert not out.with_name("fine_tune.review.html").exists()
    assert augment.run.main(flags) == 0
    assert len(page_data(out.with_name("fine_tune.review.html").read_text("utf-8"))["lines"]) == 30
    capsys.readouterr()
    assert augment.run.main(flags + ["--no-review"]) == 0
    assert "fine_tune.review.html is left from an earlier run" in capsys.readouterr().err


def test_a_run_without_the_openai_file_reviews_its_first_format(small_run, tmp_path):
    out = tmp_path / "out" / "fine_tune.jsonl"
    flags = ["--seeds", str(small_run[1]), "--out", str(out), "--n", "3", "--offline", "--quiet", "--format", "sharegpt"]
    assert augment.run.main(flags) == 0
    page = out.with_name("fine_tune.sharegpt.review.html")
    assert not out.exists() and not out.with_name("fine_tune.review.html").exists()
    again = tmp_path / "again.html"
    assert main([str(out.with_name("fine_tune.sharegpt.jsonl")), "--html", str(again)]) == 0
    assert page.read_bytes() == again.read_bytes()
    assert page_data(page.read_text("utf-8"))["title"] == "fine_tune.sharegpt.jsonl"
