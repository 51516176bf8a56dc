"""GGUF files on the CPU through llama.cpp (``llama-cpp-python``), one model per process.

llama.cpp reads the GGUF as it is (no conversion, no torch) and decoded the bundled model at
1.6-1.9x the speed of the transformers int8 path on 2 cores. Its worker threads spin while they
wait for each other, so a thread whose core another process takes stalls every token: with one
of 2 cores busy, 2 threads fell to 1-3 tok/s where 1 thread kept 8-12. Hence the threads follow
the cores that are free: measured before each reply (:func:`analyzer.llm.engines.free_cores`),
and cut to one mid-reply when tokens start to come much slower than they did (a process started
meanwhile). Nothing is raised back within a reply; the next reply measures again. A thread count
the user set (``LoadOptions.threads``) is kept as it is.

``llama_cpp`` is imported on the first load only.
"""

from __future__ import annotations

import atexit
import codecs
import gc
import random
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from analyzer.errors import ModelError
from analyzer.llm.base import (
    GREEDY,
    Message,
    Sampling,
    check_budget,
    reply,
    split_prefix,
)
from analyzer.llm.device import LoadOptions, physical_cores
from analyzer.llm.engines import EngineChoice, free_cores
from analyzer.llm.sources import ModelSource
from analyzer.progress import CancelToken, Progress, ProgressCallback, no_progress

MAX_CONTEXT = 8192  # tokens: a prompt of ~1,500 and a reply of a few hundred fit many times
N_BATCH = 512
# Thread watchdog: with more than one thread, a reply whose recent tokens come this many times
# slower than its fastest ones goes on with one thread (see the module docstring).
SLOWDOWN = 2.5
WINDOW = 4


@dataclass
class LoadedLlama:
    source: ModelSource
    options: LoadOptions
    llm: Any  # llama_cpp.Llama
    threads: int  # the most threads a reply may use
    context: int
    seconds: float


_lock = threading.Lock()
_current: LoadedLlama | None = None


