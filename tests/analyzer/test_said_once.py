"""A draft says each thing once: summaries are written last and say nothing the body says
sentence for sentence; a section drafted again says nothing the sections before it say."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from analyzer.documents.brief import drafting_order, load_brief
from analyzer.documents.document import DraftDocument
from analyzer.drafting import DraftOptions, draft_entry, draft_section
from analyzer.drafting.gates import prose_of
from analyzer.paths import PROJECT_ROOT
from analyzer.quality.text import repeated_share
from analyzer.schema import get_award

BRIEF = PROJECT_ROOT / "corpus" / "briefs" / "generic.toml"

STRATEGY = "把门店变成家门口的书房，周末开放亲子共读区，由店员主持读书会。"
BODY = {
    "背景": "实体书店客流下滑，年轻家庭更多在线上买书。",
    "洞察": "新区家庭最缺的不是书，而是一个能陪孩子安静读书的地方。",
    "目标": "让新区家庭把示例书店当作周末的固定去处。",
    "策略与创意": STRATEGY,
    "执行": "4 月在社区群和本地生活号发布活动，招募首批共读家庭。",
    "效果": "活动让更多家庭走进了门店。",
}


class SectionWriter:
    """Answers each section with its canned text (found by the 「title」部分 of the request) and
    records the order the sections were asked for."""

    def __init__(self, replies: dict[str, str]) -> None:
        self.replies = replies
        self.asked: list[str] = []

    def stream(self, prompt_messages: Sequence[Any], **_: Any) -> Iterator[str]:
        request = str(prompt_messages[-1]["content"])
        title = re.search(r"「([^」]+)」部分", request)
        assert title is not None, request
        self.asked.append(title.group(1))
        yield self.replies.get(title.group(1), "")


def _prose(draft: Any) -> str:
    return "\n".join(prose_of(s.text, s.kind) for s in draft.sections)


@pytest.fixture
def brief():
    return load_brief(BRIEF)


def test_summaries_are_written_last_and_shown_in_the_awards_order(brief):
    gen = SectionWriter({**BODY, "概述": "示例书店开展社区阅读计划。", "亮点": STRATEGY})
    draft = draft_entry(brief, gen)
    assert gen.asked[-2:] == ["概述", "亮点"]
    assert [s.key for s in draft.sections] == [s.key for s in get_award("generic").sections]
    assert [s.key for s in drafting_order(get_award("generic"))][-2:] == ["overview", "highlights"]


def test_an_overview_that_says_the_body_again_loses_those_sentences(brief):
    overview = (
        "示例书店开展了一项社区阅读计划，面向城市新区的年轻家庭。"
        + STRATEGY
        + "计划以家庭共读为纽带，把社区和门店连在一起，让阅读成为周末的家庭习惯。"
    )
    gen = SectionWriter({**BODY, "概述": overview, "亮点": "以家庭共读为纽带连接社区与门店。"})
    draft = draft_entry(brief, gen, DraftOptions(tries=1))
    text = draft.section("overview").text
    assert "面向城市新区的年轻家庭" in text  # its own sentence stays
    assert "由店员主持读书会" not in text  # the strategy section's sentence is not said first here
    assert "由店员主持读书会" in draft.section("strategy").text
    assert repeated_share(_prose(draft)) == 0


def test_a_summary_that_only_repeats_the_body_is_summed_up_from_the_brief(brief):
    gen = SectionWriter({**BODY, "概述": BODY["背景"] + BODY["目标"], "亮点": STRATEGY})
    draft = draft_entry(brief, gen, DraftOptions(tries=1))
    for key in ("overview", "highlights"):
        section = draft.section(key)
        assert section.text.strip()
        assert any("按简报重新概括" in n for n in section.notes), section.notes
    overview = draft.section("overview").text
    assert "示例书店" in overview and "3,600户" in overview  # who, and what it achieved
    assert repeated_share(_prose(draft)) == 0


def test_regenerating_a_section_drops_what_the_sections_before_it_say(brief):
    gen = SectionWriter(
        {"执行": BODY["背景"] + "5-9 月每周末举办亲子读书会，并在门店展出家庭书单。"}
    )
    said = {"background": BODY["背景"]}
    section = draft_section(brief, gen, "execution", DraftOptions(said=said, tries=1))
    assert "实体书店客流下滑" not in section.text
    assert "亲子读书会" in section.text
    alone = draft_section(brief, gen, "execution", DraftOptions(tries=1))
    assert "实体书店客流下滑" in alone.text  # without the other sections nothing is dropped


def test_draft_everything_queues_summaries_last():
    doc = DraftDocument.new("generic")
    keys = doc.empty_sections()
    assert keys[-2:] == ["overview", "highlights"]
    assert keys[0] == "background"
    written = doc.with_section("overview", "已写好的概述。")
    assert written.empty_sections()[-1] == "highlights"


def test_a_composed_summary_says_nothing_the_body_says(brief):
    # the model's overview fails a hard gate every try (it talks about itself): composed instead
    gen = SectionWriter(
        {**BODY, "概述": "该段落旨在展示示例书店的社区阅读计划。", "亮点": STRATEGY}
    )
    draft = draft_entry(brief, gen, DraftOptions(tries=2, retry_time=1e9))
    overview = draft.section("overview")
    assert overview.composed
    assert "示例书店" in overview.text and "旨在展示" not in overview.text
    assert repeated_share(_prose(draft)) == 0
