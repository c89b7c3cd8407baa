"""Dataset card: README.md and its histogram PNG beside the data, regenerated on every run, loadable as documented."""

from __future__ import annotations

import io
import json
import os
import math
from pathlib import Path

import numpy as np
import pytest
from datasets import load_dataset

from augment.dataset.bundle import stale_files
from augment.dataset.card import CARD_MARK, CardInput, render_card
from augment.dataset.manifest import input_hashes
from augment.dataset.plot import bin_counts, histogram_png, nice_ticks
from augment.records import Sample, Seed
from augment.run import main
from seed_rows import small_seeds

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _run(folder: Path, *flags: str) -> tuple[int, Path]:
    out = folder / "out" / "fine_tune.jsonl"
    seeds = small_seeds(folder / "seeds.csv")
    return main(["--seeds", str(seeds), "--out", str(out), "--offline", "--quiet", *flags]), out


@pytest.fixture(scope="module")
def split_run(tmp_path_factory):
    """Run once with a split and two formats; return the output path and the card text."""
    code, out = _run(tmp_path_factory.mktemp("card"), "--n", "3", "--val-ratio", "0.2", "--format", "sharegpt,openai")
    assert code == 0
    return out, (out.parent / "README.md").read_text(encoding="utf-8")


def test_card_and_plot_are_written_beside_the_data(split_run):
    out, card = split_run
    assert card.startswith("---\n") and CARD_MARK in card
    assert out.with_name("fine_tune.lengths.png").read_bytes().startswith(PNG_SIGNATURE)
    assert "](fine_tune.lengths.png)" in card


def test_card_says_how_it_was_made_and_what_is_in_it(split_run):
    out, card = split_run
    for name, digest in input_hashes(out.parent.parent / "seeds.csv").items():
        assert f"| `{name}` | `{digest}` |" in card
    assert "model: none (offline templates)" in card
    assert "generator mix: offline 20, seed 10" in card
    assert "| intent | all | train | validation |" in card and "| price | 6 |" in card
    assert "| place | lines |" in card and "| Đà Lạt |" in card
    assert "| user register | lines |" in card
    report = json.loads(out.with_name("fine_tune.report.json").read_text(encoding="utf-8"))
    assert f"{sum(report['dropped'].values())} generated candidates" in card
    assert "| o200k_base | OpenAI gpt-4o" in card and "| gemini | Gemini supervised tuning on Vertex AI | estimate |" in card
    assert "- o200k_base: exact: o200k_base tokenizer (bpe-openai " in card and "training tokens, 3 epochs" in card
    assert "load_dataset(\"json\", data_files=" in card


def test_data_loads_as_the_card_says(split_run, tmp_path, monkeypatch):
    out, card = split_run
    paths = {"train": "fine_tune.train.jsonl", "validation": "fine_tune.val.jsonl"}  # relative to the card's folder
    assert f"openai = load_dataset(\"json\", data_files={json.dumps(paths)})" in card
    assert 'data = load_dataset(os.getcwd(), "openai")' in card
    monkeypatch.chdir(out.parent)  # the card's snippets run from its folder
    by_files = load_dataset("json", data_files=paths, cache_dir=str(tmp_path / "a"))
    for config in ("openai", "sharegpt"):  # the folder itself, through the configs in the card's metadata
        by_folder = load_dataset(os.getcwd(), config, cache_dir=str(tmp_path / config))
        assert {split: len(rows) for split, rows in by_folder.items()} == {split: len(rows) for split, rows in by_files.items()}
    assert load_dataset(os.getcwd(), "openai", cache_dir=str(tmp_path / "b"))["validation"].to_list() == by_files["validation"].to_list()


def test_card_and_plot_are_regenerated_on_every_run(tmp_path):
    code, out = _run(tmp_path, "--n", "2")
    card, plot = out.parent / "README.md", out.with_name("fine_tune.lengths.png")
    first = card.read_text(encoding="utf-8"), plot.read_bytes()
    assert code == 0 and "20 single-turn chats" in first[0]
    assert _run(tmp_path, "--n", "2")[0] == 0
    assert (card.read_text(encoding="utf-8"), plot.read_bytes()) == first  # same inputs: same bytes, no timestamps
    assert _run(tmp_path, "--n", "3")[0] == 0
    assert "30 single-turn chats" in card.read_text(encoding="utf-8") and plot.read_bytes() != first[1]


def test_a_hand_written_readme_is_never_overwritten(tmp_path):
    readme = tmp_path / "out" / "README.md"
    readme.parent.mkdir()
    readme.write_text("# My notes\n", encoding="utf-8")
    code, out = _run(tmp_path)
    assert code == 2
    assert readme.read_text(encoding="utf-8") == "# My notes\n" and not out.exists()


def test_card_names_the_model_from_the_report(tmp_path):
    seed = Seed("S1", "price", "Đà Lạt", "Giá vé?", "Dạ, 50.000 đồng ạ.")
    samples = [Sample(seed, "Giá vé?", "Dạ, 50.000 đồng ạ.", "gemini", "paraphrase")]
    seeds = small_seeds(tmp_path / "seeds.csv")
    card = CardInput(
        out=tmp_path / "fine_tune.jsonl", report={"primary": "gemini", "model": "gemini-2.5-flash", "by_generator": {"gemini": 1}},
        samples=samples, splits={}, formats=("openai",), files={tmp_path / "fine_tune.jsonl": ("openai", 1)},
        tokens=[40], token_stats={}, seeds_path=seeds,
    )
    text = render_card(card, "fine_tune.lengths.png")
    assert "generator: gemini; model: gemini-2.5-flash" in text
    assert "| (none) | 0 |" in text  # no rejected counts in this report


