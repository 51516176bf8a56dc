"""Clean drafts of the five sample briefs (``corpus/briefs/``), written the way the drafter
writes them (each fact as the brief words it), for the checker's draft and brief rules. A test
injects one defect at a time with :func:`inject`.
"""

from __future__ import annotations

from pathlib import Path

from analyzer.documents.brief import load_brief
from analyzer.documents.document import DraftDocument, draft_from_brief

BRIEFS = Path(__file__).resolve().parents[2] / "corpus" / "briefs"

CLEAN: dict[str, dict[str, str]] = {
    "golden_mouse": {
        "background": "新茶饮品类竞争加剧，夏季是全年销售旺季，各品牌集中推出季节限定产品。"
        "示例茶饮在华东以外城市的认知度偏低，年轻消费者对品牌缺乏记忆点。"
        "品牌在全国约 600 家门店，其中约一半开业不足两年，新进入城市的消费者还不熟悉它。",
        "objectives": "提升品牌在新进入城市中 18-30 岁人群的认知度。\n"
        "借夏季限定产品拉动门店客流和小程序点单。",
        "strategy": "以“每座城市都有自己的夏天”为核心洞察，把限定饮品和城市记忆绑定。"
        "线上话题引爆、线下门店打卡、小程序点单三段联动，让每一次晒杯都回到门店。\n"
        "为 12 座城市各推出一款城市限定杯，杯身插画由本地插画师创作；"
        "发起“晒出你的城市夏天”UGC 话题，用户晒杯可领取下一杯优惠。",
        "execution": "5 月：预热期，在微博和小红书发布城市插画系列海报。\n"
        "6-7 月：爆发期，达人探店与抖音挑战赛同步上线，门店设置打卡墙。\n"
        "8 月：收官期，评选最受欢迎城市杯，小程序开放复刻预约。",
        "results": "- 微博话题阅读量：3.2亿（来源：微博话题页，截至 2024-08-31）\n"
        "- UGC 晒杯笔记：4.6万篇（来源：小红书后台数据）\n"
        "- 活动期门店客流同比增长：27%（来源：品牌 POS 系统）\n"
        "- 小程序新增会员：85万（来源：品牌小程序后台）\n"
        "城市限定杯让新进入城市的年轻人记住了示例茶饮，晒杯话题把线上讨论带回了门店和小程序。",
    },
    "jinqi": {
        "overview": "示例能源发起“守护每一度电”社区用电安全公益行动，把专业电工变成“社区安全顾问”，"
        "以入户服务代替单向宣传。项目完成入户用电体检 1.8万户，排查整改隐患 3,200处，"
        "短视频累计播放量 2600万次，获得本地媒体报道 46篇。",
        "research": "前期走访 40 个社区发现：老人知道“要注意用电安全”，但不知道具体该检查什么。"
        "居民更信任身边的人：社区网格员和电工师傅比海报更有说服力。",
        "planning": "让试点社区居民掌握三项家庭用电自查方法，提升示例能源在本地媒体和居民中的公益形象。"
        "策略是用一张“家庭用电体检卡”把复杂知识变成可执行的自查清单，"
        "并以“电工师傅上门体检”短视频系列，由真实一线电工出镜讲解。",
        "execution": "与街道办合作招募社区志愿者，组建入户服务小队。\n"
        "在社区公众号、本地电视台民生栏目和短视频平台同步传播。\n"
        "年底举办“安全用电社区”授牌活动，邀请居民代表分享。",
        "evaluation": "- 入户用电体检：1.8万户（来源：项目服务记录）\n"
        "- 排查整改隐患：3,200处（来源：项目服务记录）\n"
        "- 短视频累计播放量：2600万次（来源：抖音、视频号后台）\n"
        "- 本地媒体报道：46篇（来源：舆情监测报告）\n"
        "入户服务让居民学会了自查，也让示例能源的公益形象走进了本地媒体。",
    },
    "effie": {
        "challenge": "早餐奶品类增长放缓，年轻上班族常常不吃早餐或边走边吃。"
        "示例早餐奶品牌形象老化，被认为是“父母那一代的牌子”。\n"
        "我们的目标是扭转品牌老化印象，提升 22-35 岁人群的品牌好感度，并拉动便利店渠道的早餐时段销售。",
        "insight": "年轻人并非不重视早餐，而是早上的时间被通勤和赖床挤掉了；"
        "“慢一点”的早晨被视为一种难得的自我照顾。"
        "策略是把产品从“营养早餐”重新定位为“给自己留五分钟”的早晨仪式。",
        "ideas": "“慢一点早餐”系列短片讲述三位年轻人在早晨为自己停留五分钟的故事，"
        "在视频平台和地铁屏投放，覆盖早高峰通勤场景。"
        "与连锁便利店合作推出早餐套餐，包装印上“今天慢一点”的早安文案；"
        "便利店早餐时段套餐上架，并在门店电子屏同步播放短片。",
        "results": "22-35 岁人群品牌好感度提升 14个百分点（数据来源：第三方品牌追踪调研，2024 年 3 月）。\n"
        "便利店渠道早餐时段销量同比增长 38%（数据来源：合作便利店销售数据）。\n"
        "短片全网播放量 5100万次（数据来源：各平台后台数据汇总）。",
    },
    "tma": {
        "overview": "口袋健身房在新年档期以“每天 10 分钟”降低开始门槛，"
        "用信息流广告获客、用打卡激励提升首周留存，新增下载量 120万。",
        "background": "新年是健身类 App 的获客高峰，但新用户 7 日留存普遍偏低。"
        "口袋健身房此前主要依靠应用商店自然流量获客，需要一次主动的获客战役。",
        "objectives": "在新年档期提升新用户下载量，并提高新用户首周留存。",
        "creative": "以“每天 10 分钟”降低开始门槛，用打卡激励提升首周留存。"
        "信息流广告素材按人群分层：上班族、学生、宝妈各用一套场景。"
        "“口袋里的私教”系列竖版短视频由真人演示碎片时间训练。",
        "execution": "1 月在短视频平台和应用商店投放信息流广告，按转化成本每日调优素材。\n"
        "2 月上线 21 天打卡挑战，完成者获得会员体验券。",
        "results": "- 新增下载量：120万（来源：应用商店开发者后台）\n"
        "- 新用户 7 日留存率：由 18% 提升至 31%（来源：App 数据分析后台）\n"
        "- 单次下载成本下降：22%（来源：广告投放平台报表）",
    },
    "generic": {
        "background": "实体书店客流下滑，年轻家庭更多在线上买书。"
        "示例书店在城市新区的门店知名度不高，周边居民很少专程到店。",
        "research": "新区家庭最缺的不是书，而是一个能陪孩子安静读书的地方。",
        "objectives": "让新区家庭把示例书店当作周末的固定去处。\n提升门店会员数量和周末客流。",
        "strategy": "把门店变成“家门口的书房”：周末开放亲子共读区，由店员主持读书会。"
        "“一家人的书单”活动请家庭共同挑选并分享自己的书单，优秀书单在门店展出。",
        "execution": "4 月在社区群和本地生活号发布活动，招募首批共读家庭。\n"
        "5-9 月每周末举办亲子读书会，并在门店展出家庭书单。\n"
        "10 月举办书单评选和年度共读分享会。",
        "results": "- 参与读书会的家庭：3,600户（来源：门店活动报名记录）\n"
        "- 门店新增会员：2.1万（来源：会员系统）\n"
        "- 周末客流同比增长：41%（来源：门店客流计数器）",
    },
}
AWARDS = tuple(CLEAN)

