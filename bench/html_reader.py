"""Saved web pages: the previous HTML reader (every visible text of the page) against the
article reader (trafilatura's main content, read the same way), on pages made from real texts.

Each labelled text (``../shared/realcases`` and ``tests/analyzer/realdocs``) is wrapped in a page
the way the sites it comes from show it, in three page templates: a portal article (navigation,
breadcrumbs, an info line, header fields in a table, headings as <h2>, a sidebar of hot
articles, related links, comments, a footer), a document-sharing page (login bar, upload
details, download buttons, related documents) and a WeChat-style article (account header, bold
headings, "read more" footer). The boilerplate is written to be nasty: its links name section
words (项目背景怎么写…) and carry figures (阅读 1.2万).

For each reader it prints: article lines kept (share of the text's lines of 6+ characters found
in the output), boilerplate kept (share of the page's boilerplate strings found in the output),
and what the parser makes of the output (headings recall, spurious headings, header-field
recall, entry / non-entry), with the time per page.

    .venv/bin/python bench/html_reader.py [--realcases DIR]
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from parse_quality import expected_award, match_count, norm, norm_heading, realcases_dir  # noqa: E402

from analyzer.library.parse import parse_text  # noqa: E402
from analyzer.library.sections import field_vocabulary, normalized  # noqa: E402
from analyzer.library.webpage import html_article, page_text  # noqa: E402

NAV = ["首页", "新闻资讯", "案例库", "奖项动态", "行业报告", "专题", "活动", "关于我们"]
HOT = [
    "项目背景怎么写才能打动评委？十个获奖案例告诉你",
    "营销目标与KPI设置指南（附模板下载）",
    "2023金旗奖获奖案例：某品牌传播效果复盘",
    "阅读 1.2万 · 评论 86",
    "策略与创意：如何让一个创意跑赢预算",
]
RELATED = [
    "相关推荐：2022艾菲奖实效案例合集",
    "【干货】执行过程与媒体表现该写多少字",
    "点击查看更多案例 >>",
]
FOOTER = [
    "版权所有 © 2024 某营销传播网 京ICP备12345678号-1",
    "联系电话：010-12345678 投稿邮箱：tougao@example.com",
    "友情链接：某广告网 某公关网 某数字营销网",
]
COMMENTS = ["发表评论", "网友评论：写得很详细，收藏了！点赞 128", "登录后才能评论"]
DOCSHARE = [
    "登录 | 注册 | 上传文档 | 会员中心",
    "收藏 版权申诉 举报 下载",
    "下载本文档，所需积分：5",
    "相关文档：营销策划方案模板大全",
    "本站所有资源均来自网友上传，如有侵权请联系删除",
]
WECHAT = [
    "某营销观察",
    "点击上方蓝字关注我们",
    "阅读原文",
    "喜欢此内容的人还喜欢",
    "推荐阅读：年度十大营销案例",
]

_FIELD = re.compile(r"^\s*([^:：>\s]{2,8})\s*[:：>]\s*(\S.*)$")


def _lines(text: str) -> list[str]:
    """The text's lines; the first is the page's headline when it is short enough to be one."""
    lines = [line.strip() for line in text.split("\n")]
    lines = [line for line in lines if line and not line.startswith("SOURCE:")]
    return lines if len(lines[0]) <= 60 else ["", *lines]


def _is_heading(line: str) -> bool:
    return len(line) <= 16 and not re.search(r"[，。；,;]", line)


def portal(lines: list[str]) -> tuple[str, list[str]]:
    fields = field_vocabulary()
    body, rows = [], []
    for line in lines[1:]:
        m = _FIELD.match(line)
        if m and normalized(m.group(1)) in fields:
            rows.append(
                f"<tr><td>{html.escape(m.group(1))}</td><td>{html.escape(m.group(2))}</td></tr>"
            )
            continue
        if rows:
            body.append(f"<table class='info'>{''.join(rows)}</table>")
            rows = []
        tag = "h2" if _is_heading(line) else "p"
        body.append(f"<{tag}>{html.escape(line)}</{tag}>")
    if rows:
        body.append(f"<table class='info'>{''.join(rows)}</table>")
    nav = "".join(f"<li><a href='/c{i}'>{n}</a></li>" for i, n in enumerate(NAV))
    hot = "".join(f"<li><a href='/h{i}'>{h}</a></li>" for i, h in enumerate(HOT))
    rel = "".join(f"<li><a href='/r{i}'>{r}</a></li>" for i, r in enumerate(RELATED))
    com = "".join(f"<div class='comment'>{c}</div>" for c in COMMENTS)
    foot = "".join(f"<p>{f}</p>" for f in FOOTER)
    page = f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<title>{html.escape(lines[0])} - 某营销传播网</title>
<meta name="keywords" content="营销案例,项目背景,营销目标,传播效果,获奖案例">
<meta name="description" content="{html.escape(" ".join(lines[1:3]))[:120]}">
</head><body>
<div class="header"><div class="logo">某营销传播网</div><ul class="nav">{nav}</ul></div>
<div class="crumb">当前位置：<a href="/">首页</a> &gt; <a href="/case">案例库</a> &gt; 正文</div>
<div class="wrap"><div class="article">
<h1>{html.escape(lines[0])}</h1><div class="info">发布时间：2023-10-12 来源：某营销周刊 浏览：1204</div>
<div class="content">{"".join(body)}</div>
<div class="related"><h3>相关推荐</h3><ul>{rel}</ul></div>
<div class="comments">{com}</div></div>
<div class="sidebar"><h3>热门文章</h3><ul>{hot}</ul></div></div>
<div class="footer">{foot}</div></body></html>"""
    return page, [*NAV, *HOT, *RELATED, *FOOTER, *COMMENTS, "当前位置"]