def test_stale_files_lists_outputs_of_earlier_runs_only(tmp_path):
    out = tmp_path / "fine_tune.jsonl"
    for name in ("fine_tune.jsonl", "fine_tune.val.jsonl", "fine_tune.lengths.png", "other.jsonl", ".fine_tune.jsonl.x.tmp"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    assert stale_files(out, [out, tmp_path / "fine_tune.lengths.png"]) == [tmp_path / "fine_tune.val.jsonl"]


def test_two_output_folders_give_byte_identical_cards_with_no_absolute_path(tmp_path):
    seeds = small_seeds(tmp_path / "seeds.csv")
    cards = []
    for folder in (tmp_path / "a" / "out", tmp_path / "elsewhere" / "deeper" / "data"):
        flags = ["--seeds", str(seeds), "--out", str(folder / "fine_tune.jsonl"), "--offline", "--quiet", "--n", "2"]
        assert main([*flags, "--format", "openai,gemini,sharegpt", "--val-ratio", "0.2"]) == 0
        cards.append({name: (folder / name).read_bytes() for name in ("README.md", "dataset_info.json", "fine_tune.lengths.png")})
    assert cards[0] == cards[1]
    text = cards[0]["README.md"].decode("utf-8") + cards[0]["dataset_info.json"].decode("utf-8")
    assert str(tmp_path) not in text and "/tmp" not in text and ":\\" not in text
    assert "`seeds` is `seeds.csv`" in text  # an absolute seed path is shown by its name only


def test_card_says_which_file_suits_which_trainer(split_run):
    out, card = split_run
    table = card.split("## Which file for which trainer", 1)[1].split("\n## ", 1)[0]
    assert "| TRL `SFTTrainer`" in table and "| `fine_tune.train.jsonl` |" in table
    assert "entry `fine_tune.train.sharegpt` in `dataset_info.json`" in table and "entry `fine_tune.train` in" in table
    assert "TRL refuses it" in table and "Vertex AI" not in table  # no Gemini file in this run, so no Gemini row


def test_every_config_the_card_declares_loads_and_no_file_is_empty(tmp_path, monkeypatch):
    code, out = _run(tmp_path, "--n", "2", "--format", "openai,gemini,sharegpt")
    assert code == 0
    card = (out.parent / "README.md").read_text(encoding="utf-8")
    configs = [line.removeprefix("- config_name: ") for line in card.splitlines() if line.startswith("- config_name: ")]
    assert configs == ["openai", "gemini", "sharegpt"] and "| Vertex AI Gemini supervised tuning | `fine_tune.gemini.jsonl` |" in card
    for config in configs:
        assert len(load_dataset(str(out.parent), config, cache_dir=str(tmp_path / "c" / config))["train"]) == 20
    assert not [p.name for p in out.parent.iterdir() if p.stat().st_size == 0 and not p.name.startswith(".")]


def test_the_rejected_file_is_only_there_when_something_was_rejected(tmp_path):
    rejected = tmp_path / "out" / "fine_tune.rejected.jsonl"
    rejected.parent.mkdir()
    rejected.write_text('{"reason": "from an earlier run"}\n', encoding="utf-8")
    code, out = _run(tmp_path, "--n", "2")
    report = json.loads(out.with_name("fine_tune.report.json").read_text(encoding="utf-8"))
    assert code == 0 and not report["dropped"] and not rejected.exists()
    assert "no candidate was dropped, so there is no rejected file" in (out.parent / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("values", [[5], [1, 2, 3, 4, 100], list(range(0, 1000, 7)), [3, 3, 3, 9], [10**6, 2 * 10**6]])
def test_bins_match_numpy_histogram(values):
    counts, low, high = bin_counts(values)
    expected, edges = np.histogram(values, bins=20)
    assert counts == expected.tolist() and (low, high) == (edges[0], edges[-1])


@pytest.mark.parametrize("low, high", [(0, 124), (18, 113), (0, 1), (440, 800), (0, 7), (0.5, 1.5), (12000, 990000)])
def test_ticks_are_round_and_inside(low, high):
    ticks = nice_ticks(low, high)
    assert 2 <= len(ticks) <= 6 and all(low <= tick <= high for tick in ticks)
    steps = {round(b - a, 9) for a, b in zip(ticks, ticks[1:])}
    (step,) = steps
    assert round(step / 10 ** math.floor(math.log10(step)), 6) in {1, 2, 2.5, 5}


def test_plot_is_a_stable_png_of_the_figure_size():
    from PIL import Image

    series = [("a", [1, 2, 3]), ("b", []), ("c", [7] * 50)]
    first = histogram_png(series)
    assert first == histogram_png(series) and first.startswith(PNG_SIGNATURE)
    image = Image.open(io.BytesIO(first))
    assert image.size == (1080, 306) and not image.info  # no metadata: no timestamp, no software stamp
    assert (59, 125, 216) in {color for _, color in image.getcolors(1 << 16)}  # bars drawn


def test_stale_files_handles_glob_characters_and_lists_only_regular_files(tmp_path):
    out = tmp_path / "data[1].jsonl"
    for name in ("data[1].jsonl", "data[1].val.jsonl", "data1.val.jsonl", "data[1].train.jsonl"):
        (tmp_path / name).write_text("x\n")
    (tmp_path / "data[1].gemini.jsonl").mkdir()
    (tmp_path / "data[1].sharegpt.jsonl").symlink_to(tmp_path / "data1.val.jsonl")
    assert stale_files(out, [out, tmp_path / "data[1].train.jsonl"]) == [tmp_path / "data[1].val.jsonl"]
