"""Seed loading: the real file loads; each kind of bad input gets one clear line."""

from __future__ import annotations

import csv
import io

import pytest

from augment.errors import InputError
from augment.records import INTENTS
from augment.knowledge.seeds import MAX_CELL_CHARS, load_seeds
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


def _export(path, rows, delimiter, encoding, newline="\r\n"):
    """Write rows as a spreadsheet would export them."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator=newline).writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


@pytest.mark.parametrize(
    "delimiter, encoding",
    [(";", "utf-8"), (";", "utf-8-sig"), ("\t", "utf-16"), ("\t", "utf-16-le"), ("\t", "utf-16-be"), (",", "utf-32"), ("\t", "utf-8")],
)
def test_spreadsheet_exports_read_as_the_original(tmp_path, seeds, delimiter, encoding):
    rows = [["id", "intent", "place", "question", "answer", "note"]]
    rows += [[s.id, s.intent, s.place, s.question, s.answer, "x; y, z\tw"] for s in seeds]
    path = _export(tmp_path / "export.csv", rows, delimiter, encoding)
    assert load_seeds(path) == seeds


def test_semicolon_file_with_a_stray_cell_says_what_was_detected(tmp_path):
    path = _export(tmp_path / "s.csv", [["id", "intent", "place", "question", "answer"], GOOD + ["extra"]], ";", "utf-8")
    with pytest.raises(InputError) as error:
        load_seeds(path)
    message = str(error.value)
    assert "row 2 has 6 cells but the header has 5" in message and "semicolon-separated" in message and "UTF-8" in message


def test_unknown_header_names_the_detection(tmp_path):
    path = _export(tmp_path / "s.csv", [["id|intent|place|question|answer"], ["S1|price|x|q|a"]], ",", "utf-16")
    with pytest.raises(InputError, match=r"missing column\(s\) id, intent.*read as UTF-16 LE with BOM, comma-separated"):
        load_seeds(path)


def test_crlf_inside_cells_becomes_newline(tmp_path):
    answer = "Dạ, có hai cách ạ:\r\n- xe buýt\r\n- taxi\rạ"
    path = _export(tmp_path / "s.csv", [["id", "intent", "place", "question", "answer"], GOOD[:4] + [answer]], ",", "utf-8")
    (seed,) = load_seeds(path)
    assert "\r" not in seed.answer and seed.answer == "Dạ, có hai cách ạ:\n- xe buýt\n- taxi\nạ"


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\u200b", "\u200d", "\u202e", "\u2066", "\ufeff", "\u2028", "\u00ad"])
@pytest.mark.parametrize("column", [3, 4])
def test_control_zero_width_and_bidi_characters_are_refused(tmp_path, char, column):
    row = list(GOOD)
    row[column] = row[column][:5] + char + row[column][5:]
    path = write_csv(tmp_path / "s.csv", [row])
    with pytest.raises(InputError) as error:
        load_seeds(path)
    message = str(error.value)
    name = ("id", "intent", "place", "question", "answer")[column]
    assert f"row 2, column '{name}'" in message and f"U+{ord(char):04X}" in message and "at character 6" in message
    assert "\n" not in message and char not in message


def test_over_long_cell_is_refused_with_its_length_and_the_limit(tmp_path):
    path = write_csv(tmp_path / "s.csv", [GOOD[:4] + ["Dạ " + "a" * (MAX_CELL_CHARS + 10)]])
    with pytest.raises(InputError, match=rf"column 'answer' is {MAX_CELL_CHARS + 13:,} characters long, over the {MAX_CELL_CHARS:,} limit .*context"):
        load_seeds(path)
    assert load_seeds(write_csv(tmp_path / "ok.csv", [GOOD[:4] + ["Dạ " + "a" * (MAX_CELL_CHARS - 3)]]))


def test_blank_lines_count_as_rows(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("id,intent,place,question,answer\n\nS1,pricing,x,q,a\n", encoding="utf-8")
    with pytest.raises(InputError, match="row 3, column 'intent'"):
        load_seeds(path)


def test_broken_utf16_names_the_line(tmp_path):
    path = tmp_path / "s.txt"
    good = "id\tintent\tplace\tquestion\tanswer\r\nS1\tprice\tĐà Lạt\tGiá vé?\tDạ ạ\r\n".encode("utf-16")
    path.write_bytes(good + b"\x00\xd8")  # a lone high surrogate at the end of line 3
    with pytest.raises(InputError, match=r"line 3 is not UTF-16 LE with BOM \(byte 0x00 at offset \d+\)"):
        load_seeds(path)


@pytest.mark.parametrize("newline", ["\r", "\n", "\r\n"])
def test_any_line_ending_is_read(tmp_path, newline):
    path = _export(tmp_path / "s.csv", [["id", "intent", "place", "question", "answer"], GOOD], ";", "utf-8", newline)
    assert load_seeds(path)[0].answer == GOOD[4]


def test_a_stray_quote_in_the_header_is_one_line(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text('id,intent,place,"question,answer\nS1,price,x,q,a\n', encoding="utf-8")
    with pytest.raises(InputError) as error:
        load_seeds(path)
    assert "\n" not in str(error.value) and str(path) in str(error.value)


def test_a_five_megabyte_cell_is_refused_with_its_length(tmp_path):
    path = write_csv(tmp_path / "s.csv", [GOOD[:4] + ["Dạ " + "rất dài " * 655_360]])
    with pytest.raises(InputError, match=r"row 2, column 'answer' is 5,242,883 characters long, over the 5,000 limit"):
        load_seeds(path)
