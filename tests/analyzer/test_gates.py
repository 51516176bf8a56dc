"""Quality gates, resampling and the composed fallback: what the user gets when the model writes
badly."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from analyzer.documents.brief import load_brief
from analyzer.drafting import DraftOptions, draft_section
from analyzer.drafting.compose import compose_section
from analyzer.drafting.gates import evaluate
from analyzer.llm.base import Sampling
from analyzer.markers import VERIFY
from analyzer.paths import PROJECT_ROOT
from analyzer.schema import get_award

BRIEFS = PROJECT_ROOT / "corpus" / "briefs"
OWN_BRIEFS = PROJECT_ROOT / "bench" / "briefs"
ALL_BRIEFS = sorted([*BRIEFS.glob("*.toml"), *OWN_BRIEFS.glob("*.toml")])
CLEAN = "示例茶饮在全国约有 600 家门店，其中一半左右开业还不到两年。每到夏天，新茶饮就迎来一年中最好的销售季节。"


class SeededGenerator:
    """Writes ``greedy`` without sampling and ``sampled[seed]`` (or the first) with it; records
    the sampling of every call."""

    def __init__(self, greedy: str, sampled: dict[int, str] | str) -> None:
        self.greedy = greedy
        self.sampled = sampled
        self.calls: list[Sampling | None] = []
        self.finish_reason = "eos"

    def stream(
        self, prompt_messages: Sequence[Any], *, sampling: Sampling | None = None, **kw: Any
    ) -> Iterator[str]:
        self.calls.append(sampling)
        if sampling is None:
            yield self.greedy
        elif isinstance(self.sampled, str):
            yield self.sampled
        else:
            yield self.sampled.get(sampling.seed or 0, next(iter(self.sampled.values())))


@pytest.fixture
def brief():
    return load_brief(BRIEFS / "golden_mouse.toml")


@pytest.mark.parametrize(
    ("gate", "text"),
    [
        ("leak", "该段落旨在展示品牌的背景。" + CLEAN),
        ("leak", "连贯的段落：" + CLEAN),
        ("debris", "### 行业背景\n" + CLEAN),
        ("debris", '{"title": "营销背景", "content": [\n' + CLEAN),
        ("invented", f"品牌覆盖 9{VERIFY} 个城市。" + CLEAN),
        ("unsupported", "示例茶饮是全球领先的新茶饮品牌。" + CLEAN),
        ("moved", "8 月：预热期，在微博和小红书发布城市插画系列海报。" + CLEAN),
        ("cut_off", CLEAN + "\n鼓励不同城市的用户晒出自己的夏天，"),
    ],
)
def test_each_thing_a_judge_rejects_fails_its_gate(brief, gate: str, text: str) -> None:
    verdict = evaluate(text, brief, kind="background")
    assert not verdict.passed
    assert gate in {f.gate for f in verdict.failures if f.hard}


def test_a_clean_section_passes_and_soft_problems_only_report(brief) -> None:
    assert evaluate(CLEAN, brief, kind="background").passed
    verdict = evaluate(CLEAN, brief, kind="background", typical_chars=1500)
    assert verdict.passed and [f.gate for f in verdict.failures] == ["length"]
    assert "同类参赛稿这一部分通常约 1500 字" in verdict.messages()[0]


def test_a_failing_section_is_drafted_again_with_sampling_and_the_clean_try_kept(brief) -> None:
    gen = SeededGenerator("该段落旨在展示品牌的背景。" + CLEAN, CLEAN)
    section = draft_section(brief, gen, "background", DraftOptions(retry_time=1e9))
    assert section.text == CLEAN and section.tries == 2 and not section.composed
    assert gen.calls[0] is None  # the first try is greedy: the same brief, the same draft
    assert gen.calls[1] is not None and gen.calls[1].temperature > 0


def test_when_no_try_passes_the_section_is_composed_from_the_brief(brief) -> None:
    retried: list[tuple[str, int, str]] = []
    gen = SeededGenerator(
        "### 背景\n该段落旨在展示品牌的背景。", "### 背景\n以下是根据要点改写的内容。"
    )
    section = draft_section(
        brief,
        gen,
        "background",
        DraftOptions(retry_time=1e9),
        on_retry=lambda *a: retried.append(a),
    )
    schema = get_award("golden_mouse")
    assert section.composed and section.tries == 3 and len(gen.calls) == 3
    assert section.text == compose_section(brief, schema, schema.section("background"))
    assert "模型写了 3 稿都没有通过检查" in section.failures[0]
    assert [r[1] for r in retried] == [2, 3] and "提示词或自我描述" in retried[0][2]


def test_regenerating_with_a_new_seed_gives_a_different_text(brief) -> None:
    other = "示例茶饮在全国约有 600 家门店，其中一半左右开业还不到两年。"
    gen = SeededGenerator(CLEAN, {11: CLEAN, 12: other})
    first = draft_section(brief, gen, "background", DraftOptions(seed=11))
    second = draft_section(brief, gen, "background", DraftOptions(seed=12))
    assert first.text == CLEAN and second.text == other
    assert [c.seed for c in gen.calls if c is not None] == [11, 12]


@pytest.mark.parametrize("path", ALL_BRIEFS, ids=lambda p: p.stem)
def test_every_composed_section_passes_the_gates(path: Path) -> None:
    """The worst case is plain and correct: composed from any brief, no section fails a gate."""
    brief = load_brief(path)
    schema = get_award(brief.award)
    for spec in schema.sections:
        text = compose_section(brief, schema, spec)
        if not text:
            continue
        verdict = evaluate(text, brief, kind=spec.kind)
        assert verdict.passed, (spec.key, verdict.messages(), text)
        assert "- " not in text  # prose, not the brief's bullet list


def test_a_reply_caught_in_a_loop_is_stopped_early(brief) -> None:
    """ "9 月开始…", "10 月开始…": the model would spend its whole budget on it."""
    drawn: list[str] = []

    class Looping:
        finish_reason = "eos"

        def stream(self, prompt_messages: Any, **kw: Any) -> Iterator[str]:
            yield CLEAN
            for month in range(1, 40):
                drawn.append(str(month))
                yield f"{month} 月开始新品上市，门店同步推出城市杯。"

    section = draft_section(brief, Looping(), "background", DraftOptions(tries=1))
    assert len(drawn) == 4  # stopped at the third repeat, not after 39
    assert section.finish_reason == "repetition"


def test_a_name_from_the_prompt_s_worked_example_fails_the_section(brief) -> None:
    """The bundled model wrote 「小食堂推出了一种全新的早餐套餐」 into an 艾菲 draft: 小食堂 is the
    made-up case of the worked example (templates/prompts/example.toml), not the brand."""
    verdict = evaluate(
        "小食堂在全国约有 600 家门店，其中一半左右开业还不到两年。", brief, kind="background"
    )
    assert not verdict.passed and [f.gate for f in verdict.failures][:1] == ["example"]
    assert "小食堂" in verdict.failures[0].message
    assert evaluate(CLEAN, brief, kind="background").passed