def get_llama(
    source: ModelSource,
    options: LoadOptions,
    *,
    on_progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> LoadedLlama:
    """The process's one llama.cpp model; loads it, or replaces a different one."""
    global _current
    with _lock:
        if _current is not None and (_current.source, _current.options) == (source, options):
            return _current
        _unload_locked()
        _current = _load(source, options, on_progress=on_progress, cancel=cancel)
        atexit.unregister(unload)  # once: freed before the interpreter tears llama_cpp down
        atexit.register(unload)
        return _current


def unload() -> None:
    with _lock:
        _unload_locked()


def _unload_locked() -> None:
    global _current
    if _current is None:
        return
    llm = _current.llm
    _current = None
    close = getattr(llm, "close", None)
    if callable(close):
        close()
    del llm
    gc.collect()


def _load(
    source: ModelSource,
    options: LoadOptions,
    *,
    on_progress: ProgressCallback,
    cancel: CancelToken | None,
) -> LoadedLlama:
    from analyzer.llm.loader import gguf_path_for  # the bundled file is assembled there

    start = time.perf_counter()
    on_progress(Progress(0, 2, "准备模型文件"))
    path = gguf_path_for(source, on_progress=on_progress, cancel=cancel)
    if cancel is not None:
        cancel.raise_if_cancelled()
    on_progress(Progress(1, 2, "llama.cpp 加载模型"))
    try:
        import llama_cpp
    except ImportError as exc:
        raise ModelError(f"llama-cpp-python 无法导入：{exc}") from exc
    threads = max(1, options.threads or physical_cores())
    llm = _open(llama_cpp, path, MAX_CONTEXT, threads)
    trained = _trained_context(llm.metadata)
    if trained < MAX_CONTEXT:  # an older model: past its trained length it writes nonsense
        llm.close()
        llm = _open(llama_cpp, path, trained, threads)
    template = llm.metadata.get("tokenizer.chat_template")
    if not template:
        llm.close()
        raise ModelError(
            f"{source} 没有对话模板（chat template）：请使用指令微调模型（…-Instruct / …-Chat）"
        )
    on_progress(Progress(2, 2, "模型就绪"))
    return LoadedLlama(source, options, llm, threads, llm.n_ctx(), time.perf_counter() - start)


def _open(llama_cpp: Any, path: Path, context: int, threads: int) -> Any:
    try:
        return llama_cpp.Llama(
            model_path=str(path),
            n_ctx=context,
            n_batch=N_BATCH,
            n_threads=threads,
            n_threads_batch=threads,
            # The repetition penalty covers the whole reply, as on the transformers engine
            # (llama.cpp's default is its last 64 tokens: drafts came out twice as long, padded
            # with generic filler the penalty would have discouraged).
            last_n_tokens_size=context,
            verbose=False,
        )
    except (ValueError, RuntimeError) as exc:
        raise ModelError(
            f"llama.cpp 无法加载 {path}：{exc}（文件可能不完整，或架构不受支持）"
        ) from exc


def _trained_context(metadata: dict[str, str]) -> int:
    """The context the model was trained with (MAX_CONTEXT when the header does not say)."""
    arch = metadata.get("general.architecture", "")
    try:
        return max(256, int(metadata[f"{arch}.context_length"]))
    except (KeyError, ValueError):
        return MAX_CONTEXT


class LlamaCppGenerator:
    """A :class:`~analyzer.llm.base.Generator` over a GGUF model in llama.cpp."""

    engine = "llama.cpp"
    continues_reply = True  # a last assistant message is continued (see base.split_prefix)

    def __init__(
        self, loaded: LoadedLlama, choice: EngineChoice, sampling: Sampling = GREEDY
    ) -> None:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self.loaded = loaded
        self.choice = choice
        self.sampling = sampling
        self.finish_reason = ""
        self.last_token_count = 0
        self.last_prompt_tokens = 0
        self.last_threads: list[int] = []  # threads used in the last reply, as they changed
        llm = loaded.llm
        eos, bos = llm.token_eos(), llm.token_bos()
        self._formatter = Jinja2ChatFormatter(
            template=llm.metadata["tokenizer.chat_template"],
            eos_token=llm._model.token_get_text(eos) if eos != -1 else "",
            bos_token=llm._model.token_get_text(bos) if bos != -1 else "",
        )

    @property
    def label(self) -> str:
        return f"{self.loaded.source} · llama.cpp CPU, ≤{self.loaded.threads} threads"

    def encode(self, prompt_messages: Sequence[Message]) -> list[int]:
        """The chat-formatted prompt as token ids, as llama.cpp's own server would build it. A
        last message of the assistant is the start of the reply, which the model continues."""
        messages, prefix = split_prefix(prompt_messages)
        prompt = self._formatter(messages=cast(Any, messages)).prompt + prefix
        return list(self.loaded.llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True))

    def stream(
        self,
        prompt_messages: Sequence[Message],
        *,
        max_new_tokens: int,
        cancel: CancelToken | None = None,
        time_budget: float | None = None,
        sampling: Sampling | None = None,
    ) -> Iterator[str]:
        check_budget(max_new_tokens)
        if _current is not self.loaded:  # its llama.cpp state is freed: using it would crash
            raise ModelError("这个模型已经卸载（同一进程只保留一个模型），请重新加载模型")
        s = sampling or self.sampling
        deadline = None if time_budget is None else time.monotonic() + time_budget
        self.finish_reason = ""
        self.last_token_count = 0
        tokens = self.encode(prompt_messages)
        self.last_prompt_tokens = len(tokens)
        room = self.loaded.context - len(tokens)
        if room < 16:
            raise ModelError(
                f"提示词有 {len(tokens)} 个 token，超过了 llama.cpp 的上下文长度 "
                f"{self.loaded.context}：请减少简报或参考案例的内容"
            )
        # A reply that would overflow the context ends there, as at its token budget.
        inner = self._decode(tokens, min(max_new_tokens, room), s, cancel, deadline)
        try:
            yield from reply(self, inner, s, cancel)
        except MemoryError as exc:
            raise ModelError(
                f"用 {self.loaded.source} 生成时内存不足：请关闭其他程序，或换用更小的模型"
            ) from exc

    def _decode(
        self,
        tokens: list[int],
        limit: int,
        s: Sampling,
        cancel: CancelToken | None,
        deadline: float | None,
    ) -> Iterator[str]:
        llm = self.loaded.llm
        fixed = self.loaded.options.threads is not None  # the user's number: kept as given
        threads = self.loaded.threads if fixed else min(self.loaded.threads, free_cores())
        llm._ctx.set_n_threads(threads, threads)
        self.last_threads = [threads]
        if not s.greedy:
            llm.set_seed(s.seed if s.seed is not None else random.randrange(2**31))
        if cancel is not None:
            cancel.raise_if_cancelled()
        reply = llm.generate(
            tokens,
            temp=0.0 if s.greedy else s.temperature,
            top_p=1.0 if s.greedy else s.top_p,
            top_k=0,
            min_p=0.0,
            repeat_penalty=s.repetition_penalty,
        )
        try:
            yield from self._pieces(reply, limit, cancel, deadline, 1 if fixed else threads)
        finally:
            reply.close()  # leaves llama.cpp's state ready for the next reply

    def _pieces(
        self,
        reply: Iterator[int],
        limit: int,
        cancel: CancelToken | None,
        deadline: float | None,
        threads: int,  # 1: never cut (one already, or fixed by the user)
    ) -> Iterator[str]:
        import llama_cpp

        llm = self.loaded.llm
        vocab = llm._model.vocab
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        gaps: list[float] = []
        last = 0.0
        for count, token in enumerate(reply, start=1):
            now = time.monotonic()
            if last:
                gaps.append(now - last)
            last = now
            if llama_cpp.llama_vocab_is_eog(vocab, token):
                self.finish_reason = "eos"
                break
            self.last_token_count = count
            if piece := decoder.decode(llm.detokenize([token])):
                yield piece
            if count >= limit:
                self.finish_reason = "max_tokens"
                break
            if deadline is not None and now >= deadline:
                self.finish_reason = "time"
                break
            if cancel is not None:
                cancel.raise_if_cancelled()
            if threads > 1 and _slowed_down(gaps):
                threads = 1  # another process took a core: spinning threads would stall
                llm._ctx.set_n_threads(threads, threads)
                self.last_threads.append(threads)
        if tail := decoder.decode(b"", final=True):
            yield tail.rstrip("\ufffd")

    def details(self) -> dict[str, Any]:
        llm = self.loaded.llm
        return {
            "engine": "llama.cpp",
            "why": self.choice.reason,
            "source": str(self.loaded.source),
            "location": self.loaded.source.location,
            "architecture": llm.metadata.get("general.architecture", ""),
            "placement": f"cpu, llama.cpp, {self.loaded.threads} threads"
            + (
                ""
                if self.loaded.options.threads
                else " (fewer while other programs keep cores busy)"
            ),
            "context_tokens": self.loaded.context,
            "load_seconds": round(self.loaded.seconds, 2),
        }


def _slowed_down(gaps: list[float]) -> bool:
    """The last few tokens came ``SLOWDOWN`` times slower than the fastest ones so far."""
    if len(gaps) < WINDOW + 2:
        return False
    recent = sorted(gaps[-WINDOW:])[WINDOW // 2]
    return recent > SLOWDOWN * min(gaps)
