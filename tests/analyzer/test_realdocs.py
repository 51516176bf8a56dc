"""Real entries as users import them, and entries in other layouts.

``realdocs/r*.txt`` are excerpts of public pages (first line ``SOURCE: <url>``, the text as the
page gave it, residue and all); ``w*``/``b*``/``n*`` were written for these tests in layouts the
excerpts do not cover (a 金投赏 page with 【】 headings and fields on one line, a 虎啸奖 entry
numbered (一), a Word export in traditional characters with a table of contents, a CIPRA entry
with 资料保存, Markdown, a WeChat repost, bilingual headings) and as documents that name the parts
of an entry without being one (an interview, judging rules, a lecture, an industry report, a
judge's column). ``realdocs/labels.json`` says what a careful reader finds in each (from
``../shared/realcases/labels.json`` for the excerpts), less two things the parser does not read:
a figure in a news intro above the entry (r14's 14个: figures are read in sections) and a field
glued into slide text with no end but the next sentence (r12's 市场区域).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from analyzer.check.engine import check_file
from analyzer.library.parse import parse_file, parse_text, source_url
from analyzer.zh.fold import fold

FIXTURES = Path(__file__).parent / "realdocs"
LABELS: dict[str, dict] = json.loads((FIXTURES / "labels.json").read_text(encoding="utf-8"))
SCHEMAS = {
    "jinqi",
    "effie",
    "golden_mouse",
    "tma",
    "changcheng",
    "topdigital",
    "cipra",
    "huxiao",
    "jintou",
}

_NUMBERING = re.compile(
    r"^\s*(?:part\s*\d|第[一二三四五六七八九十\d]{1,3}章|[（(][一二三四五六七八九十\d]{1,2}[)）]"
    r"|[一二三四五六七八九十壹贰貳叁參肆伍]{1,3}\s*[、.]|\d{1,2}\s*[、.]?)\s*",
    re.IGNORECASE,
)


_PINYIN = re.compile(r"\([a-zāáǎàōóǒòēéěèīíǐìūúǔùüǖǘǚǜ]{1,7}\)")


def _norm(text: str) -> str:
    return re.sub(r"[\s:：、/与及和“”]", "", fold(_PINYIN.sub("", text))).lower()


def _heading(text: str) -> str:
    return _norm(_NUMBERING.sub("", text, count=1))


@pytest.mark.parametrize("name", sorted(LABELS))
def test_what_a_reader_finds_the_parser_finds(name):
    want = LABELS[name]
    doc = parse_file(FIXTURES / name)
    assert doc.is_entry == want["entry"]
    values = {_norm(v) for v in doc.fields.values()}
    for text, value, *_ in want["metrics"]:
        assert any(abs(m.value - value) < 1e-6 * max(1, value) for m in doc.metrics), text
    if not want["entry"]:
        assert doc.award is None and doc.headings == ()
        assert [s.key for s in doc.sections] == ["body"]
        return
    assert doc.award == (want["award"] if want["award"] in SCHEMAS else "generic")
    found = [_heading(h.title) for h in doc.headings]
    labels = [_heading(h) for h in want["headings"]]
    assert [h for h in found if h in labels] == labels  # every heading, in order
    assert len(found) - len(labels) <= 1  # and hardly anything else
    for field, value in want["fields"].items():
        assert _norm(value) in values, field


def _doc(name: str):
    return parse_file(FIXTURES / name)


def test_a_17pr_jinqi_page_opens_the_forms_first_part_with_its_background():
    doc = _doc("r01_jinqi_tianfeng_worldcup.txt")
    assert [(s.key, s.title) for s in doc.sections] == [
        ("overview", "项目背景"),
        ("research", "项目调研"),
    ]
    assert doc.fields["案例名称"] == "天风证券“我是球探”世界杯营销案例"  # written 事件名称
    assert doc.sections[0].text.startswith("天风证券展开本次世界杯营销活动")
    assert doc.title == "天风证券“我是球探”世界杯营销案例"


def test_a_numbered_heading_run_into_a_paragraph_ends_the_text_above_it():
    doc = _doc("r03_jinqi_happyvalley_olympics.txt")
    background = doc.section("overview")
    assert background is not None and background.title == "项目背景"
    goal = next(h for h in doc.headings if h.title == "项目目标")
    assert doc.text[goal.start : goal.end] == "项目目标"
    assert doc.text[: goal.start].rstrip(" 2.").endswith("热度居高不下。")
    # 金旗奖 has no objectives part of its own: the goal stays in the part it opens with
    assert (goal.kind, goal.section, goal.opens) == ("objectives", "overview", False)
    assert "品牌洞察" not in [h.title for h in doc.headings]  # the site's category label


def test_effie_in_traditional_characters_with_pinyin_residue():
    doc = _doc("r05_effie_douyin_winterolympics_trad.txt")
    assert doc.award == "effie"
    assert [h.title for h in doc.headings] == ["挑戰、背景及目標", "背景與挑戰", "目標"]
    assert [h.kind for h in doc.headings] == ["background", "background", "objectives"]
    assert [s.key for s in doc.sections] == ["challenge"]
    assert doc.fields["参赛类别"] == "專項類/體育營銷 - 熱點事件"  # 獲獎類別, as written
    assert doc.fields["主要代理公司"] == "北京比酷天地文化股份有限公司"
    assert "(zh" not in doc.text and "(bi" not in doc.text


def test_cipra_numbered_headings_under_a_numbered_heading():
    doc = _doc("r07_cipra_gm_shanghai_autoshow.txt")
    assert doc.award == "cipra"
    assert [(h.title, h.kind, h.section) for h in doc.headings] == [
        ("项目分析", "research", "research"),
        ("核心目标", "objectives", "planning"),
        ("传播策略", "strategy", "planning"),
    ]
    assert doc.fields == {
        "项目主体": "通用汽车中国公司",
        "项目执行": "通用汽车中国公司公共关系部",
        "获奖情况": "第六届中国最佳公共关系案例大赛企业形象金奖类",
    }


def test_run_in_headings_with_colons_in_one_paragraph():
    doc = _doc("r11_case_chinamobile_worldcup_runin.txt")
    assert [(s.key, s.title) for s in doc.sections] == [
        ("background", "背景介绍"),
        ("objectives", "推广目标"),
        ("strategy", "策略"),
        ("execution", "项目执行"),
    ]
    assert all(s.text.startswith("1)") for s in doc.sections)
    assert doc.sections[0].text.endswith("巩固现有客户市场。")
    assert doc.title == "案例一:中国移动"
    assert source_url((FIXTURES / "r11_case_chinamobile_worldcup_runin.txt").read_text()) == (
        "https://m.777doc.com/doc-1632556.html"
    )


def test_slide_text_titles_glued_into_the_text():
    doc = _doc("r12_case_yili_liuxiang_runin_ppt.txt")
    titles = [h.title for h in doc.headings]
    for title in ("概况", "市场挑战", "市场机遇", "阶段性营销目标", "品牌行动背景及概述"):
        assert title in titles
    assert doc.fields["执行时间"] == "2006年7月-12月"  # 时间: in the 概况 slide


def test_unknown_headings_are_classified_by_their_words():
    doc = _doc("w02_huxiao_paren_numbered.txt")
    assert [(h.title, h.kind) for h in doc.headings] == [
        ("项目背景", "background"),
        ("营销诉求", "objectives"),
        ("活动策划", "strategy"),
        ("时间规划", "execution"),
        ("传播效果", "results"),
        ("合作亮点", "highlights"),
    ]
    assert [s.key for s in doc.sections] == [
        "background",
        "objectives",
        "strategy",
        "execution",
        "results",
        "highlights",
    ]
    doc = _doc("w04_cipra_research_cycle.txt")
    kept = doc.headings[-1]
    assert (kept.title, kept.kind, kept.section, kept.opens) == (
        "资料保存",
        "results",
        "evaluation",
        False,
    )


def test_a_table_of_contents_is_not_the_outline():
    doc = _doc("w03_word_export_traditional.txt")
    assert doc.award == "changcheng"
    assert [s.title for s in doc.sections] == [
        "營銷背景",
        "營銷目標",
        "策略與創意",
        "執行過程",
        "營銷效果",
    ]
    assert doc.sections[0].text.startswith("山城以夜景聞名")


def test_fields_on_one_line_and_in_a_pasted_table_row():
    doc = _doc("w01_jintou_brackets_oneline_fields.txt")
    assert doc.fields == {
        "品牌": "清泉饮料",
        "参赛类别": "整合营销类",
        "执行时间": "2023.05.01-2023.08.31",
    }
    assert "发布时间" not in doc.text  # the page's metadata line
    doc = _doc("b01_golden_mouse_wechat.txt")
    assert doc.fields["广告主"] == "暖心食品" and doc.fields["执行时间"] == "2020.11.01-2021.01.31"


@pytest.mark.parametrize(
    "text",
    [
        # a sub-label under a heading of its kind, numbered deeper: not a section
        "一、项目调研\n（一）调研方法\n走访42所学校。\n（二）主要发现\n图书不足。\n二、项目执行\n送书到校，共送出图书一万册。",
    ],
)
def test_sub_points_of_a_section_stay_in_it(text):
    doc = parse_text(text)
    assert [h.title for h in doc.headings] == ["项目调研", "项目执行"]


def test_checking_a_real_entry_scores_what_is_there():
    report = check_file(FIXTURES / "r01_jinqi_tianfeng_worldcup.txt")
    assert report.is_entry and report.award == "jinqi"
    assert "document.not_entry" not in {f.rule for f in report.findings}
    status = {s.key: s.status for s in report.sections}
    assert status["overview"] != "missing" and status["research"] != "missing"
    missing = {f.section for f in report.findings if f.rule == "sections.missing"}
    assert missing == {"planning", "execution", "evaluation"}
    assert 0 < report.score < 100


def test_documents_about_entries_stay_reference_documents():
    for name in ("n02_judging_rules.txt", "n03_lecture_notes.txt", "b06_industry_report.txt"):
        report = check_file(FIXTURES / name)
        assert not report.is_entry, name
