"""Briefs: sample files load, unknown fields and wrong types are errors that name the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analyzer.brief import Brief, ResultRow, brief_from_dict, brief_to_dict, load_brief
from analyzer.errors import BriefError
from analyzer.schema import get_award

BRIEFS = Path(__file__).resolve().parents[2] / "corpus" / "briefs"


@pytest.mark.parametrize("award", ["golden_mouse", "jinqi", "tma", "effie"])
def test_every_award_has_a_sample_brief_that_loads(award: str) -> None:
    brief = load_brief(BRIEFS / f"{award}.toml")
    assert brief.award == award
    get_award(brief.award)  # a real award key
    assert brief.results and all(r.measure and r.value and r.source for r in brief.results)
    assert "示例" in brief.title  # clearly sample data


def test_a_toml_brief_reads_every_field(tmp_path: Path) -> None:
    path = tmp_path / "b.toml"
    path.write_text(
        'award = "golden_mouse"\nadvertiser = "甲公司"\nbackground = "一句背景"\n'
        'objectives = ["目标一", "  ", "目标二"]\n'
        '[[results]]\nmeasure = "阅读量"\nvalue = 3200\n'
        '[fields]\nscope = "全国"\n',
        encoding="utf-8",
    )
    brief = load_brief(path)
    assert brief.background == ("一句背景",)
    assert brief.objectives == ("目标一", "目标二")
    assert brief.results == (ResultRow("阅读量", "3200", ""),)
    assert brief.header_value("scope") == "全国"
    assert (
        brief.header_value("company") == "甲公司"
    )  # jinqi's 企业名称 falls back to the advertiser


def test_a_json_brief_round_trips(tmp_path: Path) -> None:
    data = {
        "award": "effie",
        "brand": "乙品牌",
        "insights": ["洞察"],
        "results": [{"measure": "销量增长", "value": "38%", "source": "零售数据"}],
    }
    path = tmp_path / "b.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert brief_to_dict(load_brief(path)) == data


def test_unknown_fields_are_named() -> None:
    with pytest.raises(BriefError, match=r"'objective'.*'clients'|'clients'.*'objective'"):
        brief_from_dict({"objective": "x", "clients": "y", "brand": "z"})


def test_unknown_fields_in_a_result_row_are_named() -> None:
    with pytest.raises(BriefError, match=r"results\[1\].*'unit'"):
        brief_from_dict(
            {
                "results": [
                    {"measure": "a", "value": "1"},
                    {"measure": "b", "value": "2", "unit": "次"},
                ]
            }
        )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"advertiser": ["甲"]}, "'advertiser'"),
        ({"background": {"a": 1}}, "'background'"),
        ({"execution": ["ok", 3]}, r"execution\[1\]"),
        ({"results": {"measure": "a"}}, "'results'"),
        ({"results": [{"measure": "阅读量"}]}, r"results\[0\]\.value"),
        ({"fields": ["scope"]}, "'fields'"),
        ({"period": True}, "'period'"),
    ],
)
def test_wrong_types_name_the_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(BriefError, match=field):
        brief_from_dict(data)


def test_a_broken_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('award = "golden_mouse\n', encoding="utf-8")
    with pytest.raises(BriefError, match=r"broken\.toml"):
        load_brief(path)
    with pytest.raises(BriefError, match=r"missing\.toml"):
        load_brief(tmp_path / "missing.toml")


def test_facts_follow_the_section_kinds() -> None:
    brief = Brief(
        background=("背景",),
        creative=("创意",),
        results=(ResultRow("阅读量", "3.2亿", "微博"),),
    )
    assert brief.facts_for_kinds(("background",)) == {"background": ("背景",)}
    assert brief.facts_for_kinds(("execution",)) == {"creative": ("创意",)}
    assert brief.facts_for_kinds(("results",)) == {"results": ("阅读量：3.2亿（来源：微博）",)}
    assert brief.facts_for_kinds(("research",)) == {}
    assert brief.missing_for_kinds(("research",)) == ("insights",)
