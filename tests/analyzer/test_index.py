"""The index follows the library incrementally, resumes, never mixes models, repairs itself."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from search_fakes import FakeEmbedder, case_id_of, close_indexes, seeded

from analyzer.errors import Cancelled, IndexError_
from analyzer.library.store import Library
from analyzer.paths import index_dir
from analyzer.progress import CancelToken, Progress
from analyzer.search import vectors
from analyzer.search.index import DB_NAME, VECTORS_NAME, SearchIndex, open_index
from analyzer.search.query import search


@pytest.fixture
def seeded_library(tmp_path: Path) -> Iterator[Library]:
    yield from seeded(tmp_path)


def fresh(lib: Library) -> SearchIndex:
    """The index as a new process would open it."""
    close_indexes()
    return open_index(lib.home)


def test_build_indexes_every_case_with_its_sections(seeded_library):
    emb = FakeEmbedder()
    report = open_index(seeded_library.home).update(seeded_library, emb)
    assert (report.added, report.failed, report.n_cases, report.keywords_only) == (5, [], 5, 0)
    # every chunk is searchable; the lead of every section (and the header) has a vector
    assert report.n_vectors == len(emb.passages) == len(set(emb.passages)) > 5
    assert report.n_chunks > report.n_vectors
    index = fresh(seeded_library)
    assert index.embedder_name == emb.name and index.dim == emb.dim
    for case in seeded_library.iter_cases():
        chunks, vectors, _, with_vector = index.case_chunks(case.id)
        sections = {s.key for s in case.sections}
        assert {chunks[i].section for i in with_vector} >= sections
        assert len(vectors) == len(with_vector)
    statuses = {s.case_id: s for s in index.statuses()}
    assert all(s.status == "indexed" and s.n_chunks > 0 for s in statuses.values())
    huawei = statuses[case_id_of(seeded_library, "000")]
    assert huawei.award == "golden_mouse" and huawei.title.startswith("2019华为云")
    assert (index_dir(seeded_library.home) / VECTORS_NAME).exists()
    assert not index.messages


def test_second_update_embeds_nothing(seeded_library):
    emb = FakeEmbedder()
    open_index(seeded_library.home).update(seeded_library, emb)
    emb.passages.clear()
    report = fresh(seeded_library).update(seeded_library, emb)
    assert (report.added, report.updated, report.unchanged) == (0, 0, 5)
    assert emb.passages == []


def test_adding_and_removing_cases_touches_only_them(seeded_library, tmp_path):
    emb = FakeEmbedder()
    index = open_index(seeded_library.home)
    index.update(seeded_library, emb)
    new = tmp_path / "new.txt"
    new.write_text(
        "咖啡品牌春季新品营销\n广告主：某咖啡\n所属行业：餐饮\n执行时间：2020.03.01-04.30\n参选类别：内容营销类\n"
        "营销背景\n春天到了，咖啡品牌推出樱花拿铁。\n营销目标\n让年轻人在社交平台晒出樱花拿铁。\n",
        encoding="utf-8",
    )
    seeded_library.ingest([new])
    emb.passages.clear()
    report = index.update(seeded_library, emb)
    assert (report.added, report.unchanged) == (1, 5)
    assert emb.passages and all("樱花" in t or "咖啡" in t for t in emb.passages)
    assert search(seeded_library, "樱花拿铁", k=1, embedder=emb)[0].title == "咖啡品牌春季新品营销"

    gone = case_id_of(seeded_library, "002")
    seeded_library.remove(gone)
    emb.passages.clear()
    report = index.update(seeded_library, emb)
    assert (report.removed, report.unchanged, emb.passages) == (1, 5, [])
    hits = search(seeded_library, "上汽通用 智能营销中枢系统 汽车", k=10, embedder=emb)
    assert gone not in {h.case_id for h in hits}
    assert gone not in {s.case_id for s in fresh(seeded_library).statuses()}


def test_a_changed_file_embeds_only_the_passages_that_changed(seeded_library, tmp_path):
    emb = FakeEmbedder()
    index = open_index(seeded_library.home)
    first = index.update(seeded_library, emb)
    doc = tmp_path / "docs" / "002_a53a9a3b271d87af.txt"
    text = doc.read_text(encoding="utf-8")
    doc.write_text(text + "\n补充：新能源车型上市推广。\n", encoding="utf-8")
    seeded_library.ingest([doc])
    emb.passages.clear()
    report = index.update(seeded_library, emb)
    assert (report.updated, report.added, report.unchanged) == (1, 0, 4)
    assert report.n_vectors == first.n_vectors
    # the sentence went to the end of a long section: found by keywords, nothing re-embedded
    assert emb.passages == []
    saic = case_id_of(seeded_library, "002")
    assert search(seeded_library, "新能源车型上市", k=1, embedder=emb)[0].case_id == saic
    # a change at the head of a section: that passage alone is embedded again
    case = seeded_library.get_case(saic)
    lead = case.sections[0].text.split("。")[0]
    doc.write_text(text.replace(lead, lead + "，以新能源车型为重点", 1), encoding="utf-8")
    seeded_library.ingest([doc])
    report = index.update(seeded_library, emb)
    assert len(emb.passages) == 1 and "新能源车型为重点" in emb.passages[0]
    assert report.reused == 0 and report.embedded == 1


def test_an_interrupted_build_resumes_where_it_stopped(seeded_library):
    emb = FakeEmbedder()
    token = CancelToken()

    def stop_after_first_batch(p: Progress) -> None:
        if p.message.startswith("已建立索引"):
            token.cancel()

    index = open_index(seeded_library.home)
    with pytest.raises(Cancelled):
        index.update(seeded_library, emb, on_progress=stop_after_first_batch, cancel=token)
    statuses = {s.case_id: s.status for s in fresh(seeded_library).statuses()}
    done = {cid for cid, status in statuses.items() if status == "indexed"}
    assert 1 <= len(done) < 5
    assert set(statuses.values()) == {"indexed", "keywords"}, "every case is searchable"
    first_run = list(emb.passages)
    emb.passages.clear()
    report = fresh(seeded_library).update(seeded_library, emb)
    assert (report.added, report.unchanged, report.embedded) == (0, 5, 5 - len(done))
    assert not set(emb.passages) & set(first_run), "finished cases must not be embedded again"
    assert report.n_cases == 5


def test_switching_the_embedder_re_embeds_everything_and_never_mixes(seeded_library):
    old, new = FakeEmbedder(), FakeEmbedder(name="fake:bigrams-v2", dim=128)
    index = open_index(seeded_library.home)
    first = index.update(seeded_library, old)
    seen: list[Progress] = []
    report = index.update(seeded_library, new, on_progress=seen.append)
    assert (report.reembedded, report.added, report.updated, report.unchanged) == (5, 0, 0, 0)
    assert any("重新嵌入" in m and old.name in m for m in report.messages)
    assert len(new.passages) == first.n_vectors and seen[-1].done == seen[-1].total == 5
    reopened = fresh(seeded_library)
    assert (reopened.embedder_name, reopened.dim) == (new.name, 128)
    with pytest.raises(IndexError_, match="fake:bigrams-v2"):
        search(seeded_library, "华为", embedder=old)


def test_a_case_the_model_fails_on_is_marked_failed_found_by_keywords_and_retried(
    seeded_library,
):
    index = open_index(seeded_library.home)
    failing = FakeEmbedder(fail_on="上汽通用")
    report = index.update(seeded_library, failing)
    saic = case_id_of(seeded_library, "002")
    assert [cid for cid, _ in report.failed] == [saic] and report.n_cases == 4
    assert report.keywords_only == 1
    status = {s.case_id: s for s in index.statuses()}[saic]
    assert status.status == "failed" and "model crashed" in status.reason
    hit = search(seeded_library, "上汽通用 智能营销中枢", k=1, embedder=failing)[0]
    assert (hit.case_id, hit.keywords_only) == (saic, True)
    report = index.update(seeded_library, FakeEmbedder())
    assert (report.added, report.updated, report.embedded, report.n_cases) == (0, 0, 1, 5)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "missing"])
def test_a_damaged_vectors_file_is_rebuilt_with_a_message(seeded_library, damage):
    emb = FakeEmbedder()
    open_index(seeded_library.home).update(seeded_library, emb)
    before = [h.case_id for h in search(seeded_library, "垃圾分类 AI 大赛", k=5, embedder=emb)]
    close_indexes()
    path = index_dir(seeded_library.home) / VECTORS_NAME
    if damage == "garbage":
        path.write_bytes(b"\0garbage" * 100)
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    else:
        path.unlink()
    emb.passages.clear()
    index = open_index(seeded_library.home)
    after = [h.case_id for h in search(seeded_library, "垃圾分类 AI 大赛", k=5, embedder=emb)]
    assert after == before
    assert any(VECTORS_NAME in m for m in index.messages)
    assert emb.passages == [], "vectors come back from the database, not from the model"
    assert path.exists()


def test_an_unreadable_database_is_set_aside_and_rebuilt(seeded_library):
    emb = FakeEmbedder()
    open_index(seeded_library.home).update(seeded_library, emb)
    close_indexes()
    db = index_dir(seeded_library.home) / DB_NAME
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    db.write_bytes(b"this is not a database" * 200)
    index = open_index(seeded_library.home)
    assert any("已损坏" in m and DB_NAME in m for m in index.messages)
    assert (db.parent / (DB_NAME + ".corrupt")).exists()
    report = index.update(seeded_library, emb)
    assert report.added == 5 and any("已损坏" in m for m in report.messages)
    assert search(seeded_library, "垃圾分类", k=1, embedder=emb)[0].case_id == case_id_of(
        seeded_library, "000"
    )


def test_damaged_stored_vectors_are_re_embedded(seeded_library):
    emb = FakeEmbedder()
    open_index(seeded_library.home).update(seeded_library, emb)
    close_indexes()
    db = sqlite3.connect(index_dir(seeded_library.home) / DB_NAME)
    huawei = case_id_of(seeded_library, "000")
    with db:
        db.execute("UPDATE chunks SET vector=x'00' WHERE case_id=?", (huawei,))
    db.close()
    (index_dir(seeded_library.home) / VECTORS_NAME).unlink()
    index = open_index(seeded_library.home)
    index.vectors()
    assert any("向量损坏" in m for m in index.messages)
    emb.passages.clear()
    report = index.update(seeded_library, emb)
    assert report.updated == 1 and emb.passages and report.n_cases == 5


def test_beyond_the_flat_limit_hnsw_serves_the_same_results(seeded_library, monkeypatch):
    emb = FakeEmbedder()
    index = open_index(seeded_library.home)
    index.update(seeded_library, emb)
    query = "双十一 电商 智能营销 大数据"
    gone = case_id_of(seeded_library, "001")
    seeded_library.remove(gone)
    index.update(seeded_library, emb)
    flat = [h.case_id for h in search(seeded_library, query, k=3, embedder=emb, mode="vector")]
    monkeypatch.setattr(vectors, "FLAT_LIMIT", 10)
    report = index.update(seeded_library, emb)
    assert report.kind == "hnsw" and any("hnsw" in m for m in report.messages)
    assert fresh(seeded_library).vectors().kind == "hnsw"
    hnsw = [h.case_id for h in search(seeded_library, query, k=3, embedder=emb, mode="vector")]
    assert hnsw == flat
    # deleting from HNSW leaves tombstones that must never come back as hits
    seeded_library.remove(hnsw[0])
    open_index(seeded_library.home).update(seeded_library, emb)
    hits = search(seeded_library, query, k=5, embedder=emb, mode="vector")
    assert hnsw[0] not in {h.case_id for h in hits} and len(hits) == 3


def test_vector_index_round_trips_and_filters():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((50, 16)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    ids = np.arange(100, 150, dtype=np.int64)
    for kind in ("flat", "hnsw"):
        vi = vectors.VectorIndex.build(ids, x, dim=16, kind=kind)
        back = vectors.VectorIndex.from_bytes(vi.to_bytes(), 16)
        assert back.kind == kind and back.ntotal == 50
        _, found = back.search(x[:3], 1)
        assert found[:, 0].tolist() == [100, 101, 102]
        _, found = back.search(x[:1], 5, allowed=np.array([120, 130], dtype=np.int64))
        assert set(found[0].tolist()) - {-1} == {120, 130}
    with pytest.raises(ValueError, match="dimensions"):
        vectors.VectorIndex.from_bytes(vi.to_bytes(), 32)


def test_a_database_damaged_inside_is_rebuilt_by_the_next_search(seeded_library):
    emb = FakeEmbedder()
    open_index(seeded_library.home).update(seeded_library, emb)
    close_indexes()
    db = index_dir(seeded_library.home) / DB_NAME
    data = bytearray(db.read_bytes())
    cut = len(data) // 2 // 4096 * 4096 or 4096
    data[cut:] = b"\xa5" * (len(data) - cut)
    db.write_bytes(bytes(data))
    emb.passages.clear()
    hits = search(seeded_library, "垃圾分类 AI 开发大赛", k=1, embedder=emb)
    assert hits[0].case_id == case_id_of(seeded_library, "000") and hits[0].keywords_only
    assert any("已损坏" in m for m in open_index(seeded_library.home).messages)
    # the search filed every case for keywords again, and embedded nothing
    assert {s.status for s in open_index(seeded_library.home).statuses()} == {"keywords"}
    assert emb.passages == []
    report = open_index(seeded_library.home).update(seeded_library, emb)
    assert report.n_cases == 5 and report.embedded == 5


def test_a_database_error_during_a_search_sets_the_index_aside_only_when_it_is_damage(
    seeded_library, monkeypatch
):
    emb = FakeEmbedder()
    index = open_index(seeded_library.home)
    index.update(seeded_library, emb)
    corrupt = index_dir(seeded_library.home) / (DB_NAME + ".corrupt")
    real_arrays = SearchIndex.arrays
    failures = iter(
        [
            sqlite3.OperationalError("database is locked"),  # another writer: not damage
            sqlite3.DatabaseError("database disk image is malformed"),  # but the file is fine
        ]
    )

    def flaky(self):
        err = next(failures, None)
        if err is not None:
            raise err
        return real_arrays(self)

    monkeypatch.setattr(SearchIndex, "arrays", flaky)
    for _ in range(2):
        with pytest.raises(IndexError_, match="索引未作改动"):
            search(seeded_library, "垃圾分类 AI 开发大赛", k=1, embedder=emb)
        assert not corrupt.exists()
    hits = search(seeded_library, "垃圾分类 AI 开发大赛", k=1, embedder=emb)
    assert hits[0].case_id == case_id_of(seeded_library, "000") and not hits[0].keywords_only
    assert {s.status for s in fresh(seeded_library).statuses()} == {"indexed"}


def test_a_database_damaged_under_a_running_search_is_set_aside_and_refiled(
    seeded_library, monkeypatch
):
    emb = FakeEmbedder()
    index = open_index(seeded_library.home)
    index.update(seeded_library, emb)
    db = index_dir(seeded_library.home) / DB_NAME
    real_arrays = SearchIndex.arrays
    damaged = []

    def damage_once(self):
        if not damaged:
            damaged.append(True)
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the pages are in the file
            db.write_bytes(b"this is not a database" * 200)
            raise sqlite3.DatabaseError("file is not a database")
        return real_arrays(self)

    monkeypatch.setattr(SearchIndex, "arrays", damage_once)
    hits = search(seeded_library, "垃圾分类 AI 开发大赛", k=1, embedder=emb)
    assert hits[0].case_id == case_id_of(seeded_library, "000")
    assert (index_dir(seeded_library.home) / (DB_NAME + ".corrupt")).exists()


def test_an_index_of_the_previous_layout_is_filed_again_keeping_its_model(seeded_library):
    """Indexes built before keyword filing (INDEX_VERSION 1: every chunk had a vector)."""
    folder = index_dir(seeded_library.home)
    folder.mkdir(parents=True)
    db = sqlite3.connect(folder / DB_NAME)
    with db:
        db.executescript(
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
            "CREATE TABLE chunks (id INTEGER PRIMARY KEY, case_id INTEGER, vector BLOB NOT NULL);"
            "INSERT INTO meta VALUES ('version', '1'), ('embedder_name', 'fake:bigrams-v1'),"
            " ('embedder_label', 'fake'), ('embedder_spec', 'fake'), ('dim', '256');"
            "INSERT INTO chunks VALUES (1, 1, x'00');"
        )
    db.close()
    index = open_index(seeded_library.home)
    assert any("另一版本" in m for m in index.messages)
    assert index.embedder_name == "fake:bigrams-v1" and index.is_empty()
    emb = FakeEmbedder()
    report = index.update(seeded_library, emb)
    assert (report.added, report.n_cases, report.reembedded) == (5, 5, 0)
    assert not report.messages or all("重新嵌入" not in m for m in report.messages)
