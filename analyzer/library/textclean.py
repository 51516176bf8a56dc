"""Clean text extracted from PDFs, slides and web pages before anything else sees it.

What it removes or mends: control characters, full-width ASCII digits/letters, image file names
(``微信截图_20180926094621.png``), page residue (page numbers, lone bullets), stray spaces inside
Chinese words (``广 告 主``), markdown bold markers, and hard line wraps of PDF text (a sentence
broken over lines is joined back). Blank lines go; each paragraph is one line.

Text copied from web pages brings the page with it, and that goes too: meta-tag leftovers
(a line ending in ``"/>``), SEO keyword lines (``最新资讯_行业动态_综合新闻_…``), breadcrumbs
(``当前位置:首页 > 艾菲新闻``, ``网 > 资讯 > 行业 > …``), the residue of document-sharing sites
(``上传人:… 文档编号:…``, ``第1页 / 共38页``, ``已阅读5页,还剩6页未读``), wiki controls glued to a
heading (``第一章 案例背景编辑本段回目录``), and the pinyin some mirror sites add after rare
characters (``挑戰(zhàn)`` is 挑戰).
"""

from __future__ import annotations

import re
import unicodedata

from analyzer.zh.fold import CJK as _CJK
from analyzer.zh.fold import CJK_PUNCT as _CJK_PUNCT
from analyzer.zh.fold import WIDTH

_IMAGE_NAME = re.compile(
    r"(?<![/\w.])[^\s/\\:：<>\"|?*，。]{0,60}?\.(?:png|jpe?g|gif|bmp|webp|tiff?)(?![\w/])",
    re.IGNORECASE,
)
_PAGE_RESIDUE = re.compile(
    r"^(?:[-–—_\s]*\d{1,4}[-–—_\s]*|第\s*\d+\s*页(?:\s*[/,，]?\s*共\s*\d+\s*页)?|"
    r"page\s*\d+(?:\s*(?:of|/)\s*\d+)?|\d{1,4}\s*/\s*\d{1,4}|[\s\-–—•·◆●■□▪︎*◇○>#|]+)$",
    re.IGNORECASE,
)
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}{_CJK_PUNCT}])[ \t]+(?=[{_CJK}{_CJK_PUNCT}])")
_BOLD = re.compile(r"\*\*|__")
_TERMINAL = tuple("。！？!?；;：:…」』”）)】")
_LIST_START = re.compile(
    r"^(?:[-*•◆●■▪>#【\[（(]|\d{1,2}\s*[、.．)）]|[一二三四五六七八九十]+[、.．]|[①-⑳]|第[一二三四五六七八九十\d]+)"
)
_CONTINUATION = frozenset("，,、；;）)」』”%")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")


# Pinyin a mirror site put after a rare character, 挑戰(zhàn): lower-case letters with a tone mark.
_PINYIN = re.compile(
    rf"(?<=[{_CJK}])\((?=[a-zü]*[āáǎàōóǒòēéěèīíǐìūúǔùǖǘǚǜ])[a-zāáǎàōóǒòēéěèīíǐìūúǔùüǖǘǚǜ]{{1,7}}\)"
)
# Lines that are the page, not the text. Each is a family of residue, not one site's string.
_WEB_RESIDUE = re.compile(
    r"|".join(
        [
            r'.*["\']\s*/?>$',  # the rest of an HTML attribute: <meta content="…"/>
            # SEO keyword runs: 最新资讯_行业动态_综合新闻_热门推荐 (four or more short items)
            r"[^\s_|，。；]{1,10}(?:\s*[_|｜]\s*[^\s_|，。；]{1,10}){3,}",
            r".{0,20}?(?:当前位置|您的位置|你的位置|所在位置|您现在的位置|现在位置)\s*[:：].*",
            # breadcrumbs: two or more "›/>/»" steps between short items
            r"(?:[^<>›»，。；]{1,24}\s*(?:>>?|›|»)\s*){2,}[^<>›»，。；]{0,40}",
            r".*(?:上传人|上傳人)\s*[:：].*(?:文档编号|文檔編號|上传时间|上傳時間|页数|頁數).*",
            r"(?:文档编号|文檔編號|上传时间|上傳時間|格式|页数|頁數|大小)\s*[:：]\s*\S+.*(?:页数|頁數|大小)\s*[:：].*",
            r".{0,60}_第\s*\d+\s*[页頁]",
            r".*(?:已阅读|已閱讀)\s*\d+\s*[页頁].*|.*还剩\s*\d+\s*[页頁]未读.*|继续免费阅读|下载本文档",
            r".*本文档由用户提供并上传.*|.*本文檔由用戶提供并上傳.*|资源描述\s*[:：]?|文档简介|文檔簡介",
            r".*由会员分享[,，]\s*可在线阅读.*|点击查看更多\s*>*",
            r"(?:收藏|版权申诉|举报|下载|返回|相关|分享)(?:\s+(?:收藏|版权申诉|举报|下载|返回|相关|分享)){2,}",
            r"\[?(?:显示全部|展开全部|收起全部)\]?|目录|目錄",
            r"顶\s*\[\d+\].*(?:评论|编辑).*",
            r"(?:图片|圖片|image|图)",
            r"点击上方.{0,8}关注.*|.{0,12}长按(?:识别)?二维码.*关注.*",  # WeChat's follow prompts
            # dividers and end marks of article pages: / 01 /, - END -, — THE END —
            r"[/|｜\s]*\d{1,2}[/|｜\s]*|[-—–\s]*(?:the\s*)?end[-—–\s]*",
            # a page's metadata line: 发布时间：… 来源：… 浏览：… (two or more labels, no sentence)
            r"(?![^\n]*[，。；,;])[^\n]{0,40}?(?:发布时间|發佈時間|更新时间|来源|來源|作者|浏览|瀏覽|阅读|閱讀|点击|點擊|评论|評論|编辑|編輯)"
            r"\s*[:：].*(?:来源|來源|作者|浏览|瀏覽|阅读|閱讀|点击|點擊|评论|評論|编辑|編輯)\s*[:：].*",
        ]
    ),
    re.IGNORECASE,
)
# Leader dots of a table of contents or a scoring list: 結果……………………..30%
_LEADERS = re.compile(r"[….·．]{3,}(?=\s*\d)")
# Wiki controls glued to the end of a heading: 第一章 案例背景编辑本段回目录
_WIKI_TAIL = re.compile(r"\s*(?:\[?编辑本段\]?|\[?編輯本段\]?|\[?编辑\]|回目录|回目錄)+\s*$")


