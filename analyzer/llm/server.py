"""A drafting model on an OpenAI-compatible server: vLLM, llama.cpp's server, Ollama, LM Studio,
``transformers serve`` … (``POST {url}/chat/completions`` with ``stream: true``).

Only a server the user named (``--model http://host:port/v1``, or 设置 → 生成模型 → 服务器) is
ever contacted. The API key is never stored by the app: it is read from an environment variable
or from the system keyring (the ``keyring`` package, if installed), both named in the settings.
HTTP is the standard library's ``http.client`` (TLS through ``ssl``'s default context, which
honours ``SSL_CERT_FILE`` for a company's own CA); the response streams as server-sent events,
read by a thread so that cancel and the time budget act at once, even while the server is still
reading the prompt.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import queue
import random
import socket
import ssl
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from analyzer.errors import Cancelled, ModelError
from analyzer.llm.base import GREEDY, Message, Sampling, check_budget, until_repeated_line
from analyzer.progress import CancelToken

KEYRING_SERVICE = "award-writer"
RETRY_STATUSES = (429, 502, 503, 504)
_POLL = 0.1  # how often the consumer looks at cancel and the clock while it waits


@dataclass(frozen=True)
class ServerOptions:
    """How to reach a server; what identifies the key is stored, never the key."""

    model: str = ""  # the name the server knows the model by ("": the only one it serves)
    api_key_env: str = ""  # an environment variable that holds the API key
    keyring_entry: str = ""  # or an entry of the system keyring (service "award-writer")
    timeout: float = 120.0  # seconds without a byte from the server (it may be busy)
    connect_timeout: float = 10.0
    retries: int = 2  # a refused connection or a busy server (429/502/503/504) is retried


def is_server_spec(spec: object) -> bool:
    text = "" if spec is None else str(spec).strip().lower()
    return text.startswith(("http://", "https://"))


def normalize_url(url: str) -> str:
    """``http://host:8000`` → ``http://host:8000/v1`` (where these servers serve the API);
    a path the user gave is kept. ModelError for what is not an http(s) URL."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ModelError(f"服务器地址 {url!r} 无效：应形如 http://主机:端口/v1")
    try:
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:
        raise ModelError(f"服务器地址 {url!r} 的端口无效") from None
    path = parts.path.rstrip("/") or "/v1"
    return f"{parts.scheme}://{parts.netloc}{path}"


def key_origin(options: ServerOptions) -> str:
    if options.api_key_env:
        return f"环境变量 {options.api_key_env}"
    if options.keyring_entry:
        return f"系统钥匙串中的 {options.keyring_entry}"
    return "未设置 API 密钥"


def api_key(options: ServerOptions) -> str | None:
    """The key named by the settings; ModelError when it is named but cannot be read."""
    if options.api_key_env:
        value = os.environ.get(options.api_key_env, "").strip()
        if not value:
            raise ModelError(
                f"环境变量 {options.api_key_env} 没有设置：请在启动本程序前设置它为服务器的 API 密钥"
            )
        return value
    if options.keyring_entry:
        keyring = _keyring()
        try:
            value = keyring.get_password(KEYRING_SERVICE, options.keyring_entry)
        except Exception as exc:  # keyring backends raise their own types
            raise ModelError(f"无法读取系统钥匙串：{exc}") from exc
        if not value:
            raise ModelError(
                f"系统钥匙串中没有 {KEYRING_SERVICE}/{options.keyring_entry} 的 API 密钥："
                "请在 设置 → 生成模型 中重新填写"
            )
        return str(value)
    return None


def store_key(entry: str, key: str) -> None:
    """Put an API key into the system keyring under ``award-writer/<entry>``."""
    keyring = _keyring()
    try:
        keyring.set_password(KEYRING_SERVICE, entry, key)
    except Exception as exc:
        raise ModelError(f"无法写入系统钥匙串：{exc}") from exc


def keyring_available() -> bool:
    try:
        _keyring()
    except ModelError:
        return False
    return True


def _keyring() -> Any:
    try:
        import keyring
    except ImportError:
        raise ModelError(
            "系统钥匙串需要 keyring 包（pip install keyring）；也可以改用环境变量保存 API 密钥"
        ) from None
    return keyring


