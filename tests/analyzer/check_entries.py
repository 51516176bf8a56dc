"""Complete entries for the checker tests; each test removes or changes one thing."""

from __future__ import annotations

GOLDEN_MOUSE_FIELDS = {
    "广告主": "清泉饮料",
    "所属行业": "快消",
    "执行时间": "2023.06.01-2023.08.31",
    "参选类别": "社会化营销类",
}
GOLDEN_MOUSE_SECTIONS = {
    "营销背景": "夏季饮料市场竞争激烈，年轻消费者选择众多，清泉饮料在一二线城市年轻人群中的存在感不强，"
    "需要一次能引发讨论的夏日营销。",
    "营销目标": "让更多年轻人在夏天想起清泉：提升品牌曝光与互动，活动期曝光达到 1 亿次，"
    "互动达到 100 万次。",
    "策略与创意": "洞察到年轻人把饮料瓶当作社交货币，策略是让瓶身成为城市话题；创意是推出城市限定瓶，"
    "让每座城市都有自己的夏天。",
    "执行过程/媒体表现": "在抖音和小红书发起城市瓶挑战赛，联合达人共创内容，同时在便利店铺货限定瓶，"
    "线上线下联动，持续两个月。",
    "营销效果与市场反馈": "活动总曝光量达 1.2 亿次，互动量 150 万次，超额完成目标。"
    "数据来源：第三方监测平台，截至 2023 年 8 月 31 日。",
}

EFFIE_FIELDS = {
    "品牌": "清泉饮料",
    "参赛类别": "饮料类",
    "执行时间": "2023.06.01-2023.08.31",
}
EFFIE_SECTIONS = {
    "挑战/背景/目标": "夏季饮料市场竞争激烈，清泉在年轻人中的知名度只有 12%（数据来源：凯度 2023 年 5 月调研）。"
    "我们的目标是把年轻人知名度提升到 25%，并让夏季销量同比增长 30%。",
    "洞察与策略": "年轻人在夏天想要解渴又有趣的饮料，他们把饮料瓶当作社交货币。"
    "策略是让瓶身成为城市之间的话题，让每座城市都有自己的夏天。",
    "将创意付诸实践": "推出城市限定瓶，在抖音和小红书发起城市瓶挑战赛，联合达人共创内容，"
    "并在便利店铺货，线上线下同步，持续整个夏天。",
    "效果": "年轻人知名度从 12% 提升到 27%（数据来源：凯度 2023 年 9 月调研）。\n"
    "夏季销量同比增长 35%，数据来源：尼尔森零售监测。",
}


def entry(
    fields: dict[str, str],
    sections: dict[str, str],
    *,
    head: tuple[str, ...] = ("清泉城市瓶夏日营销",),
    drop_section: str | None = None,
    drop_field: str | None = None,
    replace: dict[str, str] | None = None,
    extra_fields: dict[str, str] | None = None,
    order: list[str] | None = None,
) -> str:
    """The entry's text with one section or field dropped, or some sections replaced."""
    fields = {k: v for k, v in fields.items() if k != drop_field}
    fields.update(extra_fields or {})
    body = {k: v for k, v in sections.items() if k != drop_section}
    body.update(replace or {})
    lines = list(head) + [f"{k}：{v}" for k, v in fields.items()]
    for key in order or list(body):
        lines += ["", key, body[key]]
    return "\n".join(lines) + "\n"


def golden_mouse(**changes: object) -> str:
    return entry(GOLDEN_MOUSE_FIELDS, GOLDEN_MOUSE_SECTIONS, **changes)  # type: ignore[arg-type]


def effie(**changes: object) -> str:
    return entry(EFFIE_FIELDS, EFFIE_SECTIONS, **changes)  # type: ignore[arg-type]
