"""Searching never waits for indexing: keyword search at once, vectors as a job of their own,
one writer at a time, and an index that never empties itself for an empty-looking library."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from search_fakes import FakeEmbedder, case_id_of, close_indexes, seeded

from analyzer.errors import CaseNotFoundError
from analyzer.library.store import Library
from analyzer.paths import index_dir
from analyzer.search import prepare
from analyzer.search.index import DB_NAME, open_index
from analyzer.search.query import more_like, search

TESTS = Path(__file__).resolve().parent


@pytest.fixture
def seeded_library(tmp_path: Path) -> Iterator[Library]:
    yield from seeded(tmp_path)


def test_a_search_after_an_import_embeds_nothing_and_finds_by_keywords(seeded_library):
    emb = FakeEmbedder()
    hits = search(seeded_library, "华为云垃圾分类 AI 开发大赛", k=3, embedder=emb)
    assert hits[0].case_id == case_id_of(seeded_library, "000")
    assert all(h.keywords_only for h in hits)
    assert emb.passages == [], "a search never embeds cases"
    index = open_index(seeded_library.home)
    assert {s.status for s in index.statuses()} == {"keywords"}
    note = prepare.prepare_index(seeded_library, emb).note
    assert "5 个案例的向量索引尚未建立" in note and "关键词" in note


def test_a_search_files_only_what_its_time_allows_and_says_how_many_it_left_out(
    seeded_library, monkeypatch
):
    monkeypatch.setattr(prepare, "CATALOG_BUDGET_S", 0.0)
    emb = FakeEmbedder()
    prep = prepare.prepare_index(seeded_library, emb, budget_s=0.0)
    assert prep.left_out == 5 - prep.filed and not prep.complete
    assert f"另有 {prep.left_out} 个案例尚未建立索引" in prep.note
    assert emb.passages == []


def test_more_like_a_case_that_does_not_exist_fails_before_any_work(seeded_library):
    emb = FakeEmbedder()
    with pytest.raises(CaseNotFoundError, match="99999"):
        more_like(seeded_library, 99999, embedder=emb)
    assert emb.passages == [] and open_index(seeded_library.home).is_empty()


def test_search_while_the_vector_job_runs_uses_what_is_embedded(seeded_library):
    """The job holds the writer lock, stopped inside the model; a search goes on meanwhile."""
    inside, release = threading.Event(), threading.Event()

    class Gated(FakeEmbedder):
        def embed_passages(self, texts, on_progress=None, cancel=None):
            if len(self.passages) > 0:  # the first batch goes through, the next one waits
                inside.set()
                release.wait()
            return super().embed_passages(texts, cancel=cancel)

    emb = Gated()
    index = open_index(seeded_library.home)
    job = threading.Thread(target=lambda: index.update(seeded_library, emb))
    job.start()
    try:
        assert inside.wait(120), "the job should reach its second batch"
        found: list = []
        notes: list[str] = []

        def searching_now() -> None:
            notes.append(prepare.prepare_index(seeded_library, emb).note)
            found.extend(search(seeded_library, "营销 数据 用户", k=5, embedder=emb))

        searching = threading.Thread(target=searching_now)
        searching.start()
        searching.join(120)
        assert not searching.is_alive(), "the search waited for the indexing job"
    finally:
        release.set()
        job.join()
    marks = {h.keywords_only for h in found}
    assert len(found) == 5 and marks == {True, False}, "embedded cases and keyword-only ones"
    assert "只按关键词" in notes[0]
    assert {s.status for s in open_index(seeded_library.home).statuses()} == {"indexed"}


def test_cases_imported_while_the_job_runs_are_filed_and_embedded_by_it(seeded_library, tmp_path):
    extra = tmp_path / "extra.txt"
    extra.write_text("奶茶联名\n营销背景\n茶饮品牌和博物馆联名推出国潮杯套。\n", encoding="utf-8")

    class Importing(FakeEmbedder):
        def embed_passages(self, texts, on_progress=None, cancel=None):
            if not self.passages:  # during the first batch, a user imports another file
                seeded_library.ingest([extra])
            return super().embed_passages(texts, cancel=cancel)

    report = open_index(seeded_library.home).update(seeded_library, Importing())
    assert (report.added, report.n_cases, report.keywords_only) == (6, 6, 0)


WRITER = """
import sys, time
sys.path.insert(0, {tests!r})
from search_fakes import FakeEmbedder
from analyzer.library.store import Library
from analyzer.search.index import open_index

class Slow(FakeEmbedder):
    def embed_passages(self, texts, on_progress=None, cancel=None):
        time.sleep(2)
        return super().embed_passages(texts, cancel=cancel)

