"""Decoding a text file in any common Chinese encoding: UTF-8 (with or without BOM), UTF-16,
GB18030/GBK and Big5, chosen by strict decoding, then by how Chinese the result reads.
"""

from __future__ import annotations

import codecs
import logging
import re
from functools import cache
from pathlib import Path

from analyzer.errors import ReadError

log = logging.getLogger(__name__)

# Most frequent Chinese characters in general text (about the top 500) plus the vocabulary of
# marketing entries. Their traditional forms are added at run time. Used only to choose between
# GB18030 and Big5 when the same bytes decode under both.
_COMMON_ZH = (
    "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年过"
    "发后作里用道行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心她本前"
    "开但因只从想实日军者意无力它与长把机十民第公此已工使情明性知全三又关点正业外将两高间由问很最重"
    "并物手应战向头文体政美相见被利什二等产或新己制身果加西斯月话合回特代内信表化老给世位次度门任常"
    "先海通教儿原东声提立及比员解水名真论处走义各入几口认条平系气题活尔更别打女变四神总何电数安少报"
    "才结反受目太量再感建务做接必场件计管期市直德资命山金指克许统区保至队形社便空决治展马科司五基眼"
    "书非则听白却界达光放强即像难且权思王象完设式色路记南品住告类求据程北边死张该交规万取拉格望觉术"
    "领共确传师观清今切院让识候带导争运笑飞风步改收根干造言联持组每济车亲极林服快办议往元英士证近失"
    "转夫令准布始怎呢存未远叫台单影具罗字爱击流备兵连调深商算质团集百需价花党华城石级整府离况亚请技"
    "际约示复病息究线似官火断精满支视消越器容照须九增研写称企八功吗包片史委乎查轻易早曾除农找装广显"
    "营销广告品牌传播用户数据平台活动媒体创意策略效果市场目标背景执行互联网案例项目内容社交视频微信博"
    "直播曝光点击转化增长流量粉丝消费者年轻智能技术产品服务行业类别时间名称企代理奖超过亿万次提升"
)


BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_BAD_CHARS = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f-\x9f\ufffd]")
_SAMPLE = 200_000  # characters looked at by the statistical checks


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode bytes of unknown encoding; returns (text, encoding name). Never raises.

    Order: BOM, UTF-16 without BOM (NULs at alternating positions), strict UTF-8, GB18030 vs
    Big5 (scored by common characters), charset_normalizer, and UTF-8 with replacement last.
    """
    for bom, name in BOMS:
        if data.startswith(bom):
            start = 0 if name == "utf-8-sig" else len(bom)
            text = strict_decode(data[start:], name)
            if text is not None:
                return text, name
            break
    # Before UTF-8: ASCII-heavy UTF-16 is valid UTF-8 too (NUL is a valid UTF-8 byte).
    utf16 = _utf16_without_bom(data)
    if utf16 is not None:
        return utf16
    text = strict_decode(data, "utf-8")
    if text is not None:
        return text, "utf-8"
    if b"\x00" in data:  # NULs but not UTF-16: binary; the caller decides what to do with it
        return data.decode("utf-8", errors="replace"), "utf-8"
    chinese = _gb_or_big5(data)
    if chinese is not None and chinese[2]:
        return chinese[0], chinese[1]
    guessed = _charset_normalizer(data)
    if guessed is not None:
        return guessed
    if chinese is not None:
        return chinese[0], chinese[1]
    return data.decode("utf-8", errors="replace"), "utf-8"


def strict_decode(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _utf16_without_bom(data: bytes) -> tuple[str, str] | None:
    if len(data) < 4 or len(data) % 2:
        return None
    even, odd = data[0::2].count(0), data[1::2].count(0)
    # ASCII (newlines, digits, spaces) in UTF-16 puts NULs on one side only.
    if max(even, odd) < max(2, len(data) // 200) or min(even, odd) * 10 > max(even, odd):
        return None
    name = "utf-16-le" if odd > even else "utf-16-be"
    text = strict_decode(data, name)
    if text is None or _bad_share(text) > 0.05:
        return None
    return text, name


def _gb_or_big5(data: bytes) -> tuple[str, str, bool] | None:
    """The better of GB18030 and Big5: (text, encoding, looks like real Chinese)."""
    candidates = []
    gb = strict_decode(data, "gb18030")
    if gb is not None:
        candidates.append((_common_score(gb), gb, "gb18030"))
    for name in ("big5", "cp950"):  # cp950: Windows' Big5, a few more characters
        big5 = strict_decode(data, name)
        if big5 is not None:
            candidates.append((_common_score(big5), big5, name))
            break
    if not candidates:
        return None
    # max() keeps the first of equal scores: GB18030 wins ties (mainland files are the norm).
    (hits, han), text, name = max(candidates, key=lambda c: c[0][0])
    return text, name, han == 0 or hits >= 0.2 * han


@cache
def _common_chars() -> frozenset[str]:
    import zhconv

    chars = set(_COMMON_ZH)
    for ch in _COMMON_ZH:
        for variant in ("zh-hant", "zh-tw", "zh-hk"):
            chars.update(zhconv.convert(ch, variant))
    return frozenset(chars)


def _common_score(text: str) -> tuple[int, int]:
    """(common Chinese characters, all Han characters) in a sample of ``text``."""
    common = _common_chars()
    sample = text[:_SAMPLE]
    han = sum(1 for ch in sample if "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff")
    return sum(1 for ch in sample if ch in common), han


def _charset_normalizer(data: bytes) -> tuple[str, str] | None:
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        if best is None:
            return None
        return str(best), best.encoding
    except Exception:  # a detector failure must not stop the fallback
        log.debug("charset_normalizer failed", exc_info=True)
        return None


def _bad_share(text: str) -> float:
    sample = text[:_SAMPLE]
    return len(_BAD_CHARS.findall(sample)) / max(1, len(sample))


def refuse_binary(p: Path, text: str) -> None:
    if "\x00" in text or _bad_share(text) > 0.1:
        raise ReadError(p, "二进制数据，不是文本")
