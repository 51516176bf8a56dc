"""The CLI contract scripts rely on: JSON shapes, exit codes, one-line reasons."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from analyzer.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_parse_json_contract(capsys, seeds):
    code, out, _ = run(capsys, "parse", str(seeds["000"]), "--json")
    assert code == 0
    data = json.loads(out)
    assert data["award"] == "golden_mouse" and data["is_entry"] is True
    assert data["fields"]["广告主"] == "华为"
    assert next(s["title"] for s in data["sections"]) == "营销背景"
    exposure = [m for m in data["metrics"] if m["text"].startswith("3000")]
    assert exposure and exposure[0]["value"] == 30_000_000
    assert exposure[0]["section"] == "results"


CONTRACT_TYPES = {"award": (str, type(None)), "is_entry": bool, "title": str, "fields": dict}
METRIC_TYPES = {
    "text": str,
    "value": (int, float),
    "unit": str,
    "measure": str,
    "section": str,
    "bound": str,
    "upper": (int, float, type(None)),
    "label": str,
    "change": str,
    "span": list,
}


@pytest.mark.parametrize("seed", ["000", "001", "002", "003", "004"])
def test_parse_json_pins_every_key_and_type(capsys, seeds, seed):
    """Scripts read these keys; extra ones (title; bound/upper/label/change/span) are pinned too."""
    _code, out, _ = run(capsys, "parse", str(seeds[seed]), "--json")
    data = json.loads(out)
    assert set(data) == {"award", "is_entry", "title", "fields", "sections", "headings", "metrics"}
    for key, kind in CONTRACT_TYPES.items():
        assert isinstance(data[key], kind), key
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in data["fields"].items())
    assert data["sections"]
    for s in data["sections"]:
        assert set(s) == {"key", "kind", "title", "text"}
        assert all(isinstance(v, str) for v in s.values())
    keys = {s["key"] for s in data["sections"]}
    for h in data["headings"]:
        assert set(h) == {"title", "kind", "section", "opens"}
        assert isinstance(h["opens"], bool) and h["section"] in keys | {""}
    for m in data["metrics"]:
        assert set(m) == set(METRIC_TYPES)
        for key, kind in METRIC_TYPES.items():
            assert isinstance(m[key], kind) and not isinstance(m[key], bool), (key, m)
        assert m["section"] in keys
        # whole numbers come out as ints: 30000000, not 30000000.0
        assert not (isinstance(m["value"], float) and m["value"].is_integer()), m
        a, b = m["span"]
        assert isinstance(a, int) and isinstance(b, int) and 0 <= a <= b


def test_parse_with_award_and_unknown_award(capsys, seeds):
    code, out, _ = run(capsys, "parse", str(seeds["003"]), "--award", "tma", "--json")
    assert code == 0 and json.loads(out)["award"] == "tma"
    code, _, err = run(capsys, "parse", str(seeds["003"]), "--award", "oscars", "--json")
    assert code == 1 and "oscars" in err and err.count("\n") == 1


def test_parse_missing_file_names_it(capsys, tmp_path):
    code, _, err = run(capsys, "parse", str(tmp_path / "nope.txt"), "--json")
    assert code == 1 and "nope.txt" in err


def test_ingest_list_show_remove(capsys, seeds, tmp_path):
    lib = str(tmp_path / "lib")
    code, out, _ = run(capsys, "ingest", str(seeds["000"].parent), "--library", lib)
    assert code == 0 and "5 imported" in out
    code, out, _ = run(capsys, "list", "--json", "--library", lib)
    cases = json.loads(out)
    assert len(cases) == 5
    huawei = next(c for c in cases if c["brand"] == "华为")
    code, out, _ = run(capsys, "show", str(huawei["id"]), "--json", "--library", lib)
    assert code == 0 and json.loads(out)["source"].endswith("000_1553ac701a01ae2f.txt")
    code, out, _ = run(capsys, "remove", str(huawei["id"]), "--library", lib)
    assert code == 0 and "2019华为云" in out
    code, _, err = run(capsys, "show", str(huawei["id"]), "--library", lib)
    assert code == 1 and "CaseNotFoundError" in err


def test_list_table_shows_whole_titles_and_short_award_names_in_a_log(
    capsys, seeds, tmp_path, monkeypatch
):
    monkeypatch.delenv("COLUMNS", raising=False)
    lib = str(tmp_path / "lib")
    run(capsys, "ingest", str(seeds["000"].parent), "--library", lib)
    code, out, _ = run(capsys, "list", "--library", lib)  # stdout is not a terminal here
    assert code == 0
    row = next(line for line in out.splitlines() if "华为" in line)
    assert "2019华为云 AI 大赛数字营销" in row and "金鼠标" in row and "golden_" not in row
    assert "TMA" in out and "金旗奖" in out


def test_ingest_reports_bad_files_goes_on_and_exits_1(capsys, seeds, tmp_path):
    (tmp_path / "bad.pdf").write_bytes(b"%PDF-1.4 truncated")
    lib = str(tmp_path / "l")
    code, out, err = run(
        capsys, "ingest", str(seeds["001"]), str(tmp_path / "bad.pdf"), "--library", lib
    )
    assert code == 1  # a failed file is not success, even though the rest was imported
    assert "bad.pdf: 不是有效的 PDF 文件" in err and "1 个文件未能导入" in err
    assert "1 imported" in out and "1 failed" in out
    code, out, _ = run(capsys, "list", "--json", "--library", lib)
    assert [c["title"] for c in json.loads(out)] == ["中移互联网移动认证社会化传播案例"]


def test_ingest_exits_0_when_every_file_is_in_the_library(capsys, seeds, tmp_path):
    lib = str(tmp_path / "l")
    code, out, _ = run(capsys, "ingest", str(seeds["001"]), "--library", lib)
    assert code == 0 and "1 imported" in out
    (tmp_path / "copy.txt").write_bytes(seeds["001"].read_bytes())
    code, out, _ = run(
        capsys, "ingest", str(seeds["001"]), str(tmp_path / "copy.txt"), "--library", lib
    )
    assert code == 0 and "1 unchanged" in out and "1 duplicate" in out


def test_ingest_folder_reports_unsupported_documents(capsys, seeds, tmp_path):
    folder = tmp_path / "cases"
    folder.mkdir()
    (folder / "000.txt").write_bytes(seeds["000"].read_bytes())
    (folder / "old.doc").write_bytes(b"\xd0\xcf\x11\xe0" + b"\x00" * 100)
    (folder / "slides.pptx").write_bytes(b"PK\x03\x04")
    (folder / ".DS_Store").write_bytes(b"\x00")
    (folder / "Thumbs.db").write_bytes(b"\x00")
    code, out, err = run(capsys, "ingest", str(folder), "--library", str(tmp_path / "l"))
    assert code == 1
    assert "3 files: 1 imported, 2 failed" in out
    assert "old.doc: 不支持旧版 Word .doc 文件" in err and "另存为 .docx" in err
    assert "slides.pptx: 不支持幻灯片文件，请导出为 PDF" in err
    assert "DS_Store" not in err + out and "Thumbs" not in err + out


def test_library_option_before_or_after_the_subcommand(capsys, seeds, tmp_path):
    lib = str(tmp_path / "lib")
    assert run(capsys, "--library", lib, "ingest", str(seeds["002"]))[0] == 0
    code, out, _ = run(capsys, "--library", lib, "list", "--json")
    assert code == 0 and [c["brand"] for c in json.loads(out)] == ["上汽通用"]
    code, out, _ = run(capsys, "list", "--json", "--library", lib)
    assert code == 0 and [c["brand"] for c in json.loads(out)] == ["上汽通用"]
    # the default library (AWARD_WRITER_HOME) is another one, and stays empty
    code, out, _ = run(capsys, "list", "--json")
    assert code == 0 and json.loads(out) == []


def test_list_rejects_an_unknown_award(capsys, tmp_path):
    code, out, err = run(capsys, "list", "--award", "nonsense", "--library", str(tmp_path / "l"))
    assert code == 1 and out == ""
    assert "UnknownAwardError" in err and "nonsense" in err and "golden_mouse" in err
    code, _, err = run(capsys, "list", "--award", "golden_mouse", "--library", str(tmp_path / "l"))
    assert code == 0


def test_unreadable_file_reason_is_chinese_and_names_the_file(capsys, tmp_path):
    (tmp_path / "half.docx").write_bytes(b"PK\x03\x04 not really a zip")
    code, _, err = run(capsys, "parse", str(tmp_path / "half.docx"), "--json")
    assert code == 1
    assert (
        err == f"ReadError: {tmp_path / 'half.docx'}: 不是有效的 .docx 文件（文件不完整或已损坏）\n"
    )
    code, _, err = run(capsys, "parse", str(tmp_path / "nope.txt"))
    assert err == f"ReadError: {tmp_path / 'nope.txt'}: 文件不存在\n"


def _entry_form_docx(path):
    """An official entry form: header fields in a table without colons, sections as headings."""
    import docx

    d = docx.Document()
    d.add_heading("2019华为云 AI 大赛数字营销", 0)
    table = d.add_table(rows=2, cols=4)
    for r, row in enumerate(
        [
            ["广告主", "华为", "所属行业", "科技"],
            ["执行时间", "2019.07.12-09.19", "参选类别", "社会化营销类"],
        ]
    ):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    body = "华为云举办垃圾分类 AI 开发大赛，面向全社会受众，传递 AI 开发平台普惠易用的卖点，建立品牌社会形象。"
    for heading in ["营销背景", "营销目标", "策略与创意", "执行过程/媒体表现"]:
        d.add_heading(heading, 1)
        d.add_paragraph(body)
    d.add_heading("营销效果与市场反馈", 1)
    d.add_paragraph(
        "据主办方后台统计，吸引报名参赛队伍 8000+，整体曝光量 3000 万+，话题阅读量 10w+。"
    )
    d.save(path)
    return path


def test_docx_entry_form_with_fields_in_a_table(capsys, tmp_path):
    path = _entry_form_docx(tmp_path / "form.docx")
    code, out, _ = run(capsys, "parse", str(path), "--json")
    assert code == 0
    data = json.loads(out)
    assert data["award"] == "golden_mouse"
    assert data["fields"] == {
        "广告主": "华为",
        "所属行业": "科技",
        "执行时间": "2019.07.12-09.19",
        "参选类别": "社会化营销类",
    }
    assert [s["title"] for s in data["sections"]] == [
        "营销背景",
        "营销目标",
        "策略与创意",
        "执行过程/媒体表现",
        "营销效果与市场反馈",
    ]
    _code, out, _ = run(capsys, "check", str(path), "--json", "--no-library")
    rules = [f["rule"] for f in json.loads(out)["findings"]]
    assert rules and "fields.missing" not in rules and "fields.period" not in rules


def test_awards_lists_every_schema(capsys):
    _code, out, _ = run(capsys, "awards", "--json")
    data = json.loads(out)
    assert {"golden_mouse", "jinqi", "tma", "effie", "generic"} <= set(data)
    assert data["effie"]["sections"] == ["挑战/背景/目标", "洞察与策略", "将创意付诸实践", "效果"]


@pytest.mark.parametrize("argv", [["--help"], ["parse", "--help"]])
def test_start_up_imports_no_heavy_library(argv):
    code = (
        "import sys\n"
        "from analyzer.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('torch', 'transformers', 'faiss', 'sentence_transformers', 'PySide6') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_ingest_reads_a_case_from_standard_input(capsys, monkeypatch, tmp_path):
    import io

    text = (
        "SOURCE: https://example.com/case/1\n案例名稱：山城夜色文旅季\n廣告主：山城文化旅遊集團\n"
        "壹、營銷背景\n山城以夜景聞名，但遊客多為一日遊。\n貳、營銷目標\n把夜間遊客停留時長提高到三小時以上。\n"
    )
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode("big5"))))
    lib = str(tmp_path / "lib")
    code, out, _ = run(capsys, "ingest", "-", "--library", lib, "--json")
    assert code == 0
    [result] = json.loads(out)
    assert (result["status"], result["path"]) == ("imported", "https://example.com/case/1")
    code, out, _ = run(capsys, "show", str(result["case_id"]), "--library", lib, "--json")
    assert json.loads(out)["fields"]["广告主"] == "山城文化旅遊集團"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))
    code, _, err = run(capsys, "ingest", "-", "--library", lib)
    assert code == 1 and "没有文字" in err
