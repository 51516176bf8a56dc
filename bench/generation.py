"""Drafting engines side by side on the bundled GGUF, llama.cpp as the baseline.

    .venv/bin/python bench/generation.py [--tokens 128] [--repeats 2] [--only engines|busy|draft|quality|lookup]

* engines: decode tok/s and time to first token of every engine on the same prompt and timer:
  llama.cpp as the bare library runs it (``Llama.generate``, one thread per core: the baseline),
  the app's llama.cpp engine (the default on CPU), transformers int8 (the engine before it, and
  the fallback), the same with prompt-lookup decoding, and an OpenAI-compatible server on this
  machine (``python -m llama_cpp.server``) drafted through. Goal: default engine ≥ 1.0x baseline.
* busy: the same with one core kept busy by another process (a Python busy loop).
* draft: a whole Golden Mouse entry (corpus/briefs/golden_mouse.toml) per engine; drafting
  through the local server against the same llama.cpp in process (goal: overhead ≤ 10 %).
* quality: every sample brief drafted by llama.cpp and by transformers: length, sections cut
  at the token budget, repairs the drafter had to make (the drafts go to bench/out/).
* lookup: prompt-lookup decoding on transformers over the sample briefs' prompts: is the text
  the same as plain greedy decoding, and is it faster (int8, the CPU default, and fp32)?

Other processes skew every number: the load average is printed before and after; each figure is
the best of ``--repeats`` runs. ``bench/transformers_cpu.py`` has the transformers details.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyzer.llm import LoadOptions, Sampling, ServerOptions, load_generator, unload  # noqa: E402
from analyzer.llm.device import physical_cores  # noqa: E402
from analyzer.llm.sources import install_default  # noqa: E402

PROMPT = [
    {"role": "system", "content": "你是资深的营销奖项参赛材料撰稿人。"},
    {
        "role": "user",
        "content": "请为一个新茶饮品牌的夏季城市限定杯活动写一段营销背景，交代行业竞争、"
        "品牌处境和要解决的挑战，写得详细一些，分三段。",
    },
]
_runs = iter(range(1, 1 << 30))


def fresh_prompt() -> list[dict[str, str]]:
    """PROMPT with a new first line: no engine or server can reuse a cached prompt, so every
    run reads its whole prompt, as a new brief is."""
    system = {"role": "system", "content": f"（第 {next(_runs)} 次）{PROMPT[0]['content']}"}
    return [system, PROMPT[1]]


PLAIN = Sampling(repetition_penalty=1.0, stop_on_repeated_line=False)
BRIEF = ROOT / "corpus" / "briefs" / "golden_mouse.toml"


def load_avg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


@contextlib.contextmanager
def busy_core() -> Iterator[None]:
    """One core kept busy by another process for the duration."""
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    time.sleep(0.5)
    try:
        yield
    finally:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def local_server(path: Path, threads: int) -> Iterator[str]:
    """``python -m llama_cpp.server`` on this machine with the bundled GGUF, as a team runs it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(path), "--model_alias",
         "bundled", "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "8192",
         "--n_threads", str(threads), "--n_threads_batch", str(threads), "--verbose", "False"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.kill()
        proc.wait()


# ---------------------------------------------------------------------------- timing


Run = tuple[float, float, int]  # time to first token, decode tok/s, tokens


def timed(pieces: Iterator[Any], count: Callable[[], int]) -> Run:
    start = time.perf_counter()
    first = None
    for _ in pieces:
        if first is None:
            first = time.perf_counter() - start
    total = time.perf_counter() - start
    n = count()
    ttft = first if first is not None else total
    return ttft, (n - 1) / max(total - ttft, 1e-9), n


def best(runs: Sequence[Run]) -> Run:
    return min(r[0] for r in runs), max(r[1] for r in runs), runs[0][2]