# ---------------------------------------------------------------------------- HTTP


class _Reply:
    """One HTTP exchange: the connection, its response, and a way to abort it from elsewhere."""

    def __init__(self, conn: http.client.HTTPConnection, resp: http.client.HTTPResponse) -> None:
        self.conn = conn
        self.resp = resp

    def abort(self) -> None:
        sock = self.conn.sock
        if sock is not None:  # wakes a thread blocked reading it
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self.conn.close()


class Client:
    """Requests to one server, with retries and errors a writer can act on."""

    def __init__(self, url: str, options: ServerOptions) -> None:
        self.url = normalize_url(url)
        self.options = options
        parts = urlsplit(self.url)
        self.https = parts.scheme == "https"
        self.host = parts.hostname or ""
        self.port = parts.port
        self.path = parts.path
        self.key = api_key(options)

    def _connect(self) -> http.client.HTTPConnection:
        timeout = self.options.connect_timeout
        if self.https:
            context = ssl.create_default_context()  # SSL_CERT_FILE names a company's own CA
            return http.client.HTTPSConnection(
                self.host, self.port, timeout=timeout, context=context
            )
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        cancel: CancelToken | None = None,
        timeout: float | None = None,
    ) -> _Reply:
        """Send, and return the reply once its status is 2xx (retrying what may pass)."""
        headers = {"Accept": "application/json, text/event-stream"}
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        attempt = 0
        while True:
            if cancel is not None and cancel.cancelled:
                raise Cancelled()
            conn = self._connect()
            try:
                conn.connect()
                if conn.sock is not None:  # from now on: waiting for the model, not the network
                    conn.sock.settimeout(timeout or self.options.timeout)
                conn.request(method, self.path + path, body=data, headers=headers)
                resp = conn.getresponse()
            except ssl.SSLCertVerificationError as exc:
                conn.close()
                raise ModelError(
                    f"无法验证服务器 {self.host} 的 TLS 证书（{exc.verify_message}）：如果它用公司自己的"
                    "证书，请把 CA 证书文件设为 SSL_CERT_FILE 环境变量"
                ) from exc
            except ssl.SSLError as exc:
                conn.close()
                raise ModelError(f"与服务器 {self.host} 建立 TLS 连接失败：{exc}") from exc
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                if attempt < self.options.retries and not isinstance(exc, TimeoutError):
                    attempt += 1
                    self._pause(attempt, cancel)
                    continue
                raise ModelError(self._unreachable(exc)) from exc
            if 200 <= resp.status < 300:
                return _Reply(conn, resp)
            text = _read_error(resp)
            conn.close()
            if resp.status in RETRY_STATUSES and attempt < self.options.retries:
                attempt += 1
                self._pause(attempt, cancel, resp.getheader("Retry-After"))
                continue
            raise ServerReplyError(resp.status, text)

    def _pause(self, attempt: int, cancel: CancelToken | None, after: str | None = None) -> None:
        try:
            wait = min(float(after), 10.0) if after else 0.0
        except ValueError:
            wait = 0.0
        wait = wait or min(0.5 * 2 ** (attempt - 1), 4.0) * (0.8 + 0.4 * random.random())
        end = time.monotonic() + wait
        while time.monotonic() < end:
            if cancel is not None and cancel.cancelled:
                raise Cancelled()
            time.sleep(min(_POLL, max(0.0, end - time.monotonic())))

    def _unreachable(self, exc: BaseException) -> str:
        if isinstance(exc, TimeoutError):
            return f"推理服务器 {self.url} 在 {self.options.timeout:.0f} 秒内没有响应（可能正忙或已停止）"
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        return (
            f"无法连接推理服务器 {self.url}（{reason}）：请检查地址和端口、服务器是否已启动、"
            "本机能否访问它的网络"
        )

    def get_json(self, path: str, *, timeout: float | None = None) -> Any:
        reply = self.request("GET", path, timeout=timeout)
        try:
            raw = reply.resp.read()
        except (OSError, http.client.HTTPException) as exc:
            raise ModelError(self._unreachable(exc)) from exc
        finally:
            reply.abort()
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ModelError(
                f"{self.url}{path} 返回的不是 JSON：这个地址不像 OpenAI 兼容接口（通常以 /v1 结尾）"
            ) from exc

    def models(self, *, timeout: float | None = None) -> list[str]:
        """The model names the server lists (``GET /models``)."""
        try:
            data = self.get_json("/models", timeout=timeout)
        except ServerReplyError as exc:
            raise ModelError(self.explain(exc)) from exc
        rows = data.get("data") if isinstance(data, dict) else None
        if not isinstance(rows, list):
            raise ModelError(
                f"{self.url}/models 的回答里没有模型列表：这个地址不像 OpenAI 兼容接口"
            )
        return [str(r.get("id")) for r in rows if isinstance(r, dict) and r.get("id")]

    def explain(self, exc: ServerReplyError, model: str = "") -> str:
        """A refused request, said in terms of what the writer can change."""
        status, text = exc.status, exc.text
        low = text.lower()
        if status in (401, 403):
            return (
                f"推理服务器 {self.url} 拒绝了请求（{status}）：API 密钥无效或缺少"
                f"（{key_origin(self.options)}）"
            )
        if status == 404 and model and "model" in low:
            return f"推理服务器 {self.url} 上没有模型 {model}（{text[:200]}）"
        if status == 404:
            return f"{self.url} 没有这个接口（404）：OpenAI 兼容接口的地址通常以 /v1 结尾"
        if status in (400, 413, 422) and _too_long(low):
            return (
                f"提示词加上要写的长度超过了服务器上模型的上下文长度（{text[:200]}）："
                "请调低每节的长度（--max-tokens），或在服务器上用更长的上下文"
            )
        return f"推理服务器 {self.url} 返回错误 {status}：{text[:300] or '（无说明）'}"


