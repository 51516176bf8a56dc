"""The Chinese cue words the rules look for, compiled once.

Language knowledge shared by every award (how a source, a baseline, a superlative or an agency
name is written); what differs between awards lives in ``templates/awards/*.toml``.

Speed: every pattern that scans whole entries is a flat alternation whose branches each start
with a literal character and uses no IGNORECASE. Python's ``re`` then skips ahead to the
branches' first characters; nested groups, leading lookbehinds or IGNORECASE make the same scan
5–15× slower. Latin words list their usual spellings instead.
"""

from __future__ import annotations

import re

from analyzer.quality.text import CLAIM_WORDS
from analyzer.zh.segments import (
    CLAUSE_END,
    ENUM_COMMA,
    FULL_STOP,
    SEMICOLON,
    SENTENCE_END,
)
from analyzer.zh.words import one_of, opening


def _any(*words: str) -> str:
    """The words as one alternation. When every word opens with a plain character (one not
    repeated, as the "W" of "W+K" is), ``re`` skips ahead to those characters by itself, and
    :func:`~analyzer.zh.words.one_of` groups the words behind them: the fastest scan. Otherwise
    ``re`` would try every word at every place of the text, and a look-ahead for the first
    characters goes first, so that most places fail at once."""
    # a word opening with a repeated character ("W+K") is the same pattern written "WW*K"
    words = tuple(w[0] * 2 + "*" + w[2:] if w[1:2] == "+" and opening(w[0]) else w for w in words)
    if all(opening(w) for w in words):
        return one_of(words)
    firsts = {w[:1] for w in words}
    if len(words) < 4 or any(not f or f in _META for f in firsts):
        return "|".join(words)
    chars = "".join(sorted(firsts))
    return f"(?=[{re.escape(chars)}])(?:{'|'.join(words)})"


_META = set("\\.^$*+?{}[]()|")


# A sentence or clause ends at these; rules that look "in the same sentence" use it.
SENTENCE = re.compile(rf"(?=\S)[^{re.escape(SENTENCE_END)}]+[{re.escape(FULL_STOP + SEMICOLON)}]*")
PARAGRAPH = re.compile(r"[^\n]+")
# A comma between digits groups thousands (3,200处): it ends no clause.
_NOT_CLAUSE_END = rf"[^{re.escape(CLAUSE_END + ENUM_COMMA)}]+"
CLAUSE = re.compile(rf"{_NOT_CLAUSE_END}(?:(?<=\d),(?=\d{{3}}){_NOT_CLAUSE_END})*")

# Where a figure comes from: 数据来源 / 据…统计 / 经…监测 / …报告显示 / a named provider.
# Bare 监测, 统计, 报告 or 截至 are not sources: "我们持续监测投放" names no one, and
# "截至 8 月底" only dates a figure.
_SAYS = r"[^，。；;\n]{0,24}?(?:统计|显示|数据|报告|监测|调研|调查|测算|公布)"
PROVIDERS = (
    "秒针",
    "尼尔森",
    "艾瑞",
    "凯度",
    "友盟",
    "易观",
    "益普索",
    "热云",
    "新榜",
    "蝉妈妈",
    "飞瓜",
    "千瓜",
    "巨量算数",
    "百度指数",
    "微信指数",
    "微博指数",
    "生意参谋",
    "京东商智",
    "CTR媒介",
    "Nielsen",
    "NIELSEN",
    "QuestMobile",
    "Questmobile",
    "Kantar",
    "KANTAR",
    "GfK",
    "GFK",
    "Ipsos",
    "IPSOS",
    "AdMaster",
    "Admaster",
    "TalkingData",
)
SOURCE = re.compile(
    _any(
        "来源",
        "出处",
        "出自",
        "引自",
        "数据来自",
        "根据" + _SAYS,
        "依据" + _SAYS,
        "据(?<![数证占凭票单收].)" + _SAYS,  # not the 据 of 数据/证据
        "经" + r"[^，。；;\n]{1,16}?(?:监测|统计|核实|审计|认证)",
        "第三方",
        "后台",
        "报告》",
        "POS",
        *PROVIDERS,
        "Source",
        "source",
        "SOURCE",
    )
)
# A line that sources every figure of its section: 以上数据来源于… / 数据来源：… / 注：数据来自….
NOTE_WORDS = ("来源", "来自", "出自")
NOTE_ANCHOR = re.compile("|".join(NOTE_WORDS))
SECTION_SOURCE_NOTE = re.compile(
    r"[\s（(【\[*※]*(?:注[:：])?\s*(?:以上|上述|全部|所有|文中|本章|各项)?(?:数据|数字)?[^\n]{0,6}(?:来源|来自|出自)"
)

