"""The completeness check: seeds, one-thing-removed entries, objectives ↔ results, award rules."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from check_entries import (
    EFFIE_SECTIONS,
    GOLDEN_MOUSE_SECTIONS,
    effie,
    golden_mouse,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer.check import Eligibility, check_document, check_file, rule, rules_for
from analyzer.check.findings import Finding, Report
from analyzer.check.registry import _RULES
from analyzer.library.parse import parse_text
from analyzer.library.store import Library
from analyzer.schema import get_award, load_awards


def check(text: str, award: str | None = None, **kwargs: object) -> Report:
    return check_document(
        parse_text(text, award=award),
        schema=get_award(award) if award else None,
        **kwargs,  # type: ignore[arg-type]
    )


def found(report: Report) -> set[tuple[str, str]]:
    return {(f.rule, f.section) for f in report.findings}


def cut(report: Report, finding: Finding) -> str:
    """The text a finding points at."""
    assert finding.span is not None, finding
    return report.text[finding.span[0] : finding.span[1]]


def only(report: Report, rule_id: str) -> Finding:
    hits = [f for f in report.findings if f.rule == rule_id]
    assert len(hits) == 1, report.findings
    return hits[0]


# ---------------------------------------------------------------- seeds


@pytest.mark.parametrize("seed", ["000", "002"])
def test_golden_mouse_seeds_have_every_section(seeds, seed):
    report = check_file(seeds[seed])
    assert report.award == "golden_mouse" and report.is_entry
    assert {s.key: s.present for s in report.sections} == {
        "background": True,
        "objectives": True,
        "strategy": True,
        "execution": True,
        "results": True,
    }
    assert not [f for f in report.findings if f.rule.startswith("sections.")]
    assert report.ok  # nothing a judge rejects outright
    assert report.sections[-1].metrics >= 5  # the results carry their figures


def test_seed_003_results_without_their_own_section(seeds):
    report = check_file(seeds["003"])
    assert report.award == "tma"
    finding = only(report, "results.no_own_section")
    assert finding.severity == "error" and finding.section == "results"
    assert "传播执行" in finding.message and "营销效果" in finding.message
    execution = next(s for s in parse_text(report.text).sections if s.key == "execution")
    start, end = finding.span or (0, 0)
    assert execution.start < start < end <= execution.end  # its closing paragraphs
    assert "450亿" in report.text[start:end]
    assert ("sections.missing", "results") not in found(report)
    results = next(s for s in report.sections if s.key == "results")
    assert (results.present, results.status, results.metrics) == (False, "elsewhere", 5)


def test_seed_004_is_not_an_entry(seeds):
    report = check_file(seeds["004"])
    assert not report.is_entry and report.score == 0
    assert [f.rule for f in report.findings] == ["document.not_entry"]
    assert "参考文档" in report.findings[0].message
    assert not report.ok and report.evidence == ()


def test_seed_002_unsupported_first_and_changes_without_baseline(seeds):
    report = check_file(seeds["002"])
    claims = [f for f in report.findings if f.rule == "claims.unsupported"]
    # "超过 20+ 主流媒体…领跑行业": a count of media proves no lead
    assert {(f.section, cut(report, f)) for f in claims} == {
        ("strategy", "首创"),
        ("results", "领跑"),
    }
    baselines = [f for f in report.findings if f.rule == "results.no_baseline"]
    assert {cut(report, f) for f in baselines} == {"48%", "17%", "24%+"}
    assert all(f.section == "results" and f.severity == "warning" for f in baselines)


# ---------------------------------------------------------------- one thing removed


def test_complete_entries_have_no_findings():
    for text, award in ((golden_mouse(), "golden_mouse"), (effie(), "effie")):
        report = check(text)
        assert report.award == award
        assert report.findings == () and report.score == 100


@pytest.mark.parametrize(
    ("heading", "key"),
    [
        ("营销背景", "background"),
        ("营销目标", "objectives"),
        ("策略与创意", "strategy"),
        ("执行过程/媒体表现", "execution"),
    ],
)
def test_missing_section(heading, key):
    report = check(golden_mouse(drop_section=heading), "golden_mouse")
    assert found(report) == {("sections.missing", key)}
    finding = report.findings[0]
    assert finding.severity == "error" and f"「{heading}」" in finding.message
    assert next(s for s in report.sections if s.key == key).status == "missing"


def test_missing_results_section_with_no_results_anywhere():
    report = check(golden_mouse(drop_section="营销效果与市场反馈"), "golden_mouse")
    assert found(report) == {("sections.missing", "results")}
    assert report.cap is not None and report.cap.raw == 80  # one of five equal sections
    assert report.score == 70  # and an error keeps it at 70 until it is fixed


@pytest.mark.parametrize(
    ("field", "key"), [("执行时间", "period"), ("广告主", "advertiser"), ("参选类别", "category")]
)
def test_missing_field(field, key):
    report = check(golden_mouse(drop_field=field), "golden_mouse")
    assert found(report) == {("fields.missing", "")}
    assert f"「{field}」" in report.findings[0].message
    assert report.findings[0].severity == "error"


def test_results_without_metrics():
    qualitative = "活动在年轻人中引发了热烈讨论，很多用户自发分享自己城市的限定瓶，品牌好评如潮，经销商反馈积极。"
    report = check(golden_mouse(replace={"营销效果与市场反馈": qualitative}), "golden_mouse")
    assert found(report) == {("results.no_metrics", "results")}
    assert "没有量化指标" in report.findings[0].message
    assert report.findings[0].message.startswith("营销效果与市场反馈：")


def test_effie_figure_without_source():
    results = EFFIE_SECTIONS["效果"].replace("，数据来源：尼尔森零售监测", "")
    report = check(effie(replace={"效果": results}), "effie")
    assert found(report) == {("results.no_source", "results")}
    finding = report.findings[0]
    assert finding.severity == "error" and "35%" in finding.message
    assert cut(report, finding) == "35%"


def test_a_source_note_after_the_figures_sources_them():
    results = "年轻人知名度从 12% 提升到 27%。\n夏季销量同比增长 35%。\n以上数据来源：凯度调研与尼尔森零售监测。"
    assert check(effie(replace={"效果": results}), "effie").findings == ()


def test_golden_mouse_does_not_demand_a_source_per_figure():
    results = "活动总曝光量达 1.2 亿次，互动量 150 万次，超额完成目标，品牌声量在夏季达到全年高点。"
    report = check(golden_mouse(replace={"营销效果与市场反馈": results}), "golden_mouse")
    assert found(report) == {("results.no_source", "results")}
    assert report.findings[0].severity == "suggestion"


def test_empty_and_thin_sections():
    report = check(golden_mouse(replace={"策略与创意": "城市限定瓶。"}), "golden_mouse")
    assert found(report) == {("sections.thin", "strategy")}
    assert "至少 50 字" in report.findings[0].message  # a strategy needs more than objectives
    short_goal = "活动期曝光达到 1 亿次，互动达到 100 万次。"  # 20+ characters are enough here
    assert check(golden_mouse(replace={"营销目标": short_goal}), "golden_mouse").findings == ()
    text = golden_mouse().replace(GOLDEN_MOUSE_SECTIONS["策略与创意"], "")
    report = check(text, "golden_mouse")
    assert found(report) == {("sections.empty", "strategy")}
    assert next(s for s in report.sections if s.key == "strategy").status == "empty"


def test_sections_out_of_order():
    order = ["营销背景", "策略与创意", "营销目标", "执行过程/媒体表现", "营销效果与市场反馈"]
    report = check(golden_mouse(order=order), "golden_mouse")
    assert len(report.findings) == 1
    assert report.findings[0].rule == "sections.order"
    assert report.findings[0].section in {"objectives", "strategy"}


def test_text_that_belongs_to_no_section():
    stray = (
        "本案例由项目组整理，内容包括活动的整体思路、主要物料与媒体排期，以及活动期间的部分用户反馈，"
        "供评审参考，更多素材见附件。"
    )
    report = check(golden_mouse(head=("清泉城市瓶夏日营销", stray)), "golden_mouse")
    assert found(report) == {("sections.unassigned_text", "")}
    assert cut(report, report.findings[0]) == stray


# ---------------------------------------------------------------- fields


def test_period_not_a_date_range():
    fields = {"执行时间": "2023年夏天"}
    report = check(golden_mouse(drop_field="执行时间", extra_fields=fields), "golden_mouse")
    assert found(report) == {("fields.period_malformed", "")}
    assert "2023年夏天" in cut(report, report.findings[0])


def test_period_outside_the_eligibility_window():
    text = golden_mouse()
    inside = Eligibility(date(2023, 1, 1), date(2023, 12, 31))
    assert check(text, "golden_mouse", eligibility=inside).findings == ()
    outside = Eligibility(date(2024, 1, 1), date(2024, 12, 31))
    report = check(text, "golden_mouse", eligibility=outside)
    assert found(report) == {("fields.period_outside_window", "")}
    assert report.findings[0].severity == "error" and "2024-01-01" in report.findings[0].message
    partly = Eligibility(date(2023, 7, 1), None)
    report = check(text, "golden_mouse", eligibility=partly)
    assert [(f.rule, f.severity) for f in report.findings] == [
        ("fields.period_outside_window", "warning")
    ]


# ---------------------------------------------------------------- objectives ↔ results


def test_objective_without_a_result_and_result_without_an_objective():
    objectives = "让更多年轻人在夏天想起清泉：活动期曝光达到 1 亿次，并提升夏季销量，拉动便利店渠道的销售额。"
    results = "活动总曝光量达 1.2 亿次，话题播放量 3000 万次。数据来源：第三方监测平台，截至 2023 年 8 月 31 日。"
    report = check(
        golden_mouse(replace={"营销目标": objectives, "营销效果与市场反馈": results}),
        "golden_mouse",
    )
    assert found(report) == {
        ("alignment.objective_unmatched", "objectives"),
        ("alignment.result_unmatched", "results"),
    }
    objective = only(report, "alignment.objective_unmatched")
    assert "销量" in objective.message and "提升夏季销量" in cut(report, objective)
    unmatched = only(report, "alignment.result_unmatched")
    assert cut(report, unmatched) == "3000 万次" and "阅读" in unmatched.message


def test_objectives_with_no_measure():
    vague = "让年轻人喜欢清泉这个品牌，把清泉塑造成夏天的符号，传递积极向上的生活态度与城市精神。"
    report = check(golden_mouse(replace={"营销目标": vague}), "golden_mouse")
    assert found(report) == {("alignment.objectives_not_measurable", "objectives")}


def test_evidence_table_rows_show_gaps():
    report = check(golden_mouse(), "golden_mouse")
    goal = next(r for r in report.evidence if r.criterion.startswith("目标"))
    assert set(goal.metrics) == {"1.2 亿次", "150 万次"}
    assert all(s.startswith("数据来源") for s in goal.sources)
    missing = check(golden_mouse(drop_section="营销效果与市场反馈"), "golden_mouse")
    row = next(r for r in missing.evidence if r.section == "results")
    assert row.metrics == () and "缺少章节" in row.criterion


# ---------------------------------------------------------------- claims and award rules


def test_claim_needs_evidence_in_its_sentence():
    strategy = GOLDEN_MOUSE_SECTIONS["策略与创意"] + "这是行业首创的城市瓶玩法。"
    report = check(golden_mouse(replace={"策略与创意": strategy}), "golden_mouse")
    assert found(report) == {("claims.unsupported", "strategy")}
    assert cut(report, report.findings[0]) == "行业首创"
    backed = GOLDEN_MOUSE_SECTIONS["策略与创意"] + "城市瓶首发当天售出 20 万瓶，位列品类第一名。"
    assert check(golden_mouse(replace={"策略与创意": backed}), "golden_mouse").findings == ()


def test_change_without_baseline():
    results = (
        GOLDEN_MOUSE_SECTIONS["营销效果与市场反馈"] + "\n互动率提升 35%，数据来源：第三方监测平台。"
    )
    report = check(golden_mouse(replace={"营销效果与市场反馈": results}), "golden_mouse")
    assert found(report) == {("results.no_baseline", "results")}
    assert "互动率提升 35%" in report.findings[0].message
    fixed = results.replace("互动率提升", "互动率同比提升")
    assert check(golden_mouse(replace={"营销效果与市场反馈": fixed}), "golden_mouse").findings == ()


def test_agency_names_in_an_effie_entry():
    text = effie(extra_fields={"代理公司": "上海蓝海广告有限公司"})
    report = check(text, "effie")
    assert found(report) == {("award.agency_name", "")}
    assert cut(report, report.findings[0]) == "代理公司：上海蓝海广告有限公司"
    insight = EFFIE_SECTIONS["洞察与策略"] + "我司团队走访了十座城市。"
    report = check(effie(replace={"洞察与策略": insight}), "effie")
    assert found(report) == {("award.agency_name", "insight")}
    assert cut(report, report.findings[0]) == "我司"
    ideas = EFFIE_SECTIONS["将创意付诸实践"] + "物料由北京星火传播有限公司制作。"
    report = check(effie(replace={"将创意付诸实践": ideas}), "effie")
    assert found(report) == {("award.agency_name", "ideas")}
    assert cut(report, report.findings[0]) == "北京星火传播有限公司"


def test_agency_field_is_fine_where_the_award_allows_it():
    text = golden_mouse(extra_fields={"代理公司": "上海蓝海广告有限公司"})
    assert check(text, "golden_mouse").findings == ()


def test_length_limits_come_from_the_schema():
    schema = get_award("golden_mouse")
    limited = dataclasses.replace(
        schema,
        sections=tuple(
            dataclasses.replace(s, max_chars=30) if s.key == "background" else s
            for s in schema.sections
        ),
        max_total_chars=200,
    )
    report = check_document(parse_text(golden_mouse(), award="golden_mouse"), schema=limited)
    assert found(report) == {("length.section_over", "background"), ("length.total_over", "")}
    assert "上限 30 字" in only(report, "length.section_over").message


# ---------------------------------------------------------------- score and weights


def test_score_follows_the_award_weights():
    report = check(effie(), "effie")
    assert [round(s.weight, 1) for s in report.sections] == [23.3, 23.3, 23.3, 30.0]
    no_results = check(effie(drop_section="效果"), "effie")
    assert no_results.cap is not None and no_results.cap.raw == 70  # Effie weighs results 30 %
    no_insight = check(effie(drop_section="洞察与策略"), "effie")
    assert no_insight.cap is not None and no_insight.cap.raw == 77
    assert no_insight.score == 70  # the missing section is an error: capped until it is there
    gm = check(golden_mouse(), "golden_mouse")
    assert {round(s.weight) for s in gm.sections} == {20}  # equal when the schema gives none


def test_checking_against_another_award_reparses():
    doc = parse_text(golden_mouse(), award="golden_mouse")
    report = check_document(doc, schema=get_award("effie"))
    assert report.award == "effie"
    assert [s.key for s in report.sections] == ["challenge", "insight", "ideas", "results"]
    # the 金鼠标 headings are read by what they say, and each is named as not Effie's own
    differs = [f for f in report.findings if f.rule == "sections.heading_differs"]
    assert {f.section for f in differs} == {"challenge", "insight", "ideas", "results"}
    assert any("「营销背景」不是艾菲奖的章节标题" in f.message for f in differs)
    assert "sections.heading_differs" not in {
        f.rule for f in check_document(doc, schema=get_award("golden_mouse")).findings
    }


# ---------------------------------------------------------------- library comparison


def test_library_suggests_measures_similar_winners_report(tmp_path):
    lib = Library(tmp_path / "lib")
    for i, extra in enumerate(("转发 3 万次", "转化订单 2 万单", "转发 5 万次，转化订单 1 万单")):
        results = (
            f"活动总曝光量达 {i + 2} 亿次，互动量 {i + 1}00 万次，{extra}。数据来源：第三方监测。"
        )
        text = golden_mouse(replace={"营销效果与市场反馈": results})
        lib.add_parsed(f"case{i}.txt", parse_text(text, award="golden_mouse"))
        if i == 0:  # one similar case says nothing about what is usual
            report = check(golden_mouse(), "golden_mouse", library=lib)
            assert "library.missing_measures" not in {f.rule for f in report.findings}
    report = check(golden_mouse(), "golden_mouse", library=lib)
    finding = only(report, "library.missing_measures")
    assert finding.severity == "suggestion" and finding.section == "results"
    assert "转化（2/3）" in finding.message
    assert "互动" not in finding.message.split("通常报告")[1].split("，本案例")[0]
    assert "library.missing_measures" not in {f.rule for f in check(golden_mouse()).findings}
    lib.close()


def test_drafts_in_the_library_are_not_cases_to_compare_with(tmp_path):
    lib = Library(tmp_path / "lib")
    for i in range(3):
        results = f"活动总曝光量达 {i + 2} 亿次，转化订单 {i + 1} 万单。数据来源：第三方监测。"
        text = golden_mouse(replace={"营销效果与市场反馈": results})
        lib.add_parsed(f"draft{i}.awdraft", parse_text(text, award="golden_mouse"))
    assert "library.missing_measures" not in found_rules(check(golden_mouse(), library=lib))
    lib.add_parsed("case.txt", parse_text(golden_mouse(replace={"营销效果与市场反馈": results})))
    lib.add_parsed("case2.txt", parse_text(golden_mouse(replace={"营销效果与市场反馈": results})))
    assert "library.missing_measures" in found_rules(check(golden_mouse(), library=lib))
    lib.close()


def found_rules(report: Report) -> set[str]:
    return {f.rule for f in report.findings}


# ---------------------------------------------------------------- registry


def test_a_rule_registered_for_one_award_runs_only_there():
    @rule("test.effie_only", awards="effie")
    def effie_only(ctx):
        yield ctx.suggestion("", "只为艾菲奖运行的规则。")

    try:
        assert any(r.id == "test.effie_only" for r in rules_for("effie"))
        assert not any(r.id == "test.effie_only" for r in rules_for("golden_mouse"))
        assert found(check(effie(), "effie")) == {("test.effie_only", "")}
        assert check(golden_mouse(), "golden_mouse").findings == ()
    finally:
        del _RULES["test.effie_only"]


def test_every_award_schema_checks_its_own_complete_skeleton():
    for schema in load_awards().values():
        lines = ["某品牌夏日营销"]
        lines += [f"{f.title}：2023.06.01-2023.08.31" for f in schema.fields if f.type == "period"]
        lines += [f"{f.title}：某某" for f in schema.fields if f.type != "period"]
        for s in schema.sections:
            lines += [s.title, "活动期间曝光量达 1.2 亿次，数据来源：第三方监测。" * 2]
        report = check("\n".join(lines), schema.key)
        assert not [f for f in report.findings if f.rule.startswith(("sections.", "fields."))], (
            schema.key,
            report.findings,
        )


# ---------------------------------------------------------------- never crash


_PIECES = st.sampled_from(
    [
        "营销背景",
        "营销目标",
        "效果",
        "营销效果与市场反馈",
        "挑战/背景/目标",
        "执行时间：2019.07.12-09.19",
        "执行时间：",
        "广告主：华为",
        "代理公司：某某广告有限公司",
        "我司",
        "提升 48%",
        "同比增长157%",
        "3000 万+",
        "数据来源：",
        "行业首创",
        "第一",
        "，",
        "。",
        "\n",
        "\n\n",
        " ",
        "【",
        "】",
        "：",
        "2019年7月-9月",
        "至今",
        "从 12% 提升到 27%",
        "奥美",
        "营销背景\n",
        "<b>&",
    ]
)
_WINDOWS = st.one_of(
    st.none(),
    st.builds(
        Eligibility,
        st.none() | st.just(date(2019, 1, 1)),
        st.none() | st.just(date(2019, 12, 31)),
    ),
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(st.one_of(_PIECES, st.text(max_size=12)), max_size=40), _WINDOWS)
def test_check_never_raises(pieces, window):
    from analyzer.check.render import to_html, to_json, to_markdown

    text = "".join(pieces)
    report = check_document(parse_text(text), eligibility=window)
    assert 0 <= report.score <= 100
    for f in report.findings:
        assert f.span is None or 0 <= f.span[0] <= f.span[1] <= len(report.text)
    for render in (to_json, to_markdown, to_html):
        assert render(report)  # every report renders


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300), st.sampled_from(sorted(load_awards())))
def test_check_never_raises_with_a_named_award(text, award):
    report = check_document(parse_text(text, award=award), schema=get_award(award))
    assert report.award == award


# ---------------------------------------------------------------- sources, targets, evidence


@pytest.mark.parametrize(
    "results",
    [
        "年轻人知名度从 12% 提升到 27%（数据来源：凯度 2023 年 9 月调研）。\n"
        "夏季销量同比增长 35%，截至 2023 年 8 月底。",  # a date is not a source
        "年轻人知名度从 12% 提升到 27%（数据来源：凯度 2023 年 9 月调研）。\n"
        "我们持续监测投放，夏季销量同比增长 35%。",  # naming no one is not a source
    ],
)
def test_a_date_or_a_vague_word_is_not_a_source(results):
    report = check(effie(replace={"效果": results}), "effie")
    finding = only(report, "results.no_source")
    assert cut(report, finding) == "35%" and finding.severity == "error"


def test_named_providers_and_back_office_data_are_sources():
    for cue in (
        "据尼尔森零售监测",
        "经秒针第三方监测",
        "品牌后台数据显示",
        "数据来自品牌 POS 系统",
    ):
        results = (
            f"年轻人知名度从 12% 提升到 27%（数据来源：凯度调研）。\n{cue}，夏季销量同比增长 35%。"
        )
        assert check(effie(replace={"效果": results}), "effie").findings == (), cue


def test_a_fact_in_an_objective_sentence_still_needs_its_source():
    challenge = (
        "夏季饮料市场竞争激烈，清泉在年轻人中的知名度只有 12%，我们的目标是把年轻人知名度提升到 25%，"
        "并让夏季销量同比增长 30%。"
    )
    report = check(effie(replace={"挑战/背景/目标": challenge}), "effie")
    finding = only(report, "results.no_source")
    assert finding.section == "challenge" and cut(report, finding) == "12%"  # 25%, 30% are targets


def test_evidence_shows_the_value_reached_and_no_targets_as_data():
    report = check(effie(), "effie")
    goal = next(r for r in report.evidence if r.criterion.startswith("目标"))
    assert "27%" in goal.metrics and "12%" not in goal.metrics  # 从 12% 提升到 27%
    data = next(r for r in report.evidence if r.criterion.endswith("文中数据"))
    assert data.metrics == ("12%",)  # the fact, not the targets 25% and 30%


# ---------------------------------------------------------------- objectives, precisely


def test_a_precise_objective_is_not_answered_by_its_broad_measure():
    objectives = "活动期曝光达到 1 亿次，并把老客复购率提升到 20%。"
    results = "活动总曝光量达 1.2 亿次，夏季销量同比增长 35%。数据来源：第三方监测平台。"
    report = check(
        golden_mouse(replace={"营销目标": objectives, "营销效果与市场反馈": results}),
        "golden_mouse",
    )
    finding = only(report, "alignment.objective_unmatched")
    assert "复购" in finding.message and "复购率提升到 20%" in cut(report, finding)
    answered = results + "\n老客复购率达到 22%，数据来源：品牌会员系统。"
    report = check(
        golden_mouse(replace={"营销目标": objectives, "营销效果与市场反馈": answered}),
        "golden_mouse",
    )
    assert "alignment.objective_unmatched" not in {f.rule for f in report.findings}


def test_store_traffic_objectives_are_answered_by_foot_traffic_and_quoted_without_list_marks():
    """A tea brand's "拉动门店客流" is answered by its 客流 figure, not left as unmatched; the
    finding on the part nobody answered (点单) quotes the objective without its "- "."""
    objectives = "- 借夏季限定产品拉动门店客流和小程序点单。"
    results = "- 活动期门店客流同比增长 27%（来源：品牌 POS 系统）。"
    report = check(
        golden_mouse(replace={"营销目标": objectives, "营销效果与市场反馈": results}),
        "golden_mouse",
    )
    row = next(r for r in report.evidence if r.criterion.startswith("目标"))
    assert row.criterion == "目标：借夏季限定产品拉动门店客流和小程序点单"
    assert row.metrics == ("27%",)
    finding = only(report, "alignment.objective_unmatched")
    assert "“借夏季" in finding.message
    assert "有客流的数据，但没有转化的数据" in finding.message  # what is answered, what is left
    assert cut(report, finding) == "借夏季限定产品拉动门店客流和小程序点单"


def test_market_share_is_a_measure_objectives_can_name():
    challenge = EFFIE_SECTIONS["挑战/背景/目标"] + "同时希望市场份额提升到 15%。"
    report = check(effie(replace={"挑战/背景/目标": challenge}), "effie")
    finding = only(report, "alignment.objective_unmatched")
    assert "市场份额" in finding.message


def test_a_target_with_no_measure_named_is_reported():
    objectives = "活动期曝光达到 1 亿次，互动达到 100 万次，整体提升到原来的 3 倍。"
    report = check(golden_mouse(replace={"营销目标": objectives}), "golden_mouse")
    finding = only(report, "alignment.objective_unclear")
    assert "整体提升到原来的 3 倍" in cut(report, finding)


# ---------------------------------------------------------------- agencies, awards, limits


def test_well_known_agencies_and_agency_teams_are_named_as_such():
    for sentence, name in (
        ("由奥美负责创意，电通安吉斯负责媒介投放。", "奥美"),
        ("蓝海广告团队负责全部物料。", "蓝海广告团队"),
    ):
        ideas = EFFIE_SECTIONS["将创意付诸实践"] + sentence
        report = check(effie(replace={"将创意付诸实践": ideas}), "effie")
        errors = [f for f in report.findings if f.rule == "award.agency_name"]
        assert errors and all(f.severity == "error" for f in errors), sentence
        assert cut(report, errors[0]) == name
    both = check(
        effie(replace={"将创意付诸实践": EFFIE_SECTIONS["将创意付诸实践"] + "由电通安吉斯执行。"}),
        "effie",
    )
    assert [cut(both, f) for f in both.findings] == ["电通安吉斯"]  # one agency, one finding


def test_media_owners_are_not_agencies_and_other_companies_only_warn():
    media = EFFIE_SECTIONS["将创意付诸实践"] + "同时在分众传媒集团的电梯屏投放广告。"
    assert check(effie(replace={"将创意付诸实践": media}), "effie").findings == ()
    maker = EFFIE_SECTIONS["将创意付诸实践"] + "互动小程序由杭州星河网络科技有限公司开发。"
    report = check(effie(replace={"将创意付诸实践": maker}), "effie")
    finding = only(report, "award.agency_name")
    assert finding.severity == "warning" and cut(report, finding) == "杭州星河网络科技有限公司"


def test_topdigital_demands_a_source_for_every_result():
    text = golden_mouse(
        head=("TopDigital创新营销奖参赛案例", "清泉城市瓶夏日营销"),
        replace={"营销效果与市场反馈": "活动总曝光量达 1.2 亿次，互动量 150 万次，超额完成目标。"},
    )
    report = check(text)
    assert report.award == "topdigital"
    finding = only(report, "results.no_source")
    assert finding.severity == "error" and "1.2 亿次" in finding.message


def test_changcheng_entries_are_read_as_such_and_ban_partner_names():
    text = golden_mouse(
        head=("2025 商业广告长城奖 营销案例", "清泉城市瓶夏日营销"),
        replace={"执行过程/媒体表现": GOLDEN_MOUSE_SECTIONS["执行过程/媒体表现"] + "由奥美执行。"},
    )
    report = check(text)
    assert report.award == "changcheng"
    assert {s.key for s in report.sections if s.present} >= {
        "background",
        "objectives",
        "strategy",
        "execution",
        "results",
    }
    assert ("award.agency_name", "execution") in found(report)


def test_length_limits_given_by_the_user(tmp_path):
    path = tmp_path / "entry.txt"
    path.write_text(golden_mouse(), encoding="utf-8")
    report = check_file(path, max_total_chars=100, max_section_chars={"results": 20})
    assert {"length.total_over", "length.section_over"} <= {f.rule for f in report.findings}
    with pytest.raises(ValueError, match="nosuch"):
        check_file(path, max_section_chars={"nosuch": 20})


def test_a_saved_draft_checks_like_the_entry_it_holds(tmp_path):
    from analyzer.documents.document import draft_from_parsed, save_draft

    draft = draft_from_parsed(
        parse_text(golden_mouse(drop_section="营销目标"), award="golden_mouse")
    )
    path = save_draft(draft, tmp_path / "entry.awdraft")
    report = check_file(path)
    assert report.award == "golden_mouse"
    assert ("sections.missing", "objectives") in found(report) or (
        "sections.empty",
        "objectives",
    ) in found(report)


@pytest.mark.parametrize(
    "period, words",
    [
        ("2023.06.01-至今", "至今"),
        ("2023.08.31-2023.06.01", "早于"),
        ("2023.02.30-2023.03.31", "不存在"),
    ],
)
def test_a_period_that_is_not_one_says_why(period, words):
    text = golden_mouse(replace={}, extra_fields={"执行时间": period})
    finding = only(check(text, "golden_mouse"), "fields.period_malformed")
    assert words in finding.message and period in finding.message


def test_a_month_long_period_ends_on_the_months_last_day():
    text = golden_mouse(extra_fields={"执行时间": "2019年7月-9月"})
    window = Eligibility(date(2019, 9, 30), date(2020, 6, 30))
    report = check(text, "golden_mouse", eligibility=window)
    finding = only(report, "fields.period_outside_window")
    assert finding.severity == "warning"  # partly inside (September 30), not entirely outside


def test_a_claim_needs_a_ranking_share_or_source_nearby_not_any_number():
    number = GOLDEN_MOUSE_SECTIONS["策略与创意"] + "联合 30 位达人，打造行业首创的城市瓶玩法。"
    report = check(golden_mouse(replace={"策略与创意": number}), "golden_mouse")
    assert cut(report, only(report, "claims.unsupported")) == "行业首创"
    next_sentence = (
        GOLDEN_MOUSE_SECTIONS["策略与创意"] + "话题登上热搜第一。（来源：微博热搜榜截图）"
    )
    assert check(golden_mouse(replace={"策略与创意": next_sentence}), "golden_mouse").findings == ()
    first_time = GOLDEN_MOUSE_SECTIONS["策略与创意"] + "品牌首次入驻小红书，开设官方账号。"
    assert check(golden_mouse(replace={"策略与创意": first_time}), "golden_mouse").findings == ()


def test_heading_findings_point_at_the_heading_line():
    report = check(golden_mouse(replace={"营销目标": ""}), "golden_mouse")
    assert cut(report, only(report, "sections.empty")) == "营销目标"
    shuffled = ["营销背景", "策略与创意", "营销目标", "执行过程/媒体表现", "营销效果与市场反馈"]
    report = check(golden_mouse(order=shuffled), "golden_mouse")
    assert cut(report, only(report, "sections.order")) in {"营销目标", "策略与创意"}


def test_with_a_search_index_only_the_most_similar_cases_count(tmp_path):
    from search_fakes import FakeEmbedder

    from analyzer.search.index import open_index

    lib = Library(tmp_path / "lib")
    drinks = "清泉饮料夏日城市限定瓶，便利店铺货，抖音小红书挑战赛"
    cars = "新能源汽车试驾预约，经销商留资线索，汽车垂直媒体投放"
    cases = [
        (drinks, "夏季销量同比增长 35%，销售额 2 亿元。"),
        (drinks + "，城市瓶", "夏季销量同比增长 20%，复购率 18%。"),
        (cars, "收集销售线索 3 万条，转化订单 2000 单。"),
        (cars + "，试驾", "收集销售线索 5 万条，转化订单 4000 单。"),
    ]
    for i, (story, results) in enumerate(cases):
        brand = "清泉饮料" if story.startswith("清泉") else "远航汽车"
        text = golden_mouse(
            head=(story[:8],),
            extra_fields={"广告主": brand, "所属行业": "快消" if brand == "清泉饮料" else "汽车"},
            replace={"营销背景": story * 3, "营销目标": story * 2, "策略与创意": story * 3,
                     "执行过程/媒体表现": story * 3,
                     "营销效果与市场反馈": results + "数据来源：第三方监测。"},
        )  # fmt: skip
        lib.add_parsed(f"case{i}.txt", parse_text(text, award="golden_mouse"))
    entry = golden_mouse(
        head=(drinks[:8],),
        replace={"营销背景": drinks * 3, "营销目标": drinks * 2, "策略与创意": drinks * 3,
                 "执行过程/媒体表现": drinks * 3},
    )  # fmt: skip
    without_index = only(check(entry, "golden_mouse", library=lib), "library.missing_measures")
    assert "转化" in without_index.message  # every Golden Mouse case of the library counts
    open_index(lib.home).update(lib, FakeEmbedder())
    finding = only(check(entry, "golden_mouse", library=lib), "library.missing_measures")
    assert "最相似" in finding.message and "销量（2/2）" in finding.message
    assert "转化" not in finding.message  # the car cases are not like this entry
    lib.close()


def test_a_heading_written_twice_is_reported():
    text = golden_mouse() + "\n营销背景\n补充一点背景：夏季是饮料旺季。\n"
    report = check(text, "golden_mouse")
    finding = only(report, "sections.duplicate")
    assert finding.section == "results" and cut(report, finding) == "营销背景"


def test_a_section_heading_repeated_inside_its_own_section_is_reported():
    again = "\n营销效果与市场反馈\n消费者反馈热烈，很多人晒出自己城市的限定瓶。\n"
    report = check(golden_mouse() + again, "golden_mouse")
    finding = only(report, "sections.duplicate")
    assert finding.section == "results" and cut(report, finding) == "营销效果与市场反馈"
    assert "又写了一次" in finding.message


def test_the_awards_own_weights_are_reported():
    report = check(effie(), "effie")
    assert [s.to_json()["weight"] for s in report.sections] == [23.3, 23.3, 23.3, 30.0]


def test_a_disqualifying_error_keeps_the_score_below_half():
    text = effie(extra_fields={"代理公司": "上海蓝海广告有限公司"})
    report = check(text, "effie")
    assert not report.ok and report.score <= 50
    window = Eligibility(date(2024, 1, 1), date(2024, 12, 31))
    assert check(effie(), "effie", eligibility=window).score <= 50  # ran entirely in 2023


def test_a_reference_document_shows_optional_sections_as_optional(seeds):
    report = check_file(seeds["004"], "golden_mouse")
    statuses = {s.key: s.status for s in report.sections}
    assert set(statuses.values()) == {"missing"}  # every Golden Mouse section is required
    report = check_file(seeds["004"], "generic")
    assert {s.key: s.status for s in report.sections}["overview"] == "absent"


def test_a_rule_with_very_many_findings_is_summed_up():
    claims = "".join(f"第{i}段是行业首创。\n" for i in range(1, 80))
    report = check(
        golden_mouse(replace={"策略与创意": GOLDEN_MOUSE_SECTIONS["策略与创意"] + claims})
    )
    listed = [f for f in report.findings if f.rule == "claims.unsupported"]
    assert len(listed) == 31 and "还有 49 处" in listed[-1].message  # listed after the 30