def clean_text(raw: str) -> str:
    """Return the cleaned text: one paragraph per line, no blank lines."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    text = _CONTROL.sub("", text).translate(WIDTH)
    text = unicodedata.normalize("NFC", text)
    lines = []
    spaced: list[bool] = []  # whether a space stood at the line's start or end
    for raw_line in text.split("\n"):
        line = _IMAGE_NAME.sub("", raw_line)
        line = _BOLD.sub("", line)
        line = _SPACE_BETWEEN_CJK.sub("", line)
        line = _PINYIN.sub("", line)
        line = _LEADERS.sub("…", line)
        edges = (line[:1].isspace(), line[-1:].isspace())
        line = _WIKI_TAIL.sub("", line.strip())
        if not line or _PAGE_RESIDUE.match(line) or _WEB_RESIDUE.fullmatch(line):
            continue
        lines.append(line)
        spaced.append(edges[0])
        spaced.append(edges[1])
    return "\n".join(_join_wrapped(lines, spaced))


def _join_wrapped(lines: list[str], spaced: list[bool] | None = None) -> list[str]:
    """Join lines that a PDF hard-wrapped: a full-width line not ending a sentence + its follower.

    ``spaced`` holds, for each line, whether a space stood at its start and at its end (two
    entries a line). Two Latin words are joined with a space only when one stood at the break:
    a PDF keeps the space where the layout broke between words (``ModelArts |平台``), and
    there is none where it broke inside one (``Model|Arts``, ``K|OL``). Without ``spaced``
    they are joined with a space. Digits are never split by a space (``57|206`` is 57206).
    """
    lengths = sorted(len(x) for x in lines if len(x) >= 10)
    if len(lengths) < 5:
        return lines
    width = lengths[int(len(lengths) * 0.9) - 1]
    if width < 20:
        return lines
    near_full = sum(1 for n in lengths if 0.8 * width <= n <= width + 2)
    if near_full < max(4, 0.25 * len(lengths)):
        return lines  # not hard-wrapped: paragraphs of varied length
    out: list[str] = []
    parts: list[str] = []  # the paragraph being joined, as pieces (joining is linear in size)
    last = ""  # its last physical line: only that one says whether the text runs on
    for i, line in enumerate(lines):
        if parts and _continues(last, line, width):
            digits = last[-1:].isdigit() and line[:1].isdigit()
            latin = all(c.isascii() and c.isalnum() for c in last[-1:] + line[:1])
            gap = spaced is None or spaced[2 * i - 1] or spaced[2 * i]
            parts.append((" " if latin and gap and not digits else "") + line)
        else:
            if parts:
                out.append("".join(parts))
            parts = [line]
        last = line
    if parts:
        out.append("".join(parts))
    return out


# ``广告主：华为``, ``执行时间:2019.07.12-09.19``: a short name and a colon start a new line.
# A line that is only a label and a colon ("传播执行:", "创意亮点："); "…的沟通机制,如下图所示:"
# is a sentence that goes on to a list, and may well be a wrapped tail.
_LABEL = re.compile(r"[^，。,;；!?！？]{1,20}[:：]")
_LONE_FIGURE = re.compile(r"[0-9][0-9,.]*[ \t]*[万亿wWkK]?[+%]?")
_URL_END = re.compile(r"(?:https?://|www\.)\S+$")
_URL_REST = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'*+,;=%]+")
_FIELD_START = re.compile(r"^[^\s:：，。、；,;.!?！？()（）]{1,8}[ \t]*[:：]")


def _continues(prev: str, line: str, width: int) -> bool:
    """Whether ``line`` carries on ``prev``, the last physical line of a paragraph."""
    if line[:1] in _CONTINUATION and not prev.endswith(("。", "！", "？", "!", "?")):
        return True  # no paragraph starts with a comma: the break fell before it
    if len(prev) < 0.8 * width:
        return False
    if _URL_END.search(prev):
        # A URL broken at the line's end goes on with URL characters only, and no space.
        return not line.startswith(("http", "www.")) and _URL_REST.fullmatch(line) is not None
    if prev.endswith(_TERMINAL):
        return False
    if _LIST_START.match(line) or line.startswith("http"):
        return False
    # A short line with no punctuation at all is more likely a heading than a wrapped tail,
    # unless the line before is filled to the last character: then the layout broke it.
    if (
        len(line) <= 12
        and not re.search(r"[，。、；：,.;:!?！？%+]", line)
        and len(prev) < width - 1
    ):
        return False
    if _LONE_FIGURE.fullmatch(line):
        return False  # a slide's big number on a line of its own: "5,500,000,000+"
    # Labels and headings start lines of their own: "传播执行:", "参选类别：社会化营销类",
    # "营销效果与市场反馈".
    if _LABEL.fullmatch(line) or _FIELD_START.match(line):
        return False
    from analyzer.library.sections import is_heading_line  # sections folds with this module

    return not is_heading_line(line)
