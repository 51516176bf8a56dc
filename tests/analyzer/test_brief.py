"""Briefs: sample files load, unknown fields and wrong types are errors that name the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analyzer.documents.brief import Brief, ResultRow, brief_from_dict, brief_to_dict, load_brief
from analyzer.errors import BriefError
from analyzer.schema import get_award

BRIEFS = Path(__file__).resolve().parents[2] / "corpus" / "briefs"


@pytest.mark.parametrize("award", ["golden_mouse", "jinqi", "tma", "effie", "generic"])
def test_every_award_has_a_sample_brief_that_loads(award: str) -> None:
    brief = load_brief(BRIEFS / f"{award}.toml")
    assert brief.award == award
    get_award(brief.award)  # a real award key
    assert brief.results and all(r.measure and r.value and r.source for r in brief.results)
    assert "示例" in brief.title  # clearly sample data


def test_a_toml_brief_reads_every_field(tmp_path: Path) -> None:
    path = tmp_path / "b.toml"
    path.write_text(
        'award = "tma"\nadvertiser = "甲公司"\nbackground = "一句背景"\n'
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


def test_typos_in_fields_are_named_against_the_award_s_header_fields(tmp_path: Path) -> None:
    path = tmp_path / "typo.toml"
    path.write_text(
        'award = "golden_mouse"\ntitle = "T"\n[fields]\nadvertizer = "X公司"\nscop = "全国"\n',
        encoding="utf-8",
    )
    with pytest.raises(BriefError) as info:
        load_brief(path)
    message = str(info.value)
    assert "typo.toml" in message and "'advertizer'" in message and "'scop'" in message
    assert "advertiser（广告主）" in message  # what the user meant is listed


def test_every_bad_key_at_every_level_is_reported_at_once() -> None:
    with pytest.raises(BriefError) as info:
        brief_from_dict(
            {
                "award": "tma",
                "objective": "x",
                "results": [{"measure": "a", "value": "1", "sorce": "s"}],
                "fields": {"scop": "全国"},
            }
        )
    message = str(info.value)
    assert all(k in message for k in ("'objective'", "results[0]", "'sorce'", "'scop'"))


def test_fields_are_checked_against_the_award_used_when_the_brief_names_none() -> None:
    from analyzer.documents.brief import check_header_fields

    brief = brief_from_dict({"fields": {"scope": "全国"}})
    check_header_fields(brief, get_award("tma"))  # TMA has 执行范围
    with pytest.raises(BriefError, match="'scope'"):
        check_header_fields(brief, get_award("golden_mouse"))


def test_each_point_of_the_brief_is_written_up_in_one_section_only() -> None:
    """艾菲's 将创意付诸实践 covers strategy too, but its insights and strategy are 洞察与策略's:
    a judge reading both sections should not meet the same point twice. Summary sections
    (项目概述) sum up everything."""
    from analyzer.schema import get_award

    brief = Brief(
        background=("背景",),
        insights=("洞察",),
        strategy=("策略",),
        creative=("创意",),
        execution=("执行",),
    )
    effie, jinqi = get_award("effie"), get_award("jinqi")
    assert list(brief.facts_for_section(effie, "insight")) == ["strategy", "creative", "insights"]
    assert list(brief.facts_for_section(effie, "ideas")) == ["execution"]
    assert list(brief.facts_for_section(jinqi, "research")) == ["insights"]
    assert "insights" not in brief.facts_for_section(jinqi, "planning")
    assert "strategy" in brief.facts_for_section(jinqi, "overview")
    # a summary draws on the first point of each field (kinds.toml [brief_lines])
    longer = Brief(
        background=("背景一", "背景二"), results=(ResultRow("阅读量", "3.2亿", "微博"),) * 2
    )
    overview = longer.facts_for_section(jinqi, "overview")
    assert overview["background"] == ("背景一",) and len(overview["results"]) == 1
