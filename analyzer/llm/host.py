"""A drafting model in its own process, behind the ``Generator`` protocol.

Importing torch, parsing a tokenizer's JSON and building it run in C while holding the GIL for
hundreds of milliseconds; in the process of a GUI that freezes the window, whatever thread does
the work. :class:`GeneratorProcess` loads the model (:func:`analyzer.llm.load_generator`) in a
child process and streams the reply back over a pipe, so the parent only ever waits on the pipe.
Closing it ends the child, which gives all of the model's memory back.

Messages (pickled tuples): parent → child ``("stream", messages, max_new_tokens, time_budget,
sampling)``, ``("cancel",)``, ``("close",)``; child → parent ``("progress", done, total,
message)``, ``("ready", label, details, continues_reply)``, ``("piece", text)``, ``("done",
finish_reason, tokens)``, ``("cancelled",)``, ``("error", class_name, message)``. The child loads
whatever :func:`analyzer.llm.load_generator` chooses: transformers, llama.cpp, or a server client.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from analyzer import errors
from analyzer.errors import AwardWriterError, Cancelled, ModelError
from analyzer.llm.base import Sampling
from analyzer.progress import CancelToken, Progress, ProgressCallback, no_progress

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from analyzer.llm import LoadOptions, Message, Sampling

POLL_SECONDS = 0.05


def _error(name: str, message: str) -> AwardWriterError:
    cls = getattr(errors, name, None)
    if isinstance(cls, type) and issubclass(cls, AwardWriterError) and cls is not Cancelled:
        try:
            return cls(message)
        except TypeError:  # ReadError and friends take (path, reason)
            pass
    return ModelError(message)


class GeneratorProcess:
    """``Generator`` whose model lives in a child process; see the module docstring."""

    def __init__(
        self,
        spec: str | None = None,
        *,
        options: LoadOptions | None = None,
        on_progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
        timeout: float = 3600.0,
    ) -> None:
        ctx = mp.get_context("spawn")  # never fork a process that runs Qt threads
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(
            target=_serve, args=(child, spec, options), daemon=True, name="award-writer-model"
        )
        self._proc.start()
        child.close()
        self._lock = threading.Lock()
        self.finish_reason = ""
        self.last_token_count = 0
        self.label = ""
        self._details: dict[str, Any] = {}
        self.continues_reply = False  # what the model in the child process can do (on ready)
        try:
            for msg in self._receive(cancel, timeout):
                if msg[0] == "progress":
                    on_progress(Progress(int(msg[1]), int(msg[2]), str(msg[3])))
                elif msg[0] == "ready":
                    self.label = str(msg[1])
                    self._details = dict(msg[2])
                    self.continues_reply = bool(msg[3]) if len(msg) > 3 else False
                    return
        except BaseException:
            self.close()
            raise
        raise ModelError("模型进程在模型加载完成前退出了")

    def _receive(
        self, cancel: CancelToken | None, timeout: float, on_poll: Any = None
    ) -> Iterator[tuple[Any, ...]]:
        """Messages from the child; an error message is raised; cancel raises ``Cancelled``."""
        waited = 0.0
        while True:
            if cancel is not None and cancel.cancelled:
                raise Cancelled()
            if on_poll is not None:
                on_poll()
            if not self._conn.poll(POLL_SECONDS):
                waited += POLL_SECONDS
                if not self._proc.is_alive():
                    raise ModelError(
                        f"模型进程意外退出（退出码 {self._proc.exitcode}）；"
                        "模型需要的内存可能超过了可用内存"
                    )
                if waited > timeout:
                    raise ModelError(f"模型进程在 {timeout:.0f} 秒内没有响应")
                continue
            waited = 0.0
            try:
                msg = self._conn.recv()
            except (EOFError, OSError) as exc:
                raise ModelError(f"模型进程意外退出（{exc}）") from exc
            if msg[0] == "error":
                raise _error(str(msg[1]), str(msg[2]))
            yield msg

    def stream(
        self,
        prompt_messages: Sequence[Message],
        *,
        max_new_tokens: int,
        cancel: CancelToken | None = None,
        time_budget: float | None = None,
        sampling: Sampling | None = None,
    ) -> Iterator[str]:
        with self._lock:  # one reply at a time over the pipe
            if not self._proc.is_alive():
                raise ModelError("模型进程没有在运行，请重新加载模型")
            self.finish_reason = ""
            self.last_token_count = 0
            request = [dict(m) for m in prompt_messages]
            self._conn.send(("stream", request, max_new_tokens, time_budget, sampling))
            asked = False
            over = False

            def forward_cancel() -> None:
                nonlocal asked
                if cancel is not None and cancel.cancelled and not asked:
                    self._conn.send(("cancel",))
                    asked = True

            try:
                for msg in self._receive(None, 3600.0, forward_cancel):
                    if msg[0] == "piece":
                        if not asked:
                            yield str(msg[1])
                    elif msg[0] in ("done", "cancelled"):
                        over = True
                        if asked or msg[0] == "cancelled":
                            self.finish_reason = "cancelled"
                            raise Cancelled()
                        self.finish_reason = str(msg[1])
                        self.last_token_count = int(msg[2])
                        return
            finally:
                if not over and self._proc.is_alive():
                    self._drain(asked)

    def _drain(self, asked: bool) -> None:
        """The caller stopped reading mid-reply: stop the child and skip the rest of it."""
        with contextlib.suppress(OSError, ValueError, ModelError, AwardWriterError):
            if not asked:
                self._conn.send(("cancel",))
            for msg in self._receive(None, 30.0):
                if msg[0] in ("done", "cancelled"):
                    return

    def close(self) -> None:
        """End the child process (the model's memory is freed with it)."""
        with contextlib.suppress(OSError, ValueError):
            self._conn.send(("close",))
        self._proc.join(2)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join(2)
        with contextlib.suppress(OSError):
            self._conn.close()

    def details(self) -> dict[str, Any]:
        """What the child's generator says about its engine and model (``models info``)."""
        return dict(self._details)

    @property
    def alive(self) -> bool:
        return self._proc.is_alive()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            if self._proc.is_alive():
                self._proc.kill()


# ---------------------------------------------------------------------------- the child


def _serve(conn: Connection, spec: str | None, options: LoadOptions | None) -> None:
    """The child process: load the model, then answer stream requests until closed."""
    send_lock = threading.Lock()

    def send(msg: tuple[Any, ...]) -> None:
        with send_lock:
            conn.send(msg)

    try:
        from analyzer.llm import load_generator

        gen = load_generator(
            spec,
            options=options,
            on_progress=lambda p: send(("progress", p.done, p.total, p.message)),
        )
        details = gen.details()
    except BaseException as exc:
        send(("error", type(exc).__name__, _message(exc)))
        return
    label = str(getattr(gen, "label", spec or "bundled"))
    send(("ready", label, details, bool(getattr(gen, "continues_reply", False))))
    requests: list[tuple[tuple[Any, ...], CancelToken]] = []
    current: list[CancelToken] = [CancelToken()]
    wake = threading.Event()

    def reader() -> None:  # cancel must reach the child while it generates
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                msg = ("close",)
            if msg[0] == "cancel":
                current[0].cancel()
                continue
            token = CancelToken()
            if msg[0] == "stream":
                current[0] = token
            else:  # close
                current[0].cancel()
            requests.append((msg, token))
            wake.set()
            if msg[0] == "close":
                return

    threading.Thread(target=reader, daemon=True).start()
    while True:
        wake.wait()
        wake.clear()
        while requests:
            msg, token = requests.pop(0)
            if msg[0] == "close":
                return
            try:
                for piece in gen.stream(
                    msg[1], max_new_tokens=msg[2], cancel=token, time_budget=msg[3], sampling=msg[4]
                ):
                    send(("piece", piece))
            except Cancelled:
                send(("cancelled",))
            except BaseException as exc:
                send(("error", type(exc).__name__, _message(exc)))
            else:
                send(("done", gen.finish_reason, gen.last_token_count))


def _message(exc: BaseException) -> str:
    if isinstance(exc, AwardWriterError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "加载或运行模型时内存不足，请关闭其他程序或换用更小的模型"
    return f"{type(exc).__name__}: {exc}"
