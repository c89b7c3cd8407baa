"""Seed loading: the real file loads; each kind of bad input gets one clear line."""

from __future__ import annotations

import pytest

from augment.errors import InputError
from augment.records import INTENTS
from augment.knowledge.seeds import load_seeds
from conftest import write_csv

GOOD = ["S1", "price", "Đà Lạt", "Giá vé Datanla bao nhiêu?", "Dạ, khoảng 50.000 đồng ạ."]


def test_real_seed_file_has_100_balanced_seeds(seeds):
    assert len(seeds) == 100
    for intent in INTENTS:
        assert sum(s.intent == intent for s in seeds) == 20
    assert sum(s.place == "Đà Lạt" for s in seeds) >= 55


def test_loads_nfc_and_strips(tmp_path):
    decomposed = "Gia\u0301 ve\u0301 Datanla bao nhiêu?"
    path = write_csv(tmp_path / "s.csv", [["S1", "price", "Đà Lạt", f"  {decomposed} ", GOOD[4]]])
    (seed,) = load_seeds(path)
    assert seed.question == "Giá vé Datanla bao nhiêu?"
    assert seed.row == 2


def test_accepts_utf8_bom(tmp_path):
    path = write_csv(tmp_path / "s.csv", [GOOD])
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert load_seeds(path)[0].id == "S1"


@pytest.mark.parametrize(
    "rows, header, expected",
    [
        ([GOOD], ("id", "intent", "place", "question"), "missing column(s) answer"),
        ([], ("id", "intent", "place", "question", "answer"), "no seed rows"),
        ([["S1", "price", "Đà Lạt", "", "Dạ ạ"]], None, "row 2, column 'question' is empty"),
        ([["S1", "pricing", "Đà Lạt", "q?", "Dạ ạ"]], None, "row 2, column 'intent' has unknown intent 'pricing'"),
        ([GOOD, GOOD], None, "row 3, column 'id' repeats id 'S1' from row 2"),
    ],
)
def test_bad_seed_files_name_row_and_column(tmp_path, rows, header, expected):
    kwargs = {"header": header} if header else {}
    path = write_csv(tmp_path / "s.csv", rows, **kwargs)
    with pytest.raises(InputError, match=None) as error:
        load_seeds(path)
    assert expected in str(error.value)
    assert str(path) in str(error.value)
    assert "\n" not in str(error.value)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="seed file not found; pass --seeds"):
        load_seeds(tmp_path / "nope.csv")


def test_non_utf8_names_the_line(tmp_path):
    path = tmp_path / "s.csv"
    path.write_bytes("id,intent,place,question,answer\nS1,price,Đà Lạt,Giá vé?,Dạ ạ\n".encode("cp1258", "replace").replace(b"?", b"\xe0?"))
    with pytest.raises(InputError, match=r"line 2 is not UTF-8 .*save the file as UTF-8"):
        load_seeds(path)


def test_empty_file(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("")
    with pytest.raises(InputError, match="the file is empty"):
        load_seeds(path)


def test_malformed_csv(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text('id,intent,place,question,answer\nS1,price,"Đà Lạt,q,a,extra,more\n', encoding="utf-8")
    with pytest.raises(InputError, match="malformed CSV"):
        load_seeds(path)
