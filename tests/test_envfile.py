"""The .env file and the API key: a bad one is one line naming the file or variable, never the key, exit 2."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from augment.errors import InputError
from augment.generators.gemini.settings import find_api_key
from augment.run import main
from conftest import seed_file

SECRET = "AIzaSyTestKey-not-real_0123456789"


def refused(capsys, tmp_path, ten_seeds) -> str:
    """Run without --offline and return the one line it printed, after checking exit 2 and nothing written."""
    seeds = seed_file(tmp_path / "seeds.csv", ten_seeds)
    assert main(["--seeds", str(seeds), "--out", str(tmp_path / "out" / "f.jsonl"), "--quiet", "--n", "2"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in lines[0]
    assert not (tmp_path / "out").exists()
    return lines[0]


@pytest.mark.parametrize(
    "content, expected",
    [
        (f"GEMINI_API_KEY={SECRET}\nNOTE=caf\xe9\n".encode("latin-1"), ".env: line 2 is not UTF-8 (byte 0xe9)"),
        (f'GEMINI_API_KEY="{SECRET}\nOTHER=1\n'.encode(), ".env: line 1 cannot be read as NAME=value (an unterminated quote?)"),
        (f"GEMINI_API_KEY={SECRET}\nthis is not a setting\n".encode(), ".env: line 2 cannot be read as NAME=value"),
    ],
)
def test_a_malformed_env_file_is_one_line_and_exit_2(tmp_path, capsys, ten_seeds, content, expected):
    Path(".env").write_bytes(content)
    line = refused(capsys, tmp_path, ten_seeds)
    assert expected in line and SECRET not in line


@pytest.mark.parametrize(
    "key, what",
    [
        (SECRET[:10] + "\n" + SECRET[10:], "U+000A"),
        (SECRET[:10] + " " + SECRET[10:], "space (U+0020)"),
        (SECRET[:10] + "\t" + SECRET[10:], "U+0009"),
        (SECRET[:10] + "\x00" + SECRET[10:], "U+0000"),
        (SECRET[:10] + "\u200b" + SECRET[10:], "zero width space (U+200B)"),
        (SECRET[:10] + "é" + SECRET[10:], "U+00E9"),
    ],
)
@pytest.mark.parametrize("where", ["environment", "file"])
def test_a_key_with_whitespace_or_control_characters_is_refused(tmp_path, capsys, monkeypatch, ten_seeds, key, what, where):
    if "\x00" in key:  # no environment can hold a NUL; in .env it is refused on its line
        what, where = "line 1: GEMINI_API_KEY holds a NUL character (U+0000)", "file"
    if where == "environment":
        monkeypatch.setenv("GEMINI_API_KEY", key)
        source = "GEMINI_API_KEY (set in the environment)"
    else:
        Path(".env").write_text('GEMINI_API_KEY="' + key.replace("\n", "\\n") + '"\n', encoding="utf-8")
        source = "GEMINI_API_KEY (from .env)"
    line = refused(capsys, tmp_path, ten_seeds)
    assert what in line and (source in line and "at character 11" in line or "NUL" in line)
    assert SECRET[:10] not in line and SECRET[10:] not in line


def test_a_good_key_is_found_and_surrounding_space_ignored(monkeypatch):
    Path(".env").write_text(f"GEMINI_API_KEY='  {SECRET}  '\n", encoding="utf-8")
    assert find_api_key() == SECRET
    monkeypatch.setenv("GOOGLE_API_KEY", "environment-wins")
    assert find_api_key() == "environment-wins"


def test_an_unreadable_env_file_names_the_problem(monkeypatch):
    Path(".env").write_text("GEMINI_API_KEY=x\n")
    monkeypatch.setattr(Path, "read_bytes", lambda self: (_ for _ in ()).throw(PermissionError(13, "Permission denied")))
    with pytest.raises(InputError, match=r"\.env: cannot read the file \(Permission denied\)"):
        find_api_key()


def test_offline_runs_never_read_the_env_file(tmp_path, ten_seeds):
    Path(".env").write_bytes(b"GEMINI_API_KEY=\xff\n")
    seeds = seed_file(tmp_path / "seeds.csv", ten_seeds)
    assert main(["--offline", "--seeds", str(seeds), "--out", str(tmp_path / "o" / "f.jsonl"), "--quiet", "--n", "2"]) == 0
    assert os.environ.get("GEMINI_API_KEY") is None
