"""The library a user imports into: resumable, never corrupted, bad files reported."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from analyzer.errors import CaseNotFoundError, LibraryError
from analyzer.library.store import Library
from analyzer.progress import CancelToken, Progress


@pytest.fixture
def lib(tmp_path: Path) -> Library:
    with Library(tmp_path / "lib") as library:
        yield library


def test_ingest_the_corpus_folder(lib, seeds):
    seen: list[Progress] = []
    report = lib.ingest([next(iter(seeds.values())).parent], on_progress=seen.append)
    assert report.count("imported") == 5 and not report.failed
    assert seen[-1].done == seen[-1].total == 5
    cases = {c.title: c for c in lib.list_cases()}
    huawei = cases["2019华为云 AI 大赛数字营销"]
    assert (huawei.award, huawei.brand, huawei.industry, huawei.year) == (
        "golden_mouse",
        "华为",
        "科技",
        2019,
    )
    assert huawei.n_sections == 5
    assert cases["AI 赋能的营销科技趋势与实践"].award is None
    record = lib.get_case(huawei.id)
    assert record.fields["参选类别"] == "社会化营销类"
    assert [s.key for s in record.sections][-1] == "results"
    assert record.as_parsed().section("results").text.startswith("1、吸引报名")


def test_reimport_unchanged_does_nothing_and_changed_replaces(lib, seeds, tmp_path):
    copy = tmp_path / "entry.txt"
    shutil.copy(seeds["000"], copy)
    first = lib.ingest([copy]).results[0]
    assert first.status == "imported"
    again = lib.ingest([copy]).results[0]
    assert (again.status, again.case_id) == ("unchanged", first.case_id)
    copy.write_text(
        copy.read_text(encoding="utf-8").replace("主：华为", "主：荣耀"), encoding="utf-8"
    )
    changed = lib.ingest([copy]).results[0]
    assert (changed.status, changed.case_id) == ("updated", first.case_id)
    assert len(lib) == 1
    assert lib.get_case(first.case_id).fields["广告主"] == "荣耀"


def test_bad_files_are_reported_and_the_batch_goes_on(lib, seeds, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(seeds["002"], folder / "good.txt")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    report = lib.ingest([folder, tmp_path / "missing.txt"])
    by_name = {Path(r.path).name: r for r in report.results}
    assert by_name["good.txt"].status == "imported"
    assert (by_name["empty.txt"].status, by_name["empty.txt"].message) == ("failed", "空文件")
    assert by_name["broken.docx"].status == "failed"
    assert by_name["broken.docx"].message == "不是有效的 .docx 文件（文件不完整或已损坏）"
    assert by_name["missing.txt"].status == "failed"
    assert by_name["missing.txt"].message == "文件或文件夹不存在"
    assert len(lib) == 1


def test_a_50_mb_file_is_refused_with_a_reason_and_the_batch_goes_on(lib, seeds, tmp_path):
    """A 50 MB text is a collection, not an entry: parsing it would hold the batch for minutes
    (about 2 minutes on the test machine for this metric-dense text), so it is reported."""
    line = "营销效果：曝光 3000 万+，互动率提升 48%，话题阅读量 5,500,000,000+\n"
    big = tmp_path / "big.txt"
    big.write_text(line * (50 * 1024 * 1024 // len(line.encode()) + 1), encoding="utf-8")
    report = lib.ingest([big, seeds["002"]])
    by_name = {Path(r.path).name: r for r in report.results}
    assert by_name["big.txt"].status == "failed"
    assert "文本过长" in by_name["big.txt"].message and "请拆分" in by_name["big.txt"].message
    assert by_name[seeds["002"].name].status == "imported"
    assert [c.brand for c in lib.list_cases()] == ["上汽通用"]


def test_an_entry_near_the_length_limit_is_imported_whole(lib, seeds, tmp_path):
    from analyzer.library.limits import MAX_ENTRY_CHARS

    text = seeds["001"].read_text(encoding="utf-8")
    long = tmp_path / "long.txt"
    long.write_text(text * (MAX_ENTRY_CHARS // len(text)), encoding="utf-8")
    result = lib.ingest([long]).results[0]
    assert result.status == "imported", result.message
    case = lib.get_case(result.case_id)
    assert case.award == "jinqi" and len(case.text) > MAX_ENTRY_CHARS * 0.8
    assert len(case.metrics) > 1000  # the metrics of every copy, not just the first


def test_unsupported_documents_in_a_folder_are_reported_not_skipped(lib, seeds, tmp_path):
    folder = tmp_path / "mixed"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(seeds["000"], folder / "000.txt")
    for name in ["old.doc", "sub/slides.pptx", "scan.png", "data.xlsx", ".DS_Store", "Thumbs.db",
                 "~$old.doc", "notes.py"]:  # fmt: skip
        (folder / name).write_bytes(b"\x00\x01")
    report = lib.ingest([folder])
    by_name = {Path(r.path).name: r for r in report.results}
    assert set(by_name) == {"000.txt", "old.doc", "slides.pptx", "scan.png", "data.xlsx"}
    assert by_name["000.txt"].status == "imported"
    assert "另存为 .docx" in by_name["old.doc"].message
    assert "导出为 PDF" in by_name["slides.pptx"].message
    assert "图片" in by_name["scan.png"].message
    assert all(r.status == "failed" for n, r in by_name.items() if n != "000.txt")


def test_same_content_under_another_name_is_a_duplicate(lib, seeds, tmp_path):
    lib.ingest([seeds["001"]])
    shutil.copy(seeds["001"], tmp_path / "copy.txt")
    result = lib.ingest([tmp_path / "copy.txt"]).results[0]
    first = lib.list_cases()[0].id
    assert result.status == "duplicate" and result.message == f"与案例 {first} 内容相同"


def test_remove_and_missing_ids(lib, seeds):
    case_id = lib.ingest([seeds["003"]]).results[0].case_id
    lib.remove(case_id)
    assert len(lib) == 0
    with pytest.raises(CaseNotFoundError, match=f"没有编号为 {case_id} 的案例"):
        lib.get_case(case_id)
    with pytest.raises(CaseNotFoundError):
        lib.remove(case_id)


def test_cancel_stops_between_files_keeping_what_finished(lib, seeds):
    token = CancelToken()

    def progress(p: Progress) -> None:
        if p.done == 2:
            token.cancel()

    from analyzer.errors import Cancelled

    with pytest.raises(Cancelled):
        lib.ingest([seeds["000"].parent], on_progress=progress, cancel=token)
    assert len(lib) == 2


def test_filters(lib, seeds):
    lib.ingest([seeds["000"].parent])
    assert {c.brand for c in lib.list_cases(award="golden_mouse")} == {"华为", "上汽通用"}
    assert [c.title for c in lib.list_cases(industry="汽车")] == ["上汽通用智能营销中枢系统"]
    assert [c.year for c in lib.list_cases(year=2017)] == [2017]


def test_a_file_that_is_not_a_library_is_refused_not_overwritten(tmp_path):
    home = tmp_path / "lib"
    home.mkdir()
    (home / "library.sqlite3").write_bytes(b"this is the user's file, not a database" * 100)
    before = (home / "library.sqlite3").read_bytes()
    with pytest.raises(LibraryError, match=r"library\.sqlite3"):
        Library(home)
    assert (home / "library.sqlite3").read_bytes() == before


KILL_SCRIPT = """
import sys
from analyzer.library.store import Library
Library(sys.argv[1]).ingest([sys.argv[2]])
"""


def test_killed_in_the_middle_of_an_import_the_library_opens_and_resumes(tmp_path, seeds):
    folder = tmp_path / "many"
    folder.mkdir()
    texts = [p.read_text(encoding="utf-8") for p in seeds.values()]
    for i in range(400):
        (folder / f"{i:04d}.txt").write_text(f"编号{i}\n" + texts[i % 4], encoding="utf-8")
    home = tmp_path / "lib"
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(home), str(folder)])
    db = home / "library.sqlite3"
    deadline = time.monotonic() + 120
    count = 0
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists():
            try:
                with sqlite3.connect(db, timeout=1) as con:
                    count = con.execute("SELECT COUNT(*) FROM cases").fetchone()[0]
            except sqlite3.Error:
                count = 0
            if count >= 20:
                break
        time.sleep(0.05)
    assert proc.poll() is None, "the import finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    with Library(home) as lib:
        kept = lib.list_cases()
        assert 20 <= len(kept) < 400
        for summary in kept:  # every case that is there is whole
            case = lib.get_case(summary.id)
            assert case.sections and case.title
        report = lib.ingest([folder])
        assert report.count("unchanged") == len(kept)
        assert report.count("imported") == 400 - len(kept)
        assert len(lib) == 400


PASTED = (
    "https://www.17pr.com/news/detail/205564.html\n"
    "2021金旗奖获奖案例:2020中国移动创客马拉松大赛\n"
    "案例名称:2020中国移动创客马拉松大赛\n执行时间:2020-06-01 - 2020-12-31\n"
    "项目目标\n中国移动自2016年起连续举办五届创客马拉松系列赛事活动。\n"
    "项目调研\n2019年大赛吸引超12000人报名参赛，征集创新项目共计2818个。\n"
)


def test_pasted_text_is_a_case_named_by_its_url(lib):
    first = lib.ingest_text(PASTED)
    assert first.status == "imported"
    assert first.path == "https://www.17pr.com/news/detail/205564.html"
    case = lib.get_case(first.case_id)
    assert case.award == "jinqi" and [s.title for s in case.sections] == ["项目目标", "项目调研"]
    assert lib.ingest_text(PASTED).status == "unchanged"  # pasted twice: one case
    changed = lib.ingest_text(PASTED.replace("2818", "2900"))
    assert (changed.status, changed.case_id) == ("updated", first.case_id)  # same page, new text
    other = lib.ingest_text(
        "项目背景\n一段没有网址的正文，讲清楚背景。\n项目执行\n执行了三场活动。", source=""
    )
    assert other.status == "imported" and other.path.startswith("粘贴:")
    given = lib.ingest_text("项目背景\n正文。\n项目执行\n执行。", source="https://example.com/a")
    assert given.path == "https://example.com/a"


def test_pasting_nothing_or_a_whole_page_of_html(lib):
    empty = lib.ingest_text("  \n ")
    assert empty.status == "failed" and "没有文字" in empty.message
    page = (
        "<!DOCTYPE html><html><body><div class='nav'><a href='/'>首页</a></div>"
        f"<div class='article'>{''.join(f'<p>{line}</p>' for line in PASTED.splitlines()[1:])}</div>"
        "</body></html>"
    )
    result = lib.ingest_text(page, source="https://www.17pr.com/news/detail/205564.html")
    case = lib.get_case(result.case_id)
    assert case.award == "jinqi" and "<p>" not in case.text