with Library({home!r}) as lib:
    report = open_index(lib.home).update(lib, Slow())
print("embedded", report.embedded, flush=True)
"""


def test_a_second_writer_waits_for_the_first_and_never_takes_its_rows_for_damage(
    seeded_library, tmp_path
):
    """Two `index` runs at once (issue 14, item 2): the second waits, naming the first."""
    script = tmp_path / "writer.py"
    script.write_text(WRITER.format(tests=str(TESTS), home=str(seeded_library.home)), "utf-8")
    root = str(TESTS.parents[1])
    first = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=root,
        env={**os.environ, "PYTHONPATH": root},
    )
    try:
        lock = index_dir(seeded_library.home) / "write.lock"
        while first.poll() is None and not (lock.exists() and lock.read_text().strip()):
            time.sleep(0.05)
        said: list[str] = []
        emb = FakeEmbedder()
        report = open_index(seeded_library.home).update(seeded_library, emb, on_wait=said.append)
        out, _ = first.communicate(timeout=600)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0 and "embedded 5" in out
    assert any(f"进程 {first.pid}" in m for m in said), said
    assert (report.added, report.embedded, emb.passages) == (0, 0, [])
    assert report.n_cases == 5 and not report.messages
    assert not (index_dir(seeded_library.home) / (DB_NAME + ".corrupt")).exists()


def test_an_emptied_library_never_empties_the_index(seeded_library, tmp_path):
    """A 0-byte library file (issue 14, item 6): the index keeps every case."""
    emb = FakeEmbedder()
    open_index(seeded_library.home).update(seeded_library, emb)
    home = seeded_library.home
    kept = tmp_path / "library-backup.sqlite3"
    seeded_library.close()
    close_indexes()
    shutil.copy(home / "library.sqlite3", kept)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{home / 'library.sqlite3'}{suffix}").unlink(missing_ok=True)
    (home / "library.sqlite3").write_bytes(b"")
    try:
        empty = Library(home)  # the library's own checks may refuse it; if it opens, it is empty
    except Exception:
        empty = None
    if empty is not None:
        with empty:
            assert search(empty, "垃圾分类 AI 大赛", embedder=emb) == []
            report = open_index(home).update(empty, emb)
            assert report.removed == 0 and any("保留" in m for m in report.messages)
        close_indexes()
    shutil.copy(kept, home / "library.sqlite3")
    with Library(home) as lib:
        assert len(open_index(home).cases()) == 5
        emb.passages.clear()
        hits = search(lib, "华为云垃圾分类 AI 开发大赛", k=1, embedder=emb)
        assert hits[0].case_id == case_id_of(lib, "000") and not hits[0].keywords_only
        assert emb.passages == [], "the library came back: nothing embedded again"


def test_removing_every_case_hides_them_at_once(seeded_library, tmp_path):
    emb = FakeEmbedder()
    open_index(seeded_library.home).update(seeded_library, emb)
    for case in list(seeded_library.iter_cases()):
        seeded_library.remove(case.id)
    assert search(seeded_library, "营销", embedder=emb) == []
    new = tmp_path / "coffee.txt"
    new.write_text("咖啡新品营销\n营销背景\n咖啡品牌推出樱花拿铁。\n", encoding="utf-8")
    seeded_library.ingest([new])
    report = open_index(seeded_library.home).update(seeded_library, emb)
    assert report.n_cases == 1 and report.removed + report.updated == 5
    assert [h.title for h in search(seeded_library, "营销", embedder=emb)] == ["咖啡新品营销"]


def test_a_keyword_search_reads_the_chunks_and_their_terms_as_one(seeded_library, monkeypatch):
    """Another process filing cases between a search's two reads of the index (the chunk list,
    then their terms for BM25) made them disagree, and the search ended in an IndexError
    (found by bench/faults.py). Both come from one read now."""
    from analyzer.search.index import SearchIndex

    monkeypatch.setattr(prepare, "CATALOG_BUDGET_S", 0.0)
    prep = prepare.prepare_index(seeded_library, FakeEmbedder(), budget_s=0.0)
    assert prep.left_out > 0
    reader = SearchIndex(index_dir(seeded_library.home))
    before = len(reader.arrays().ids)  # the search has read the chunk list …
    writer = SearchIndex(index_dir(seeded_library.home))
    with writer.writer().hold():
        writer.catalog(seeded_library)  # … when another process files the other cases
    arrays = reader.lexical()
    assert arrays.bm25 is not None and arrays.bm25.n_docs == len(arrays.ids) > before
    reader.close()
    writer.close()