class Bare:
    """llama.cpp as the bare library runs it: ``Llama.generate`` with one thread per core on the
    chat-formatted prompt, greedy; the prompt's cache is cleared before each run."""

    def __init__(self, path: Path, threads: int) -> None:
        import llama_cpp
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self.llm = llama_cpp.Llama(model_path=str(path), n_ctx=8192, n_threads=threads,
                                   n_threads_batch=threads, verbose=False)  # fmt: skip
        self.fmt = Jinja2ChatFormatter(self.llm.metadata["tokenizer.chat_template"], "", "")
        self.n = 0

    def run(self, n: int) -> Run:
        import llama_cpp

        prompt = self.fmt(messages=fresh_prompt()).prompt  # type: ignore[arg-type]
        tokens = self.llm.tokenize(prompt.encode(), add_bos=False, special=True)
        self.n = 0
        vocab = self.llm._model.vocab

        def pieces() -> Iterator[int]:
            for token in self.llm.generate(tokens, temp=0.0, top_k=0, top_p=1.0, min_p=0.0,
                                           repeat_penalty=1.0):  # fmt: skip
                if llama_cpp.llama_vocab_is_eog(vocab, token):
                    return
                self.n += 1
                yield token
                if self.n >= n:
                    return

        return timed(pieces(), lambda: self.n)

    def close(self) -> None:
        self.llm.close()


def run_generator(gen: Any, n: int) -> Run:
    sampling = getattr(gen, "bench_sampling", PLAIN)
    pieces = gen.stream(fresh_prompt(), max_new_tokens=n, sampling=sampling)
    return timed(pieces, lambda: int(gen.last_token_count))


def engines(path: Path, n: int, repeats: int, *, busy: bool) -> None:
    cores = physical_cores()
    title = "one core kept busy by a busy-loop process" if busy else "no busy process added"
    print(f"\n## Decode on the bundled GGUF, {title}: {n} tokens greedy, best of {repeats}")
    print(f"(load average before: {load_avg()})")
    print(f"| {'engine':<46} | {'TTFT s':>7} | {'tok/s':>6} | {'ratio':>5} | {'threads':<9} |")
    print(f"|{'-' * 48}|{'-' * 9}|{'-' * 8}|{'-' * 7}|{'-' * 11}|")
    rows: list[tuple[str, Callable[[], Run], Callable[[], str]]] = []
    bare = Bare(path, cores)
    rows.append((f"llama.cpp bare, n_threads={cores} (baseline)", lambda: bare.run(n),
                 lambda: str(cores)))  # fmt: skip
    ours = load_generator(None, options=LoadOptions(device="cpu", engine="llama.cpp"))
    rows.append(("ours: llama.cpp engine (default on CPU)", lambda: run_generator(ours, n),
                 lambda: "→".join(map(str, ours.last_threads))))  # fmt: skip
    with contextlib.ExitStack() as stack:
        if busy:
            stack.enter_context(busy_core())
        results = []
        for name, fn, threads in rows:
            fn()  # warm-up
            results.append((name, best([fn() for _ in range(repeats)]), threads()))
        bare.close()
        unload()
        tf = load_generator(None, options=LoadOptions(device="cpu", engine="transformers"))
        for name, sampling in (
            ("transformers int8 (fallback)", PLAIN),
            ("transformers int8 + prompt lookup", Sampling(repetition_penalty=1.0,
             stop_on_repeated_line=False, prompt_lookup=8)),
        ):  # fmt: skip
            tf.bench_sampling = sampling
            run_generator(tf, 4)
            results.append((name, best([run_generator(tf, n) for _ in range(repeats)]), str(cores)))
        unload()
        with local_server(path, cores) as url:
            remote = load_generator(url, options=LoadOptions(server=ServerOptions()))
            run_generator(remote, 4)
            runs = [run_generator(remote, n) for _ in range(repeats)]
            results.append(("server: llama_cpp.server here, via HTTP", best(runs), str(cores)))
    base = results[0][1][1]
    for name, (ttft, rate, _count), threads in results:
        print(f"| {name:<46} | {ttft:>7.3f} | {rate:>6.1f} | {rate / base:>5.2f} | {threads:<9} |")


# ---------------------------------------------------------------------------- whole drafts


def draft_timed(gen: Any, brief: Any, max_tokens: int) -> tuple[Any, float, int]:
    """A whole entry: (the draft, wall seconds, tokens generated)."""
    from analyzer.drafting import DraftOptions, draft_entry

    tokens = 0

    def counted(_section: Any) -> None:
        nonlocal tokens
        tokens += gen.last_token_count

    start = time.perf_counter()
    entry = draft_entry(brief, gen, DraftOptions(max_new_tokens=max_tokens), on_section=counted)
    return entry, time.perf_counter() - start, tokens


