"""``award-writer check``: the JSON contract, exit codes 0/1/2, the HTML and Markdown reports."""

from __future__ import annotations

import json
from html.parser import HTMLParser

from check_entries import effie, golden_mouse

from analyzer.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_contract_and_exit_0_for_a_ready_entry(capsys, tmp_path):
    path = tmp_path / "entry.txt"
    path.write_text(golden_mouse(), encoding="utf-8")
    code, out, _ = run(capsys, "check", str(path), "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data) >= {"award", "score", "sections", "findings"}
    assert data["award"] == "golden_mouse" and data["score"] == 100
    assert list(data["sections"]) == [
        "background",
        "objectives",
        "strategy",
        "execution",
        "results",
    ]
    for status in data["sections"].values():
        assert set(status) >= {"present", "chars", "metrics"}
        assert status["present"] is True and status["chars"] > 0
    assert data["sections"]["results"]["metrics"] == 2
    assert data["findings"] == []


def test_exit_1_when_there_is_an_error(capsys, seeds):
    code, out, _ = run(capsys, "check", str(seeds["003"]), "--json")
    assert code == 1
    data = json.loads(out)
    finding = next(f for f in data["findings"] if f["rule"] == "results.no_own_section")
    assert set(finding) == {"rule", "severity", "section", "message", "span"}
    assert finding["severity"] == "error" and finding["section"] == "results"
    assert isinstance(finding["span"], list) and len(finding["span"]) == 2


def test_exit_2_when_the_file_cannot_be_read(capsys, tmp_path):
    code, out, err = run(capsys, "check", str(tmp_path / "missing.txt"), "--json")
    assert code == 2 and out == "" and "missing.txt" in err
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    code, _, err = run(capsys, "check", str(empty))
    assert code == 2 and "empty.txt" in err


def test_award_and_eligibility_window(capsys, tmp_path):
    path = tmp_path / "entry.txt"
    path.write_text(effie(), encoding="utf-8")
    code, out, _ = run(capsys, "check", str(path), "--award", "effie", "--json")
    assert code == 0 and json.loads(out)["award"] == "effie"
    code, out, _ = run(
        capsys,
        "check",
        str(path),
        "--json",
        "--eligible-from",
        "2024-01",
        "--eligible-to",
        "2024-12",
    )
    assert code == 1
    rules = [f["rule"] for f in json.loads(out)["findings"]]
    assert rules == ["fields.period_outside_window"]


def test_rich_view_names_each_finding(capsys, seeds):
    code, out, _ = run(capsys, "check", str(seeds["004"]))
    assert code == 1
    assert "document.not_entry" in out and "参考文档" in out


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.tags.add(tag)

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)


def test_html_report_is_self_contained_and_escaped(capsys, tmp_path):
    path = tmp_path / "entry.txt"
    title = "<script>alert(1)</script> 城市瓶"
    path.write_text(golden_mouse(head=(title,), drop_section="营销目标"), encoding="utf-8")
    out_file = tmp_path / "report.html"
    code, out, _ = run(capsys, "check", str(path), "--html", str(out_file))
    assert code == 1 and str(out_file) in out
    html = out_file.read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<link" not in html and "src=" not in html  # nothing to fetch
    parser = _Text()
    parser.feed(html)
    text = "".join(parser.chunks)
    assert "缺少「营销目标」章节" in text and "sections.missing" in text
    assert "证据表" in text and {"style", "table"} <= parser.tags


def test_markdown_report(capsys, tmp_path, seeds):
    out_file = tmp_path / "report.md"
    code, _, _ = run(capsys, "check", str(seeds["002"]), "--markdown", str(out_file))
    assert code == 0
    md = out_file.read_text(encoding="utf-8")
    assert md.startswith("# 完整性检查：上汽通用智能营销中枢系统")
    assert "| 营销效果与市场反馈 |" in md and "results.no_baseline" in md
    assert "## 证据表" in md


def test_usage_problems_exit_2_with_one_line(capsys, tmp_path):
    path = tmp_path / "entry.txt"
    path.write_text(golden_mouse(), encoding="utf-8")
    code, out, err = run(capsys, "check", str(path), "--award", "nosuch")
    assert code == 2 and out == "" and "nosuch" in err and len(err.strip().splitlines()) == 1
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    code, out, err = run(capsys, "check", str(path), "--html", str(blocker / "out.html"))
    assert code == 2 and "out.html" in err and "Traceback" not in err
    code, _, err = run(capsys, "check", str(path), "--section-max", "nosuch=10")
    assert code == 2 and "nosuch" in err


def test_length_limits_on_the_command_line(capsys, tmp_path):
    path = tmp_path / "entry.txt"
    path.write_text(golden_mouse(), encoding="utf-8")
    code, out, _ = run(capsys, "check", str(path), "--json", "--section-max", "results=20")
    assert code == 1
    rules = {(f["rule"], f["section"]) for f in json.loads(out)["findings"]}
    assert ("length.section_over", "results") in rules


def test_a_draft_file_is_checked(capsys, tmp_path):
    from analyzer.documents.document import draft_from_parsed, save_draft
    from analyzer.library.parse import parse_text

    draft = draft_from_parsed(parse_text(golden_mouse(), award="golden_mouse"))
    path = save_draft(draft, tmp_path / "entry.awdraft")
    code, out, _ = run(capsys, "check", str(path), "--json")
    assert code == 0 and json.loads(out)["award"] == "golden_mouse"


def test_the_markdown_report_shows_a_title_as_text(capsys, tmp_path):
    path = tmp_path / "entry.txt"
    path.write_text(golden_mouse(head=("<script>alert(1)</script>清泉",)), encoding="utf-8")
    out = tmp_path / "report.md"
    run(capsys, "check", str(path), "--markdown", str(out))
    assert "<script>" not in out.read_text(encoding="utf-8")
    assert "&lt;script&gt;" in out.read_text(encoding="utf-8")
