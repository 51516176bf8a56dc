"""Drafts are documents: saved atomically, autosaved, recovered after a crash, award switchable."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from analyzer.atomicfile import atomic_write
from analyzer.documents.autosave import Autosave
from analyzer.documents.document import DraftDocument, load_draft, save_draft
from analyzer.errors import ReadError
from analyzer.library.exemplar import Exemplar


def sample() -> DraftDocument:
    d = DraftDocument.new("golden_mouse", title="华为云 AI 垃圾分类大赛")
    d = replace(d, fields={**d.fields, "advertiser": "华为", "period": "2018/04~2019/03"})
    d = d.with_section("background", "垃圾分类成为社会热点。")
    d = d.with_section("results", "曝光 3000 万+，参赛团队 500 支。")
    return replace(
        d,
        brief={"results": [{"measure": "曝光", "value": "3000 万+", "source": "平台后台"}]},
        exemplars=(Exemplar("范例段落", case_id=3, title="上汽通用", section="results"),),
    )


def test_new_draft_has_the_awards_sections_in_order() -> None:
    d = DraftDocument.new("golden_mouse")
    assert [s.title for s in d.sections] == [
        "营销背景",
        "营销目标",
        "策略与创意",
        "执行过程/媒体表现",
        "营销效果与市场反馈",
    ]
    assert "advertiser" in d.fields and d.is_empty


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    d = sample()
    path = save_draft(d, tmp_path / "entry")
    assert path.suffix == ".awdraft"
    assert load_draft(path) == d


def test_a_section_stopped_part_way_stays_marked_in_the_file(tmp_path: Path) -> None:
    from analyzer.documents.document import STOPPED, DocumentSection

    d = sample()
    d = replace(
        d,
        sections=tuple(replace(s, state=STOPPED) if s.key == "results" else s for s in d.sections),
    )
    loaded = load_draft(save_draft(d, tmp_path / "d.awdraft"))
    assert loaded.section("results") == DocumentSection(
        "results", "营销效果与市场反馈", "曝光 3000 万+，参赛团队 500 支。", STOPPED
    )
    assert loaded.section("background").state == ""
    data = json.loads((tmp_path / "d.awdraft").read_text(encoding="utf-8"))
    assert [s.get("state") for s in data["sections"]].count(STOPPED) == 1
    assert "state" not in data["sections"][0]  # files without states read as before


def test_a_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "entry.awdraft"
    save_draft(sample(), path)
    before = path.read_bytes()

    def boom(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(Exception, match="磁盘空间不足"):
        save_draft(DraftDocument.new("tma"), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["entry.awdraft"]  # no temporary file left


def test_a_file_that_is_not_a_draft_is_a_read_error(tmp_path: Path) -> None:
    bad = tmp_path / "x.awdraft"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ReadError, match=r"x\.awdraft"):
        load_draft(bad)
    other = tmp_path / "y.awdraft"
    atomic_write(other, json.dumps({"hello": 1}).encode())
    with pytest.raises(ReadError, match="不是 Award Writer 草稿文件"):
        load_draft(other)


def test_autosave_left_behind_is_offered_for_recovery(tmp_path: Path) -> None:
    autosave = Autosave(tmp_path / "autosave")
    d = sample()
    autosave.write(d, tmp_path / "entry.awdraft")
    [recovery] = Autosave(tmp_path / "autosave").pending()
    assert recovery.draft == d
    assert recovery.saved_path == str(tmp_path / "entry.awdraft")
    autosave.discard(d.id)
    assert autosave.pending() == []


def test_autosave_of_a_running_app_is_not_offered(tmp_path: Path) -> None:
    autosave = Autosave(tmp_path)
    d = sample()
    path = autosave.write(d)
    record = json.loads(path.read_text(encoding="utf-8"))
    record["pid"] = os.getppid()  # a live process that is not us
    path.write_text(json.dumps(record), encoding="utf-8")
    assert autosave.pending() == []
    assert len(autosave.pending(include_live=True)) == 1


def test_switching_award_never_loses_text() -> None:
    d = sample().with_award("jinqi")
    texts = {s.key: s.text for s in d.sections}
    assert texts["evaluation"] == "曝光 3000 万+，参赛团队 500 支。"  # results → 项目评估
    assert "垃圾分类成为社会热点。" in texts.values()  # no background kind in 金旗奖: kept
    back = d.with_award("golden_mouse")
    assert back.section("background").text == "垃圾分类成为社会热点。"  # type: ignore[union-attr]


def test_rendered_text_parses_back_into_the_same_sections() -> None:
    d = sample()
    text, spans = d.render()
    start, end = spans["results"]
    assert text[start:end] == "曝光 3000 万+，参赛团队 500 支。"
    assert "广告主：华为" in text
    doc = d.to_parsed()
    assert doc.award == "golden_mouse"
    assert doc.section("results").text.strip() == "曝光 3000 万+，参赛团队 500 支。"
    assert doc.field_value("advertiser") == "华为"


def test_any_entry_file_opens_as_a_draft(seeds: dict[str, Path]) -> None:
    d = load_draft(seeds["000"])
    assert d.award == "golden_mouse"
    assert all(s.text.strip() for s in d.sections)
    assert d.fields["advertiser"].startswith("华为")


def test_the_form_becomes_the_drafters_brief() -> None:
    d = replace(
        sample(),
        fields={**sample().fields, "agency": "某代理", "category": "社会化营销类"},
        brief={
            "background": "垃圾分类新规实施\n\n公众分类准确率低 ",
            "objectives": ["曝光 5000 万"],
            "results": [
                {"measure": "曝光", "value": "3000 万+", "source": "平台后台"},
                {"measure": "", "value": "", "source": ""},  # an empty row in the form
            ],
        },
    )
    brief = d.to_brief()
    assert (brief.award, brief.title, brief.advertiser) == (
        "golden_mouse",
        "华为云 AI 垃圾分类大赛",
        "华为",
    )
    assert brief.category == "社会化营销类" and brief.agency == "某代理"
    assert brief.period == "2018/04~2019/03" and brief.fields == {}
    assert brief.background == ("垃圾分类新规实施", "公众分类准确率低")
    assert brief.objectives == ("曝光 5000 万",)
    assert [(r.measure, r.value) for r in brief.results] == [("曝光", "3000 万+")]


def test_a_half_filled_result_row_is_named_in_the_error() -> None:
    from analyzer.errors import BriefError

    d = replace(sample(), brief={"results": [{"measure": "曝光", "value": "", "source": "x"}]})
    with pytest.raises(BriefError, match=r"results\[0\]\.value"):
        d.to_brief()


def test_search_text_is_what_the_draft_says_without_its_headings() -> None:
    from dataclasses import replace

    empty = DraftDocument.new("golden_mouse")
    assert empty.search_text() == ""  # headings alone are no query
    d = replace(
        empty.with_section("strategy", "以 AI 大赛连接开发者与公众"),
        title="垃圾分类挑战赛",
        brief={"background": "垃圾分类新规", "results": [{"measure": "曝光", "value": "3000 万"}]},
    )
    text = d.search_text()
    for part in ("垃圾分类挑战赛", "垃圾分类新规", "曝光 3000 万", "以 AI 大赛连接开发者与公众"):
        assert part in text
    assert "营销背景" not in text and "策略与创意" not in text


def test_empty_sections_in_the_awards_order() -> None:
    d = DraftDocument.new("golden_mouse").with_section("objectives", "曝光 5000 万")
    assert d.empty_sections() == ["background", "strategy", "execution", "results"]
    moved = d.with_award("effie")  # objectives has no home in 艾菲: kept as an extra section
    assert "objectives" not in moved.empty_sections()


def test_autosave_is_due_after_the_last_change_but_never_too_late() -> None:
    from analyzer.documents.autosave import AutosaveSchedule

    s = AutosaveSchedule(delay=0.5, max_delay=3.0)
    assert not s.waiting
    assert s.changed(10.0) == 0.5
    assert s.changed(10.4) == 0.5  # from the last change
    assert s.changed(12.8) == pytest.approx(0.2)  # but within 3 s of the first
    assert s.changed(13.5) == 0.0
    s.saved()
    assert not s.waiting and s.changed(20.0) == 0.5


def test_background_autosave_writes_the_newest_copy_and_discard_wins(tmp_path: Path) -> None:
    from dataclasses import replace

    autosave = Autosave(tmp_path / "autosave")
    d = sample()
    for i in range(20):
        autosave.write_later(replace(d, title=f"第 {i} 版"))
    [recovery] = autosave.pending()  # waits for the queue
    assert recovery.draft.title == "第 19 版"
    autosave.write_later(replace(d, title="马上丢弃"))
    autosave.discard(d.id)
    autosave.flush()
    assert autosave.pending() == []


def test_a_failed_background_autosave_is_reported_once(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    autosave = Autosave(blocker / "autosave")  # a folder under a file: cannot be created
    autosave.write_later(sample())
    autosave.flush()
    failure = autosave.take_failure()
    assert failure and "autosave" in failure
    assert autosave.take_failure() is None


def test_a_checked_span_maps_to_its_occurrence_in_the_section() -> None:
    from analyzer.documents.document import locate_in_draft

    text = "首创一。\n\n\n   首创二。"  # the parser tidies the blank lines and the indent
    d = DraftDocument.new("golden_mouse").with_section("strategy", text)
    parsed = d.to_parsed()
    second = parsed.text.index("首创", parsed.text.index("首创") + 1)
    where = locate_in_draft(d, second, second + 2)
    assert where is not None and where.section == "strategy"
    assert (where.start, where.text) == (text.rindex("首创"), "首创")