# What the bundled model (Qwen2.5-Coder-0.5B, `award-writer draft --no-exemplars`) wrote from
# corpus/briefs/golden_mouse.toml: clumsy in places (labels that echo the brief), but with
# nothing a judge rejects; the checker must not invent errors in it.
MODEL_GOLDEN_MOUSE: dict[str, str] = {
    "background": "在夏季的全年销售旺季，各品牌集中推出季节限定产品。新茶饮品类竞争加剧，年轻消费者对品牌缺乏记忆点。随着中国市场的快速发展和消费者对高端产品的追求，季节限定产品成为消费者选择的重要因素。\n- 品牌在全国约 600 家门店，其中约一半开业不足两年。",
    "objectives": "提升品牌在新进入城市中 18-30 岁人群的认知度。\n夏季限定产品拉动门店客流和小程序点单。",
    "strategy": "策略洞察：每座城市都有自己的夏天，把限定饮品和城市记忆绑定。\n\n线下门店打卡：线上话题引爆、线下门店打卡、小程序点单三段联动。\n\n小程序点单三段联动：为 12 座城市各推出一款城市限定杯，杯身插画由本地插画师创作。\n\n发起“晒出你的城市夏天”UGC 话题，用户晒杯可领取下一杯优惠。",
    "execution": "2024.05-2024.08\n5月：预热期，在微博和小红书发布城市插画系列海报。\n6-7月：爆发期，达人探店与抖音挑战赛同步上线，门店设置打卡墙。\n8月：收官期，评选最受欢迎城市杯，小程序开放复刻预约。\n\n为 12 座城市各推出一款城市限定杯，杯身插画由本地插画师创作。",
    "results": "- 微博话题阅读量：3.2亿（来源：微博话题页，截至 2024-08-31）\n- UGC 晒杯笔记：4.6万篇（来源：小红书后台数据）\n- 活动期门店客流同比增长：27%（来源：品牌 POS 系统）\n- 小程序新增会员：85万（来源：品牌小程序后台）\n\n通过提供丰富的品牌认知度、夏季限定产品拉动门店客流和小程序点单等信息，提升品牌的知名度和市场占有率。同时，通过获取的效果（微博话题阅读量、UGC 晒杯笔记、活动期门店客流同比增长、小程序新增会员）来反映市场的动态变化，增强品牌在特定目标上的影响力。",
}


def clean_draft(award: str) -> DraftDocument:
    """The clean draft of ``award``'s sample brief, with the brief in its form."""
    brief = load_brief(BRIEFS / f"{award}.toml")
    return draft_from_brief(brief, award, CLEAN[award])


def inject(draft: DraftDocument, key: str, old: str, new: str) -> DraftDocument:
    """The draft with ``old`` replaced by ``new`` in section ``key`` (``old`` "" appends)."""
    section = draft.section(key)
    assert section is not None, key
    if not old:
        return draft.with_section(key, section.text + new)
    assert old in section.text, (key, old)
    return draft.with_section(key, section.text.replace(old, new, 1))