def draft(path: Path, max_tokens: int, repeats: int) -> None:
    """A whole entry per engine. In process against the server: the same llama.cpp, the same
    threads, drafted in turn ``repeats`` times (best of each), so drift in the machine's load
    reaches both alike."""
    from analyzer.documents.brief import load_brief

    brief = load_brief(BRIEF)
    cores = physical_cores()
    print(f"\n## A whole Golden Mouse entry ({BRIEF.name}, no exemplars, {max_tokens} "
          f"tokens/section), the first two in turn, best of {repeats}")  # fmt: skip
    print(f"| {'engine':<46} | {'seconds':>7} | {'tokens':>6} | {'tok/s':>6} | {'ratio':>5} |")
    print(f"|{'-' * 48}|{'-' * 9}|{'-' * 8}|{'-' * 8}|{'-' * 7}|")
    texts: dict[str, str] = {}
    rows: dict[str, tuple[float, int]] = {}

    def one(name: str, gen: Any) -> None:
        entry, seconds, tokens = draft_timed(gen, brief, max_tokens)
        rows[name] = min(rows.get(name, (seconds, tokens)), (seconds, tokens))
        texts[name] = entry.to_markdown()

    local = f"llama.cpp in process, {cores} threads"
    remote = f"llama_cpp.server here, {cores} threads, via HTTP"
    with local_server(path, cores) as url:
        pair = {
            local: load_generator(None, options=LoadOptions(device="cpu", engine="llama.cpp",
                                                            threads=cores)),
            remote: load_generator(url),
        }  # fmt: skip
        for _ in range(repeats):
            for name, gen in pair.items():
                one(name, gen)
    unload()
    one("llama.cpp in process, threads from free cores (default)", load_generator(
        None, options=LoadOptions(device="cpu", engine="llama.cpp")))  # fmt: skip
    unload()
    one("transformers int8", load_generator(
        None, options=LoadOptions(device="cpu", engine="transformers")))  # fmt: skip
    unload()
    base = rows[local][0]
    for name, (seconds, tokens) in rows.items():
        print(f"| {name:<46} | {seconds:>7.1f} | {tokens:>6} | {tokens / seconds:>6.1f} | "
              f"{seconds / base:>5.2f} |")  # fmt: skip
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    for i, (name, text) in enumerate(texts.items()):
        (out / f"draft-{i}.md").write_text(f"<!-- {name} -->\n{text}", encoding="utf-8")
    print(f"the drafts: bench/out/draft-0.md … draft-{len(texts) - 1}.md (in the order above)")
    print(
        f"server overhead (server / in process, goal ≤ 1.10): {rows[remote][0] / base:.2f}; "
        f"the same draft through the server as in process: {texts[local] == texts[remote]}"
    )


def quality(max_tokens: int) -> None:
    """Every sample brief drafted by each local engine: what a writer would notice."""
    from analyzer.documents.brief import load_brief

    print(f"\n## Every sample brief drafted per engine (no exemplars, {max_tokens} tokens/section)")
    print("cut = sections that ran into the token budget (padding), fixes = repairs the drafter's")
    print("guards made (names, figures, clipped facts put back), flags = numbers marked 【待核实】")
    print(f"| {'brief':<14} | {'engine':<12} | {'seconds':>7} | {'tokens':>6} | {'chars':>5} | "
          f"{'cut':>3} | {'fixes':>5} | {'flags':>5} |")  # fmt: skip
    print(f"|{'-' * 16}|{'-' * 14}|{'-' * 9}|{'-' * 8}|{'-' * 7}|{'-' * 5}|{'-' * 7}|{'-' * 7}|")
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    for engine in ("llama.cpp", "transformers"):
        gen = load_generator(None, options=LoadOptions(device="cpu", engine=engine))
        for path in sorted((ROOT / "corpus" / "briefs").glob("*.toml")):
            entry, seconds, tokens = draft_timed(gen, load_brief(path), max_tokens)
            text = entry.to_markdown()
            (out / f"{path.stem}-{engine}.md").write_text(text, encoding="utf-8")
            cut = sum(s.finish_reason == "max_tokens" for s in entry.sections)
            fixes = sum(len(s.notes) for s in entry.sections)
            chars = sum(len(s.text) for s in entry.sections)
            print(f"| {path.stem:<14} | {engine:<12} | {seconds:>7.1f} | {tokens:>6} | "
                  f"{chars:>5} | {cut:>3} | {fixes:>5} | {len(entry.flags):>5} |")  # fmt: skip
        unload()
    print("the drafts: bench/out/<brief>-<engine>.md")


