"""A drafting model on an OpenAI-compatible server: vLLM, llama.cpp's server, Ollama, LM Studio,
``transformers serve`` … (``POST {url}/chat/completions`` with ``stream: true``).

Only a server the user named (``--model http://host:port/v1``, or 设置 → 生成模型 → 服务器) is
ever contacted (see :mod:`analyzer.llm.openai_http` for the address, the key and the requests).
The reply streams as server-sent events, read by a thread, so that cancel and the time budget
act at once, even while the server is still reading the prompt.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from analyzer.errors import Cancelled, ModelError
from analyzer.llm.base import GREEDY, Message, Sampling, check_budget, reply
from analyzer.llm.openai_http import (
    POLL,
    Client,
    Reply,
    ServerOptions,
    ServerReplyError,
    key_origin,
)
from analyzer.progress import CancelToken

# Request fields not every server takes; a server that refuses one is asked again without them.
_EXTRAS = ("stream_options", "repetition_penalty", "repeat_penalty")


class ServerGenerator:
    """A :class:`~analyzer.llm.base.Generator` whose model runs on a server."""

    engine = "server"

    def __init__(
        self,
        url: str,
        options: ServerOptions,
        sampling: Sampling = GREEDY,
        why: str = "",
    ) -> None:
        self.client = Client(url, options)
        self.why = why or f"模型在服务器 {self.client.url} 上运行，本机只收发文字"
        self.options = options
        self.sampling = sampling
        self.model = options.model
        self.finish_reason = ""
        self.last_token_count = 0
        self.last_prompt_tokens = 0
        self._extras = True  # the server takes repetition_penalty / repeat_penalty

    @property
    def url(self) -> str:
        return self.client.url

    @property
    def label(self) -> str:
        return f"{self.model} · 服务器 {self.url}"

    def connect(self, *, timeout: float | None = None) -> ServerGenerator:
        """Ask the server for its models and settle which one drafts; ModelError if none."""
        names = self.client.models(timeout=timeout)
        if self.model:
            if names and self.model not in names:
                raise ModelError(
                    f"推理服务器 {self.url} 上没有模型 {self.model}；它提供：{'、'.join(names)}"
                )
        elif len(names) == 1:
            self.model = names[0]
        elif names:
            raise ModelError(
                f"推理服务器 {self.url} 提供多个模型，请指定用哪一个：{'、'.join(names)}"
            )
        else:
            raise ModelError(f"推理服务器 {self.url} 没有列出任何模型，请指定模型名")
        return self

    def _body(
        self, messages: Sequence[Message], max_new_tokens: int, s: Sampling
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m["role"], "content": m["content"]} for m in messages],
            "max_tokens": max_new_tokens,
            "stream": True,
            "temperature": 0.0 if s.greedy else s.temperature,
            "top_p": 1.0 if s.greedy else s.top_p,
        }
        if s.seed is not None:
            body["seed"] = s.seed
        if self._extras:
            body["stream_options"] = {"include_usage": True}  # the token count at the end
            if s.repetition_penalty != 1.0:
                # Not in OpenAI's API: vLLM and transformers name it one way, llama.cpp the other.
                body["repetition_penalty"] = s.repetition_penalty
                body["repeat_penalty"] = s.repetition_penalty
        return body

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
        s = sampling or self.sampling
        self.finish_reason = ""
        self.last_token_count = 0
        deadline = None if time_budget is None else time.monotonic() + time_budget
        inner = self._events(prompt_messages, max_new_tokens, s, cancel, deadline)
        yield from reply(self, inner, s, cancel)

    def _open(
        self, messages: Sequence[Message], n: int, s: Sampling, cancel: CancelToken | None
    ) -> Reply:
        try:
            return self.client.request("POST", "/chat/completions", self._body(messages, n, s),
                                       cancel=cancel)  # fmt: skip
        except ServerReplyError as exc:
            extras = any(name in exc.text for name in _EXTRAS)
            if exc.status in (400, 422) and extras and self._extras:
                self._extras = False  # a strict server: ask again without them
                return self._open(messages, n, s, cancel)
            raise ModelError(self.client.explain(exc, self.model)) from exc

    def _events(
        self,
        messages: Sequence[Message],
        max_new_tokens: int,
        s: Sampling,
        cancel: CancelToken | None,
        deadline: float | None,
    ) -> Iterator[str]:
        # The request, the wait for the server's answer and the reading all happen in a thread:
        # this one only waits on the queue, so cancel and the time budget act at once.
        lines: queue.Queue[bytes | BaseException | None] = queue.Queue()
        opened: list[Reply] = []
        stop = threading.Event()

        def read() -> None:
            try:
                reply = self._open(messages, max_new_tokens, s, cancel)
                opened.append(reply)
                if stop.is_set():  # given up on while it was connecting
                    reply.abort()
                    return
                while line := reply.resp.readline():
                    lines.put(line)
                lines.put(None)
            except BaseException as exc:  # handed to the consumer, which decides
                lines.put(exc)

        reader = threading.Thread(target=read, name="server-stream", daemon=True)
        reader.start()
        count = 0
        events = 0
        server_reason = ""
        try:
            while True:
                if cancel is not None and cancel.cancelled:
                    raise Cancelled()
                if deadline is not None and time.monotonic() >= deadline:
                    self.finish_reason = "time"
                    return
                try:
                    item = lines.get(timeout=POLL)
                except queue.Empty:
                    continue
                if isinstance(item, (ModelError, Cancelled)):
                    raise item  # the request was refused, said in the writer's terms
                if isinstance(item, BaseException) or item is None:
                    if server_reason:  # ended after its last chunk, without [DONE]
                        break
                    if not events and item is None:
                        self._diagnose(messages, max_new_tokens, s)
                    raise ModelError(self._broken(item, count))
                data = _event_data(item)
                if data is None:
                    continue
                events += 1
                if data == "[DONE]":
                    break
                event = _parse_event(data, self.url)
                for choice in event.get("choices") or ():
                    piece = (choice.get("delta") or {}).get("content") or ""
                    if piece:
                        count += 1
                        self.last_token_count = count
                        yield piece
                    server_reason = choice.get("finish_reason") or server_reason
                usage = event.get("usage")
                if isinstance(usage, dict):
                    self.last_token_count = int(usage.get("completion_tokens") or count)
                    self.last_prompt_tokens = int(usage.get("prompt_tokens") or 0)
            self.finish_reason = "max_tokens" if server_reason == "length" else "eos"
        finally:
            stop.set()
            for reply in opened:
                reply.abort()  # also tells the server to stop writing (cancel, time, early close)

    def _diagnose(self, messages: Sequence[Message], max_new_tokens: int, s: Sampling) -> None:
        """A stream that closed before its first event: some servers (llama.cpp's Python
        server) refuse a request that way once they have said 200. Asked again without
        streaming they say why (a prompt too long for the context), which is raised."""
        body = {**self._body(messages, max_new_tokens, s), "stream": False, "max_tokens": 1}
        body.pop("stream_options", None)
        try:
            self.client.request("POST", "/chat/completions", body).abort()
        except ServerReplyError as exc:
            raise ModelError(self.client.explain(exc, self.model)) from exc
        except ModelError:
            pass  # unreachable now: the stream's own error says more

    def _broken(self, item: BaseException | None, count: int) -> str:
        if isinstance(item, TimeoutError):
            why = f"{self.options.timeout:.0f} 秒没有收到数据"
        elif item is None:
            why = "连接被关闭"
        else:
            why = getattr(item, "strerror", None) or str(item) or type(item).__name__
        return (
            f"推理服务器 {self.url} 在生成中断开了（{why}；已收到 {count} 段文字）："
            "请确认服务器仍在运行，然后重新生成这一节"
        )

    def details(self) -> dict[str, Any]:
        return {
            "engine": "server",
            "why": self.why,
            "server": self.url,
            "model": self.model,
            "api_key": key_origin(self.options),
            "sends_text_to": self.url,
        }


def _event_data(line: bytes) -> str | None:
    """The payload of an SSE ``data:`` line; None for comments, other fields, blank lines."""
    text = line.decode("utf-8", "replace").strip()
    if not text.startswith("data:"):
        return None
    return text[5:].strip()


def _parse_event(data: str, url: str) -> dict[str, Any]:
    try:
        event = json.loads(data)
    except ValueError as exc:
        raise ModelError(f"推理服务器 {url} 发来无法解析的数据：{data[:120]}") from exc
    if not isinstance(event, dict):
        raise ModelError(f"推理服务器 {url} 发来无法解析的数据：{data[:120]}")
    if "error" in event:  # an error reported inside the stream (vLLM, llama.cpp do this)
        err = event["error"]
        message = err.get("message") if isinstance(err, dict) else err
        raise ModelError(f"推理服务器 {url} 在生成中报错：{message}")
    return event


def check_server(url: str, options: ServerOptions, *, timeout: float = 5.0) -> str:
    """What 设置 runs on 应用: the server answers and serves the model; returns its name."""
    quick = replace(options, retries=0, timeout=timeout, connect_timeout=timeout)
    return ServerGenerator(url, quick).connect(timeout=timeout).model