# A change figure: 提升 48% / 增长 3 倍 / 下降 17%.
CHANGE_BEFORE = re.compile(
    r"(?:提升|提高|增长|增加|增幅|涨幅|上涨|上升|攀升|翻了?|飙升|下降|降低|减少|降幅|缩短|节省)"
    r"[^，。；;\n\d]{0,6}$"
)
CHANGE_AFTER = re.compile(
    r"[^，。；;\n]{0,3}?的?(?:提升|提高|增长|增加|增幅|涨幅|上涨|下降|降低|减少)"
)
# What a change is measured against: 同比 / 环比 / 较去年 / 从…到… / 相比 / 行业平均 …
_TO = r"[^，。；;\n]{0,24}?(?:到|至|升至|增至|提升至|增长至|提升到|增长到|降至|降到)"
# "从 12% 提升到 27%": the figure after 从/由 is where the change started.
FROM_WORDS = ("从", "由")
FROM_BEFORE = re.compile(r"(?:从|由)[^，。；;\n\d]{0,6}$")
TO_AFTER = re.compile(r"[^，。；;\n\d]{0,8}?(?:到|至)")
BASELINE = re.compile(
    _any(
        "同比",
        "环比",
        "相比",
        "相较",
        "对比",
        "比上",
        "比去年",
        "较(?!好|高|低|多|少|大|小|为|强|弱|快|慢|长|短|早|晚|佳|差)",  # 较去年, not 较好
        "从" + _TO,
        "由" + _TO,
        "去年",
        "上年",
        "上一",
        "前一",
        "基准",
        "基线",
        "行业平均",
        "平均水平",
        "大盘",
        "均值",
        "高于",
        "低于",
        "超出",
        "超过行业",
        "之前",
        "此前",
        "活动前",
        "投放前",
        "上线前",
        "vs(?![a-z])",
        "VS(?![A-Z])",
        "Vs(?![a-z])",
    )
)

# Superlatives and firsts that need a number or a source in the same sentence.
CLAIM = CLAIM_WORDS

# What backs a claim: a ranking, a share or a certification (a source cue counts too, see
# SOURCE). A plain number does not: "联合 30 位达人，打造行业首创的玩法" proves nothing first.
CLAIM_EVIDENCE = re.compile(
    _any(
        "排名",
        "排行",
        "榜",
        "位列",
        "名列",
        "位居",
        "份额",
        "占比",
        "市占",
        "占有率",
        "认证",
        "证书",
        "专利",
        "吉尼斯",
        "荣获",
        "获评",
    )
)
# Results written as results: 带来 / 达成 / 累计 / 共为 …; used to find results in other sections.
RESULT_CUE = re.compile(
    _any(
        "带来",
        "达成",
        "实现了",
        "获得",
        "收获",
        "累计",
        "共计",
        "共为",
        "取得",
        "斩获",
        "带动",
        "最终",
        "总计",
        "合计",
        "拉动",
        "助力[^，。]{0,12}达成",
        "效果",
        "成果",
        "曝光量达",
        "曝光量超",
        "曝光达",
        "曝光超",
        r"达[^，。]{0,3}\d",
        r"超[^，。]{0,3}\d",
    )
)
# An objective as written in a section that is not only objectives (Effie 挑战/背景/目标).
OBJECTIVE_CUE = re.compile("目标|目的|旨在|希望|期望|期待|力求|力争|计划|KPI|kpi|预期|致力于")
# A clause that sets a goal: a measure named in it is a measurable objective ("提升订单转化");
# a measure word in plain prose ("发现用户需求") is not.
GOAL_VERB = re.compile(
    "提升|提高|增加|扩大|增强|加强|达成|达到|实现|获取|获得|带动|促进|推动|拉动|突破|增长|积累|"
    "吸引|驱动|收获|完成|最大化|建立|树立|强化|沉淀|引爆|拉新|触达|覆盖|转化|KPI|kpi"
)


