"""The jieba dictionary the search tokenizes with: loaded in slices from the app's cache."""

from __future__ import annotations

import jieba
import pytest

from analyzer.search import bm25

SENTENCE = "华为云以垃圾分类为主题举办 AI 开发者大赛，吸引全民参与环保公益"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("AWARD_WRITER_CACHE", str(tmp_path))
    return tmp_path


def fresh() -> jieba.Tokenizer:
    tokenizer = jieba.Tokenizer()
    bm25._load_dictionary(tokenizer)
    return tokenizer


def test_the_sliced_dictionary_segments_exactly_as_jieba_does(cache):
    built = fresh()  # first use: built from jieba's dictionary file and cached
    (copy,) = cache.glob("jieba-*.dict")
    reloaded = fresh()  # second: read back from the cache
    own = jieba.Tokenizer()
    own.initialize()
    assert reloaded.total == own.total and len(reloaded.FREQ) == len(own.FREQ)
    expected = list(own.cut_for_search(SENTENCE))
    assert list(built.cut_for_search(SENTENCE)) == expected
    assert list(reloaded.cut_for_search(SENTENCE)) == expected
    assert copy.stat().st_size > 1_000_000


@pytest.mark.parametrize("damage", [b"", b"garbage", "cut"])
def test_a_damaged_cached_dictionary_is_built_again(cache, damage):
    fresh()
    (copy,) = cache.glob("jieba-*.dict")
    good = copy.read_bytes()
    copy.write_bytes(good[: len(good) // 2] if damage == "cut" else damage)
    tokenizer = fresh()
    assert "开发者" in list(tokenizer.cut_for_search(SENTENCE))
    assert copy.read_bytes() == good  # written again, whole