class ServerReplyError(ModelError):
    """A non-2xx status (kept apart so callers can explain it in their context)."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(f"HTTP {status}: {text}")
        self.status = status
        self.text = text


def _too_long(low: str) -> bool:
    return any(
        s in low for s in ("context length", "context window", "maximum context", "too long",
                           "exceed", "n_ctx", "context_length")
    )  # fmt: skip


def _read_error(resp: http.client.HTTPResponse) -> str:
    """The server's own explanation of a refused request (OpenAI's {"error": {"message"}})."""
    try:
        raw = resp.read(64 * 1024).decode("utf-8", "replace")
    except (OSError, http.client.HTTPException):
        return ""
    try:
        data = json.loads(raw)
    except ValueError:
        return raw.strip()
    if isinstance(data, dict):
        err = data.get("error", data.get("detail", data.get("message")))
        if isinstance(err, dict):
            return str(err.get("message") or err)
        if err:
            return str(err)
    return raw.strip()


# ---------------------------------------------------------------------------- the generator


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
            "stream_options": {"include_usage": True},
            "temperature": 0.0 if s.greedy else s.temperature,
            "top_p": 1.0 if s.greedy else s.top_p,
        }
        if s.seed is not None:
            body["seed"] = s.seed
        if self._extras and s.repetition_penalty != 1.0:
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
        try:
            if s.stop_on_repeated_line:
                yield from until_repeated_line(inner, self._repeated)
            else:
                yield from inner
        except Cancelled:
            self.finish_reason = "cancelled"
            raise
        if cancel is not None and cancel.cancelled:
            self.finish_reason = "cancelled"
            raise Cancelled()

    def _repeated(self) -> None:
        self.finish_reason = "repetition"

    def _open(
        self, messages: Sequence[Message], n: int, s: Sampling, cancel: CancelToken | None
    ) -> _Reply:
        try:
            return self.client.request("POST", "/chat/completions", self._body(messages, n, s),
                                       cancel=cancel)  # fmt: skip
        except ServerReplyError as exc:
            extras = "repeat_penalty" in exc.text or "repetition_penalty" in exc.text
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
        reply = self._open(messages, max_new_tokens, s, cancel)
        lines: queue.Queue[bytes | BaseException | None] = queue.Queue()

        def read() -> None:
            try:
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
                    item = lines.get(timeout=_POLL)
                except queue.Empty:
                    continue
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
    quick = ServerOptions(**{**options.__dict__, "retries": 0, "timeout": timeout,
                             "connect_timeout": timeout})  # fmt: skip
    return ServerGenerator(url, quick).connect(timeout=timeout).model
