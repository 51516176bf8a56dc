"""Reading past entries: every encoding and format a user drops in comes back as the same text."""

from __future__ import annotations

import codecs
import hashlib
import io
import random
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analyzer.errors import EmptyDocumentError, ReadError, UnsupportedFormatError
from analyzer.library.encoding import decode_bytes
from analyzer.library.parse import parse_file
from analyzer.library.readers import SUPPORTED_SUFFIXES, iter_document_paths, read_document

ENTRY = "营销背景\n广告主：华为\n执行时间:2018/04~2019/03\n参选类别：社会化营销类\n营销效果：曝光 3000 万+，提升 48%"
TRADITIONAL = "營銷背景\n廣告主：華為"
TRADITIONAL_LONG = "華為雲 AI 垃圾分類大賽\n參選類別：社會化營銷類\n營銷效果：話題閱讀量超過 3000 萬，參與人數提升 48%"


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


# ------------------------------------------------------------------------------------ encodings


@pytest.mark.parametrize(
    ("text", "raw", "encoding"),
    [
        (ENTRY, ENTRY.encode("utf-8"), "utf-8"),
        (ENTRY, codecs.BOM_UTF8 + ENTRY.encode("utf-8"), "utf-8-sig"),
        (ENTRY, ENTRY.encode("gbk"), "gb18030"),
        (ENTRY + " 🎉 𠀀", (ENTRY + " 🎉 𠀀").encode("gb18030"), "gb18030"),
        (TRADITIONAL, TRADITIONAL.encode("big5"), "big5"),
        (TRADITIONAL_LONG, TRADITIONAL_LONG.encode("big5"), "big5"),
        (TRADITIONAL_LONG, TRADITIONAL_LONG.encode("gbk"), "gb18030"),
        (ENTRY, codecs.BOM_UTF16_LE + ENTRY.encode("utf-16-le"), "utf-16-le"),
        (ENTRY, codecs.BOM_UTF16_BE + ENTRY.encode("utf-16-be"), "utf-16-be"),
        (ENTRY, codecs.BOM_UTF32_LE + ENTRY.encode("utf-32-le"), "utf-32-le"),
        (ENTRY, ENTRY.encode("utf-16-le"), "utf-16-le"),
        (ENTRY, ENTRY.encode("utf-16-be"), "utf-16-be"),
    ],
    ids=[
        "utf8",
        "utf8-bom",
        "gbk",
        "gb18030-4byte",
        "big5-short",
        "big5-long",
        "traditional-in-gbk",
        "utf16le-bom",
        "utf16be-bom",
        "utf32le-bom",
        "utf16le-no-bom",
        "utf16be-no-bom",
    ],
)
def test_text_file_comes_back_exactly(tmp_path, text, raw, encoding):
    doc = read_document(_write(tmp_path, "entry.txt", raw))
    assert doc.text == text  # traditional characters are kept as written
    assert doc.encoding == encoding
    assert doc.size == len(raw)
    assert doc.sha256 == hashlib.sha256(raw).hexdigest()


def test_short_gbk_words_are_not_mistaken_for_big5():
    for word in ["营销", "效果", "我们", "中国", "台湾", "资料", "广告主"]:
        assert decode_bytes(word.encode("gbk")) == (word, "gb18030")


def test_markdown_is_kept_as_markdown(tmp_path):
    md = "# 第11届金鼠标\n\n## 营销背景\n\n- **曝光** 3000 万+\n"
    doc = read_document(_write(tmp_path, "entry.md", md.encode("gbk")))
    assert doc.text == md


def test_seed_cases_read_back_as_their_bytes(seeds):
    assert len(seeds) == 5
    for path in seeds.values():
        doc = read_document(path)
        assert doc.text == path.read_bytes().decode("utf-8")
        assert doc.encoding == "utf-8"


@given(st.binary(max_size=2000))
def test_decode_bytes_never_raises(data):
    text, encoding = decode_bytes(data)
    assert isinstance(text, str)
    assert codecs.lookup(encoding)


