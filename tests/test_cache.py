"""The sqlite response cache."""

from __future__ import annotations

import pytest

from augment.generators.gemini.cache import ResponseCache, request_key
from augment.errors import RunError


def test_rows_survive_reopening(tmp_path):
    path = tmp_path / "deep" / "cache.sqlite"
    cache = ResponseCache(path)
    key = request_key(model="m", prompt="p", params={"temperature": 0.9})
    assert cache.get(key) is None
    cache.put(key, "m", '{"variants": []}')
    cache.close()
    again = ResponseCache(path)
    assert again.get(key) == '{"variants": []}' and len(again) == 1
    again.close()


def test_key_depends_on_every_part_and_not_on_order():
    base = request_key(model="m", prompt="p", params={"a": 1, "b": 2})
    assert base == request_key(params={"b": 2, "a": 1}, prompt="p", model="m")
    assert base != request_key(model="m2", prompt="p", params={"a": 1, "b": 2})
    assert base != request_key(model="m", prompt="p", params={"a": 1, "b": 3})
    assert len(base) == 64


def test_an_unusable_path_is_one_clear_error(tmp_path):
    (tmp_path / "taken").mkdir()
    with pytest.raises(RunError, match="cannot open the response cache .*--no-cache"):
        ResponseCache(tmp_path / "taken")