# ---------------------------------------------------------------------------- prompt lookup


def section_prompts(per_brief: int) -> list[list[dict[str, str]]]:
    """The drafter's own prompts for the first sections of every sample brief."""
    from analyzer.documents.brief import load_brief
    from analyzer.drafting import DraftOptions, draft_entry

    class Recorder:
        finish_reason = "eos"
        last_token_count = 1

        def __init__(self) -> None:
            self.prompts: list[list[dict[str, str]]] = []

        def stream(self, messages: Any, **_: Any) -> Iterator[str]:
            self.prompts.append([dict(m) for m in messages])
            yield "。"

    prompts = []
    for path in sorted((ROOT / "corpus" / "briefs").glob("*.toml")):
        rec = Recorder()
        draft_entry(load_brief(path), rec, DraftOptions(tries=1))
        prompts += rec.prompts[:per_brief]
    return prompts


def lookup(per_brief: int, n: int, guess: int) -> None:
    prompts = section_prompts(per_brief)
    print(f"\n## Prompt-lookup decoding on transformers: {len(prompts)} section prompts of the "
          f"sample briefs, greedy, {n} tokens, up to {guess} guessed tokens per pass")  # fmt: skip
    print(f"| {'weights':<18} | {'same text':>9} | {'plain s':>8} | {'lookup s':>8} | "
          f"{'speed-up':>8} | {'guesses kept':>12} |")  # fmt: skip
    print(f"|{'-' * 20}|{'-' * 11}|{'-' * 10}|{'-' * 10}|{'-' * 10}|{'-' * 14}|")
    for name, quantize in (("int8 (CPU default)", True), ("fp32", False)):
        gen = load_generator(None, options=LoadOptions(device="cpu", engine="transformers",
                                                       quantize=quantize))  # fmt: skip
        same = 0
        seconds = [0.0, 0.0]
        kept = tokens = 0
        for prompt in prompts:
            out = []
            for i, look in enumerate((0, guess)):
                s = Sampling(prompt_lookup=look)
                start = time.perf_counter()
                out.append("".join(gen.stream(prompt, max_new_tokens=n, sampling=s)))
                seconds[i] += time.perf_counter() - start
            same += out[0] == out[1]
            kept += gen.last_accepted_guesses
            tokens += gen.last_token_count
        unload()
        print(f"| {name:<18} | {same:>4}/{len(prompts):<4} | {seconds[0]:>8.1f} | "
              f"{seconds[1]:>8.1f} | {seconds[0] / seconds[1]:>7.2f}x | "
              f"{kept:>5}/{tokens:<6} |")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--tokens", type=int, default=128, help="tokens per decode run")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--only", choices=("engines", "busy", "draft", "quality", "lookup"))
    ap.add_argument("--lookup-sections", type=int, default=2, help="sections per sample brief")
    args = ap.parse_args()
    import llama_cpp

    path = install_default()
    print(f"llama-cpp-python {llama_cpp.__version__}, {physical_cores()} physical cores, "
          f"load average {load_avg()}")  # fmt: skip
    if args.only in (None, "engines"):
        engines(path, args.tokens, args.repeats, busy=False)
    if args.only in (None, "busy"):
        engines(path, args.tokens, args.repeats, busy=True)
    if args.only in (None, "draft"):
        draft(path, 320, args.repeats)
    if args.only in (None, "quality"):
        quality(320)
    if args.only in (None, "lookup"):
        lookup(args.lookup_sections, 160, 8)
    print(f"\nload average at the end: {load_avg()}")


if __name__ == "__main__":
    main()