# Agency names: a 代理公司 header line, the agency's own voice, company names of agencies.
AGENCY_FIELD_WORDS = ("代理", "执行公司")  # every field name below holds one of these
AGENCY_FIELD = re.compile(
    "(?:"
    + _any("代理公司", "代理商", "代理机构", "执行公司", "创意代理", "媒介代理", "代理")
    + r")[ \t]*[:：][ \t]*(?P<name>\S[^\n]*)"
)
FIELD_DECOR = re.compile(r"[\s\-*•◆●■▪>#|]*")
AGENCY_VOICES = ("我司", "本司", "我们公司", "我公司")
AGENCY_VOICE = re.compile("|".join(AGENCY_VOICES))
# Found by its ending, then extended left over the name (a left-anchored scan is slow).
AGENCY_COMPANY_END = re.compile(
    _any(
        *(
            w + r"(?:顾问|策划|科技|集团|股份)?(?:有限责任公司|有限公司|公司|集团|事务所)"
            for w in ("广告", "传播", "公关", "咨询", "传媒", "营销", "互动", "创意")
        )
    )
)
# Any company name ("杭州星河网络科技有限公司"): not always an agency, so only a warning.
COMPANY_END = re.compile(_any("有限责任公司", "股份有限公司", "有限公司"))
# "蓝海广告团队负责…": an agency named by its team.
AGENCY_TEAM_END = re.compile(
    _any(*(w + "团队" for w in ("广告", "传播", "公关", "营销", "创意", "互动", "数字")))
)
# Words every match of each pattern holds: a text with none of them needs no scan (most entries
# name no agency team and many no 有限公司).
AGENCY_COMPANY_WORDS = ("公司", "集团", "事务所")
AGENCY_TEAM_WORDS = ("团队",)
COMPANY_WORDS = ("有限",)
# Agencies and agency groups well known in China, found anywhere in the text. Names that are
# also ordinary words or other firms are excluded by a lookahead (麦肯锡 is a consultancy).
KNOWN_AGENCY = re.compile(
    _any(
        "奥美",
        "电通安吉斯",
        "电通(?!信|讯|话|电)",
        "安吉斯",
        "阳狮",
        "群邑",
        "李奥贝纳",
        "麦肯(?!锡)",
        "智威汤逊",
        "睿狮",
        "华扬联众",
        "蓝色光标",
        "蓝标传媒",
        "省广集团",
        "省广股份",
        "利欧数字",
        "天与空",
        "灵智精实",
        "盛世长城",
        "扬罗必凯",
        "凯络",
        "浩腾媒体",
        "竞立媒体",
        "尚扬媒介",
        "传立媒体",
        "实力传播",
        "星传媒体",
        "宏盟",
        "汉威士",
        "博报堂",
        "意类广告",
        "环时互动",
        "W+K",
        "Ogilvy",
        "OGILVY",
        "Dentsu",
        "DENTSU",
        "Publicis",
        "GroupM",
        "WPP",
        "BBDO",
        "TBWA",
        "Havas",
        "Leo Burnett",
        "McCann",
        "JWT",
    )
)
# Media owners and platforms: naming where an ad ran is no agency name (长城奖's rules except
# media and the brand owner explicitly).
MEDIA_OWNER = re.compile(
    _any(
        "分众",
        "新潮传媒",
        "央视",
        "中央电视台",
        "卫视",
        "电视台",
        "广播电台",
        "日报",
        "晚报",
        "报社",
        "抖音",
        "微博",
        "小红书",
        "腾讯",
        "字节",
        "巨量",
        "百度",
        "阿里",
        "爱奇艺",
        "优酷",
        "芒果",
        "快手",
        "哔哩哔哩",
        "喜马拉雅",
        "人民网",
        "新华",
        "凤凰",
        "网易",
        "搜狐",
        "新浪",
        "今日头条",
        "京东",
        "美团",
        "携程",
        "地铁",
        "机场",
        "高铁",
    )
)
AGENCY_NAME_CHARS = re.compile(r"[\u4e00-\u9fffA-Za-z0-9（）()]{2,12}$")
# Words that end the text before a company name ("案例资料由广州圣达广告有限公司提供").
AGENCY_NAME_BREAK = re.compile(r".*[由为是与和的在被及将向从经据请]")

URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
