"""Issue 14, items 1, 3 and 8 (encrypted PDF): a file that would take the machine or the batch
down is refused with one line naming it, and the files after it are imported."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from fault_files import ROOT, cli, docx_bomb, docx_bytes, encrypted_pdf, pdf_bytes, seed_folder

from analyzer.errors import ReadError
from analyzer.library import limits
from analyzer.library.readers import read_document


def test_a_zip_bomb_docx_is_refused_in_bounded_memory_and_the_folder_goes_on(tmp_path):
    folder = tmp_path / "entries"
    seed_folder(folder, 2)
    bomb = folder / "bomb.docx"
    docx_bomb(bomb, inflated_mb=256)
    assert bomb.stat().st_size < 2 << 20  # it passes any size check on disk
    (folder / "zlater.docx").write_bytes(docx_bytes("营销背景", "一个在炸弹之后的案例"))

    run = cli("ingest", str(folder), home=tmp_path / "lib")
    assert run.code == 1  # one file failed, the rest are in
    assert "Traceback" not in run.err
    assert "bomb.docx" in run.err and "解压后" in run.err
    assert "4 files: 3 imported, 1 failed" in run.out
    # Reading it would take well over 1 GB (256 MB of XML, its tree, its text).
    assert run.max_rss_mb < 500, run.max_rss_mb

    for command in (["parse", str(bomb)], ["check", str(bomb)]):
        run = cli(*command, home=tmp_path / "lib")
        assert run.code in (1, 2) and "Traceback" not in run.err
        assert run.err.count("\n") == 1 and "bomb.docx" in run.err
        assert run.max_rss_mb < 500, (command, run.max_rss_mb)


def test_a_docx_whose_parts_inflate_too_far_is_refused_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "photos.docx"
    base = zipfile.ZipFile(io.BytesIO(docx_bytes("营销背景", "正文")))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in base.infolist():
            out.writestr(info, base.read(info.filename))
        out.writestr("word/media/image1.png", b"\0" * (8 << 20))
    monkeypatch.setattr(limits, "MAX_DOCX_INFLATED_BYTES", 2 << 20)
    with pytest.raises(ReadError, match=r"photos\.docx: .*解压后共 [89] MB（上限 2 MB）"):
        read_document(path)
    monkeypatch.setattr(limits, "MAX_ZIP_ENTRIES", 5)
    with pytest.raises(ReadError, match=r"photos\.docx: .*压缩包里有 \d+ 个文件"):
        read_document(path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_named_txt_never_hangs_parse_ingest_or_check(tmp_path):
    folder = tmp_path / "entries"
    seed_folder(folder, 2)
    os.mkfifo(folder / "x.txt")
    for command in (
        ["parse", str(folder / "x.txt")],
        ["check", str(folder / "x.txt")],
        ["ingest", str(folder)],
    ):
        run = cli(*command, home=tmp_path / "lib", timeout=120)
        assert run.code is not None, f"{command[0]} hung on a FIFO"
        assert "Traceback" not in run.err
        assert "x.txt" in run.err and "不是普通文件" in run.err
    assert "3 files: 2 imported, 1 failed" in run.out


def test_a_read_that_stalls_is_given_up_with_a_reason(tmp_path, monkeypatch):
    path = tmp_path / "on-a-network-disk.txt"
    path.write_text("营销背景\n正文", encoding="utf-8")
    real_read = os.read

    def stalled(fd: int, n: int) -> bytes:
        time.sleep(3)  # a disk that went away
        return real_read(fd, n)

    monkeypatch.setattr(os, "read", stalled)
    with pytest.raises(ReadError, match=r"on-a-network-disk\.txt: 读取超时"):
        limits.read_regular_file(path, stall_seconds=0.5)


def test_an_aes_encrypted_pdf_says_it_needs_a_password(tmp_path):
    locked = tmp_path / "locked.pdf"
    encrypted_pdf(locked, "user-secret", "Background of the campaign")
    with pytest.raises(ReadError) as info:
        read_document(locked)
    assert "PDF 已加密" in info.value.reason and "密码" in info.value.reason
    assert "cryptography" not in str(info.value) and "不是有效的 PDF" not in str(info.value)

    # Only an owner password (printing/copying restrictions): the text is read.
    restricted = tmp_path / "restricted.pdf"
    encrypted_pdf(restricted, "", "Background of the campaign")
    assert "Background of the campaign" in read_document(restricted).text


_WITHOUT_CRYPTOGRAPHY = """
import sys
sys.modules["cryptography"] = None  # an installation without the package
from analyzer.errors import ReadError
from analyzer.library.readers import read_document
for name in sys.argv[1:]:
    try:
        read_document(name)
        print("read")
    except ReadError as exc:
        print(exc.reason)
"""


def test_without_the_aes_package_an_encrypted_pdf_still_says_encrypted(tmp_path):
    names = []
    for user in ("user-secret", ""):
        path = tmp_path / f"locked{len(names)}.pdf"
        encrypted_pdf(path, user, "Background of the campaign")
        names.append(str(path))
    out = subprocess.run(
        [sys.executable, "-c", _WITHOUT_CRYPTOGRAPHY, *names],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    ).stdout.splitlines()
    assert len(out) == 2
    for reason in out:
        assert reason.startswith("PDF 已加密") and "密码" in reason, reason
        assert "cryptography" not in reason and "扫描" not in reason


def test_a_pdf_with_too_many_pages_or_too_much_text_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf_bytes(*(f"Page {i} of the annual report" for i in range(6))))
    monkeypatch.setattr(limits, "MAX_PDF_PAGES", 5)
    with pytest.raises(ReadError, match=r"report\.pdf: PDF 有 6 页（上限 5 页）"):
        read_document(path)
    monkeypatch.setattr(limits, "MAX_PDF_PAGES", 100)
    monkeypatch.setattr(limits, "MAX_ENTRY_CHARS", 60)
    with pytest.raises(ReadError, match=r"report\.pdf: 文本过长（读到第 3 页"):
        read_document(path)


def test_an_html_page_over_the_limit_is_refused_by_size(tmp_path, monkeypatch):
    path = tmp_path / "saved.html"
    path.write_text("<p>营销背景</p>" * 100_000, encoding="utf-8")
    monkeypatch.setattr(limits, "MAX_HTML_BYTES", 1 << 20)
    with pytest.raises(ReadError, match=r"saved\.html: 网页文件太大（2 MB，上限 1 MB）"):
        read_document(path)


def test_special_files_are_refused_by_kind_and_regular_ones_read(tmp_path):
    if not Path("/dev/null").exists():
        pytest.skip("no /dev/null here")
    link = tmp_path / "null.txt"
    link.symlink_to("/dev/null")
    with pytest.raises(ReadError, match=r"null\.txt: 不是普通文件（是设备文件）"):
        read_document(link)
    good = tmp_path / "good.txt"
    shutil.copy(ROOT / "corpus" / "cases" / "000_1553ac701a01ae2f.txt", good)
    assert read_document(good).text.startswith(good.read_text(encoding="utf-8")[:20])