def docshare(lines: list[str]) -> tuple[str, list[str]]:
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines[1:])
    top = "".join(f"<div class='bar'>{d}</div>" for d in DOCSHARE[:2])
    bottom = "".join(f"<div class='bar'>{d}</div>" for d in DOCSHARE[2:])
    page = f"""<html><head><meta charset="utf-8"><title>{html.escape(lines[0])}_文档分享网</title></head>
<body>{top}<div class="docinfo">上传人：营销小王 文档编号：88123456 上传时间：2022-11-03 页数：12</div>
<div class="doc"><h1>{html.escape(lines[0])}</h1>{body}</div>{bottom}
<div class="footer"><p>{FOOTER[0]}</p></div></body></html>"""
    return page, [*DOCSHARE, FOOTER[0], "上传人"]


def wechat(lines: list[str]) -> tuple[str, list[str]]:
    parts = []
    for line in lines[1:]:
        inner = f"<strong>{html.escape(line)}</strong>" if _is_heading(line) else html.escape(line)
        parts.append(f"<section><p>{inner}</p></section>")
    page = f"""<html><head><meta charset="utf-8"><title>{html.escape(lines[0])}</title></head><body>
<div class="profile"><span>{WECHAT[0]}</span><p>{WECHAT[1]}</p></div>
<div class="rich_media"><h1 class="rich_media_title">{html.escape(lines[0])}</h1>
<div id="js_content">{"".join(parts)}</div></div>
<div class="tail"><a href="#">{WECHAT[2]}</a><p>{WECHAT[3]}</p><p>{WECHAT[4]}</p></div>
</body></html>"""
    return page, WECHAT


TEMPLATES: dict[str, Callable[[list[str]], tuple[str, list[str]]]] = {
    "portal": portal,
    "docshare": docshare,
    "wechat": wechat,
}
READERS: dict[str, Callable[[str], str]] = {
    "whole page (before)": page_text,
    "article (now)": html_article,
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--realcases", help="folder with labels.json (default ../shared/realcases)")
    args = ap.parse_args()
    folders = [
        f for f in (realcases_dir(args.realcases), ROOT / "tests" / "analyzer" / "realdocs") if f
    ]
    docs = []
    for folder in folders:
        labels = json.loads((folder / "labels.json").read_text(encoding="utf-8"))
        for name, label in labels.items():
            docs.append((label, _lines((folder / name).read_text(encoding="utf-8"))))
    html_article("<p>warm-up</p>")  # trafilatura's first call loads its models of a page
    print(f"# Saved web pages: {len(docs)} labelled texts × {len(TEMPLATES)} page templates")
    print(
        f"{'reader':22} {'article lines':>14} {'boilerplate':>12} {'headings':>9} {'spurious':>9}"
        f" {'fields':>7} {'entry':>7} {'ms/page':>8}"
    )
    for reader_name, reader in READERS.items():
        kept = total = leaked = boiler = 0
        heads = head_labels = extra = fields = field_labels = right = n = 0
        seconds = 0.0
        for label, lines in docs:
            for template in TEMPLATES.values():
                page, boilerplate = template(lines)
                start = time.perf_counter()
                out = reader(page)
                seconds += time.perf_counter() - start
                flat = norm(out)
                article = [norm(line) for line in lines if len(line) >= 6]
                kept += sum(1 for line in article if line in flat)
                total += len(article)
                bp = [norm(b) for b in boilerplate if len(b) >= 4]
                leaked += sum(1 for b in bp if b in flat)
                boiler += len(bp)
                doc = parse_text(out)
                want = [norm_heading(h) for h in label["headings"]]
                found = [norm_heading(h.title) for h in doc.headings] if doc.is_entry else []
                hits, spurious = match_count(want, found)
                heads, head_labels, extra = heads + hits, head_labels + len(want), extra + spurious
                values = [norm(v) for v in doc.fields.values()]
                fields += match_count([norm(v) for v in label["fields"].values()], values)[0]
                field_labels += len(label["fields"])
                right += doc.is_entry == label["entry"] and (
                    not label["entry"] or doc.award == expected_award(label["award"])
                )
                n += 1
        print(
            f"{reader_name:22} {kept / total:14.3f} {leaked / boiler:12.3f}"
            f" {heads / head_labels:9.3f} {extra:9d} {fields / field_labels:7.3f}"
            f" {right:>3}/{n:<3} {1000 * seconds / n:8.1f}"
        )
    print("\n(entry: entry / non-entry right and, for entries, the right award)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