@given(st.text(max_size=300).filter(lambda s: "\x00" not in s and not s.startswith("\ufeff")))
def test_any_utf8_text_round_trips(text):
    assert decode_bytes(text.encode("utf-8")) == (text, "utf-8")


def test_a_50_mb_text_file_is_read(tmp_path):
    line = "营销效果：曝光 3000 万+，互动率提升 48%，话题阅读量 5,500,000,000+\n"
    data = (line * (50 * 1024 * 1024 // len(line.encode()) + 1)).encode("utf-8")
    path = _write(tmp_path, "big.txt", data)
    doc = read_document(path)
    assert doc.size == len(data) > 50 * 1024 * 1024
    assert doc.sha256 == hashlib.sha256(data).hexdigest()
    assert doc.text.count("\n") == data.count(b"\n")


def test_file_over_the_limit_is_refused_with_sizes(tmp_path):
    path = _write(tmp_path, "big.txt", b"x" * (3 * 1024 * 1024))
    with pytest.raises(ReadError, match=r"big\.txt: 文件太大（3 MB，上限 2 MB）"):
        read_document(path, max_bytes=2 * 1024 * 1024)


# ----------------------------------------------------------------------------------------- docx


def _docx_bytes() -> bytes:
    import docx

    d = docx.Document()
    d.add_heading("营销背景", level=2)
    d.add_paragraph("华为云发起 AI 垃圾分类大赛。")
    table = d.add_table(rows=2, cols=2)
    for r, row in enumerate([["指标", "结果"], ["曝光", "3000 万+"]]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    d.add_paragraph("营销效果")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def test_docx_paragraphs_headings_and_tables_in_document_order(tmp_path):
    doc = read_document(_write(tmp_path, "entry.docx", _docx_bytes()))
    assert doc.encoding == "docx"
    assert doc.text.split("\n") == [
        "营销背景",
        "华为云发起 AI 垃圾分类大赛。",
        "指标\t结果",
        "曝光\t3000 万+",
        "营销效果",
    ]


def test_docx_table_of_header_fields_reads_as_field_lines(tmp_path):
    import docx

    d = docx.Document()
    fields = d.add_table(rows=3, cols=2)
    rows = [["广告主", "华为"], ["所属行业：", "科技"], ["品牌名称", ""]]
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            fields.cell(r, c).text = value
    wide = d.add_table(rows=1, cols=4)
    for c, value in enumerate(["执行时间", "2019.07.12-09.19", "参选类别", "社会化营销类"]):
        wide.cell(0, c).text = value
    other = d.add_table(rows=1, cols=2)
    other.cell(0, 0).text, other.cell(0, 1).text = "曝光", "3000 万+"
    buf = io.BytesIO()
    d.save(buf)
    doc = read_document(_write(tmp_path, "form.docx", buf.getvalue()))
    assert doc.text.split("\n") == [
        "广告主：华为",
        "所属行业：科技",
        "品牌名称\t",  # no value: left as the table had it
        "执行时间：2019.07.12-09.19",
        "参选类别：社会化营销类",
        "曝光\t3000 万+",  # not a field: cells stay cells
    ]


def test_html_table_of_header_fields_reads_as_field_lines(tmp_path):
    page = "<table><tr><td>广告主</td><td>华为</td></tr><tr><td>指标</td><td>结果</td></tr></table>"
    doc = read_document(_write(tmp_path, "form.html", page.encode()))
    assert [line for line in doc.text.split("\n") if line] == ["广告主：华为", "指标\t结果"]


def test_docx_text_box_is_read_once(tmp_path):
    import docx
    from docx.oxml import parse_xml

    d = docx.Document()
    d.add_paragraph("正文")
    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    mc = 'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'
    box = "<w:txbxContent><w:p><w:r><w:t>框内：曝光 10w+</w:t></w:r></w:p></w:txbxContent>"
    d.element.body.insert(
        1,
        parse_xml(
            f"<w:p {w} {mc}><w:r><mc:AlternateContent><mc:Choice Requires='wps'>{box}"
            f"</mc:Choice><mc:Fallback>{box}</mc:Fallback></mc:AlternateContent></w:r></w:p>"
        ),
    )
    buf = io.BytesIO()
    d.save(buf)
    doc = read_document(_write(tmp_path, "box.docx", buf.getvalue()))
    assert doc.text.count("框内：曝光 10w+") == 1
    assert doc.text.startswith("正文\n")


def test_truncated_docx_is_named_and_explained(tmp_path):
    data = _docx_bytes()
    path = _write(tmp_path, "half.docx", data[: len(data) // 2])
    with pytest.raises(
        ReadError, match=r"half\.docx: 不是有效的 \.docx 文件（文件不完整或已损坏）"
    ):
        read_document(path)


def test_old_doc_renamed_to_docx(tmp_path):
    path = _write(tmp_path, "old.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    with pytest.raises(ReadError, match=r"old\.docx: .*旧版 \.doc.*另存为 \.docx"):
        read_document(path)


# ------------------------------------------------------------------------------------------ pdf


def _pdf_bytes(*pages: list[str]) -> bytes:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for lines in pages:
        c.setFont("STSong-Light", 14)
        for i, line in enumerate(lines):
            c.drawString(72, 750 - 24 * i, line)
        c.showPage()
    c.save()
    return buf.getvalue()


def test_pdf_chinese_text_is_extracted_page_by_page(tmp_path):
    data = _pdf_bytes(["营销背景", "廣告主：華為"], ["营销效果：曝光 3000 万+"])
    doc = read_document(_write(tmp_path, "entry.pdf", data))
    assert doc.encoding == "pdf"
    lines = [line.strip() for line in doc.text.split("\n") if line.strip()]
    assert lines == ["营销背景", "廣告主：華為", "营销效果：曝光 3000 万+"]


def test_pdf_without_text(tmp_path):
    path = _write(tmp_path, "scan.pdf", _pdf_bytes([]))
    with pytest.raises(EmptyDocumentError, match=r"scan\.pdf: PDF 中没有可提取的文字"):
        read_document(path)


def _encrypted(user: str, owner: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_pdf_bytes(["营销背景"]))))
    writer.encrypt(user, owner_password=owner)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def test_pdf_with_a_password_is_refused(tmp_path):
    path = _write(tmp_path, "locked.pdf", _encrypted("secret", "owner"))
    with pytest.raises(ReadError, match=r"locked\.pdf: PDF 已加密（需要密码）"):
        read_document(path)


def test_pdf_with_only_an_owner_password_is_read(tmp_path):
    doc = read_document(_write(tmp_path, "restricted.pdf", _encrypted("", "owner")))
    assert "营销背景" in doc.text


def test_truncated_pdf(tmp_path):
    data = _pdf_bytes(["营销背景"] * 5, ["营销效果"] * 5)
    path = _write(tmp_path, "half.pdf", data[: len(data) // 2])
    with pytest.raises(ReadError, match=r"half\.pdf: 不是有效的 PDF 文件（文件不完整"):
        read_document(path)


def test_text_renamed_to_pdf(tmp_path):
    with pytest.raises(ReadError, match=r"fake\.pdf: 不是有效的 PDF 文件"):
        read_document(_write(tmp_path, "fake.pdf", "营销背景".encode()))


# ----------------------------------------------------------------------------------------- html

PAGE = """<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset=gbk">
<title>页面标题</title><style>p {{ color: red }}</style><script>var x = "脚本";</script></head>
<body>
<h2>营销背景</h2>
<p>广告主：华为&nbsp;&amp;&nbsp;合作伙伴
  第一行<br>第二行</p>
<ul><li>曝光 3000 万+</li><li>提升 48%</li></ul>
<table><tr><td>指标</td> <td>结果</td></tr><tr><td>互动</td><td>10w+</td></tr></table>
<div>{extra}</div>
</body></html>"""


def test_html_with_meta_charset_gbk(tmp_path):
    data = PAGE.format(extra="營銷效果").encode("gbk")
    doc = read_document(_write(tmp_path, "entry.html", data))
    assert doc.encoding == "html:gb18030"
    lines = [line for line in doc.text.split("\n") if line]
    assert lines == [
        "营销背景",
        "广告主：华为\xa0&\xa0合作伙伴 第一行",
        "第二行",
        "曝光 3000 万+",
        "提升 48%",
        "指标\t结果",
        "互动\t10w+",
        "營銷效果",
    ]
    assert "脚本" not in doc.text and "页面标题" not in doc.text and "color" not in doc.text


def test_html_meta_charset_wrong_falls_back_to_detection(tmp_path):
    data = '<meta charset="gbk"><p>营销背景 🎉</p>'.encode()
    doc = read_document(_write(tmp_path, "saved-as-utf8.htm", data))
    assert doc.text == "营销背景 🎉"
    assert doc.encoding == "html:utf-8"


def test_html_meta_charset_big5(tmp_path):
    data = f'<html><head><meta charset="big5"></head><body><p>{TRADITIONAL}</p>'.encode("big5")
    doc = read_document(_write(tmp_path, "tw.html", data))
    assert doc.text == TRADITIONAL.replace("\n", " ")


# -------------------------------------------------------------------------------------- folders


def test_folders_are_walked_sorted_with_only_readable_files(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "deep").mkdir(parents=True)
    (tmp_path / ".git").mkdir()
    for name in [
        "z.txt",
        "a/deep/x.PDF",
        "a/y.docx",
        "b/c.html",
        "b/notes.xyz",
        "b/.hidden.txt",
        "b/~$y.docx",
        ".git/HEAD.txt",
        "m.md",
        "a/old.doc",
        "a/slides.PPTX",
        "b/scan.jpg",
        "b/.DS_Store",
        "Thumbs.db",
        "desktop.ini",
        "b/script.py",
    ]:
        (tmp_path / name).write_bytes(b"x")
    found = [p.relative_to(tmp_path).as_posix() for p in iter_document_paths([tmp_path])]
    # documents that cannot be read are yielded too, so the user learns why; junk is not
    assert found == [
        "a/deep/x.PDF",
        "a/old.doc",
        "a/slides.PPTX",
        "a/y.docx",
        "b/c.html",
        "b/scan.jpg",
        "m.md",
        "z.txt",
    ]


def test_explicit_files_are_kept_and_not_repeated(tmp_path):
    (tmp_path / "entry.txt").write_bytes(b"x")
    (tmp_path / "odd.xyz").write_bytes(b"x")
    found = list(iter_document_paths([tmp_path / "odd.xyz", tmp_path, tmp_path / "entry.txt"]))
    assert found == [tmp_path / "odd.xyz", tmp_path / "entry.txt"]


def test_supported_suffixes():
    assert {".txt", ".md", ".markdown", ".docx", ".pdf", ".html", ".htm"} == SUPPORTED_SUFFIXES


# ------------------------------------------------------------------------------------ bad files


def test_empty_file(tmp_path):
    with pytest.raises(EmptyDocumentError, match=r"empty\.txt: 空文件"):
        read_document(_write(tmp_path, "empty.txt", b""))


def test_whitespace_only_file(tmp_path):
    with pytest.raises(EmptyDocumentError, match=r"blank\.md: 文件中没有文字"):
        read_document(_write(tmp_path, "blank.md", " \n\t\n".encode("utf-16")))


def test_binary_file_named_txt(tmp_path):
    rng = random.Random(7)
    data = bytes(rng.randrange(256) for _ in range(4096)) + b"\x00\x00"
    with pytest.raises(ReadError, match=r"noise\.txt: 二进制数据，不是文本"):
        read_document(_write(tmp_path, "noise.txt", data))


def test_unknown_suffix(tmp_path):
    with pytest.raises(UnsupportedFormatError, match=r"entry\.xyz: 不支持的文件类型.*\.xyz"):
        read_document(_write(tmp_path, "entry.xyz", "营销背景".encode()))


def test_old_word_doc_suffix_says_what_to_do(tmp_path):
    with pytest.raises(
        UnsupportedFormatError, match=r"entry\.doc: 不支持旧版 Word \.doc 文件，请.*另存为 \.docx"
    ):
        read_document(_write(tmp_path, "entry.doc", b"\xd0\xcf\x11\xe0"))


def test_missing_path(tmp_path):
    with pytest.raises(ReadError, match=r"missing\.txt: 文件不存在") as info:
        read_document(tmp_path / "missing.txt")
    assert info.value.path.endswith("missing.txt")


def test_folder_instead_of_file(tmp_path):
    (tmp_path / "cases.txt").mkdir()
    with pytest.raises(ReadError, match=r"cases\.txt: 这是文件夹"):
        read_document(tmp_path / "cases.txt")


SAVED_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>案例 - 某营销网</title>
<meta name="keywords" content="营销案例,项目背景,营销目标"></head><body>
<div class="nav"><ul><li><a href="/">首页</a></li><li><a href="/news">新闻资讯</a></li>
<li><a href="/case">案例库</a></li><li><a href="/about">关于我们</a></li></ul></div>
<div class="crumb">当前位置：<a href="/">首页</a> &gt; <a href="/case">案例库</a> &gt; 正文</div>
<div class="article"><h1>2021金旗奖获奖案例:2020中国移动创客马拉松大赛</h1>
<table><tr><td>案例名称</td><td>2020中国移动创客马拉松大赛</td></tr>
<tr><td>执行时间</td><td>2020-06-01 - 2020-12-31</td></tr></table>
<h2>项目目标</h2><p>中国移动自2016年起连续举办五届创客马拉松系列赛事活动，2020年征集5G新技术、新产品、新模式，
汇聚最广泛的中小微企业及开发者，构建最具活力的创新合作平台。</p>
<h2>项目调研</h2><p>2019年的大赛以“5G+”为主题，开展了8大专题赛事活动，吸引超12000人报名参赛，征集创新项目共计2818个，
为2020年大赛的进行夯实基础。</p></div>
<div class="sidebar"><h3>热门文章</h3><ul><li><a href="/h1">项目背景怎么写才能打动评委？十个获奖案例告诉你</a></li>
<li><a href="/h2">营销目标与KPI设置指南（附模板下载）</a></li><li><a href="/h3">阅读 1.2万 · 评论 86</a></li></ul></div>
<div class="footer"><p>版权所有 © 2024 某营销传播网 京ICP备12345678号-1</p>
<p>友情链接：某广告网 某公关网 某数字营销网</p></div></body></html>"""


def test_a_saved_web_page_reads_as_its_article(tmp_path):
    doc = read_document(_write(tmp_path, "case.html", SAVED_PAGE.encode()))
    lines = [line for line in doc.text.split("\n") if line.strip()]
    assert lines[0] == "2021金旗奖获奖案例:2020中国移动创客马拉松大赛"  # the headline stays
    assert "案例名称：2020中国移动创客马拉松大赛" in lines  # the form's table: field lines
    assert "项目目标" in lines and "项目调研" in lines
    for residue in (
        "首页",
        "关于我们",
        "热门文章",
        "十个获奖案例",
        "版权所有",
        "友情链接",
        "当前位置",
    ):
        assert residue not in doc.text, residue
    parsed = parse_file(tmp_path / "case.html")
    assert parsed.award == "jinqi" and [h.title for h in parsed.headings] == [
        "项目目标",
        "项目调研",
    ]
    assert parsed.fields["执行时间"] == "2020-06-01 - 2020-12-31"


def test_without_trafilatura_a_page_is_read_whole(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_trafilatura(name, *args, **kwargs):
        if name == "trafilatura":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_trafilatura)
    doc = read_document(_write(tmp_path, "case.html", SAVED_PAGE.encode()))
    assert "项目调研" in doc.text and "热门文章" in doc.text
