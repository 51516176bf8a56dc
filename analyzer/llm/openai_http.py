"""Talking to an OpenAI-compatible server: its address, its API key (read from where the
settings say, never stored by the app), and requests with retries and errors a writer can act on.

HTTP is the standard library's ``http.client``; TLS goes through ``ssl``'s default context, which
honours ``SSL_CERT_FILE`` for a company's own CA. The drafting side is
:mod:`analyzer.llm.server`.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import random
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from analyzer.errors import Cancelled, ModelError
from analyzer.progress import CancelToken

KEYRING_SERVICE = "award-writer"
RETRY_STATUSES = (429, 502, 503, 504)
POLL = 0.1  # how often a waiting caller looks at cancel and the clock


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


class Reply:
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
    ) -> Reply:
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
                return Reply(conn, resp)
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
            time.sleep(min(POLL, max(0.0, end - time.monotonic())))

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
