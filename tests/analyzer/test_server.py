"""Drafting through an OpenAI-compatible server started the way a user starts one
(``python -m llama_cpp.server``) on a tiny GGUF model built here: the text, stop, budgets, the
API key, the errors a writer can act on, and a server that dies mid-reply."""

from __future__ import annotations

import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_llm import MESSAGES, build_tiny_gguf, build_tiny_model

from analyzer.errors import Cancelled, ModelError
from analyzer.llm import LoadOptions, Sampling, ServerOptions, load_generator, resolve, unload
from analyzer.llm.server import ServerGenerator, check_server
from analyzer.progress import CancelToken

KEY = "s3cret-team-key"
PLAIN = Sampling(stop_on_repeated_line=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``python -m llama_cpp.server`` in a subprocess, as a team would run it."""

    def __init__(
        self,
        model: Path,
        *,
        api_key: str | None = None,
        n_ctx: int = 512,
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        self.port = _free_port()
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}/v1"
        args = [sys.executable, "-m", "llama_cpp.server", "--model", str(model),
                "--model_alias", "tiny", "--host", "127.0.0.1", "--port", str(self.port),
                "--n_ctx", str(n_ctx), "--n_threads", "1", "--verbose", "False"]  # fmt: skip
        if api_key:
            args += ["--api_key", api_key]
        if tls:
            args += ["--ssl_certfile", str(tls[0]), "--ssl_keyfile", str(tls[1])]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError(f"llama_cpp.server exited: {err[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("llama_cpp.server did not start")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("served")
    untied = build_tiny_model(root / "untied", tied=False, seed=1)
    tied = build_tiny_model(root / "tied")  # writes newlines forever: a reply that never ends
    return {
        "untied": build_tiny_gguf(untied, root / "untied.gguf"),
        "tied": build_tiny_gguf(tied, root / "tied.gguf"),
    }


@pytest.fixture(scope="module")
def server(models: dict[str, Path]) -> Iterator[Server]:
    srv = Server(models["untied"], api_key=KEY)
    yield srv
    srv.stop()


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("TEAM_LLM_KEY", KEY)
    monkeypatch.setenv("AWARD_WRITER_MODELS", str(tmp_path / "models"))
    yield
    unload()


def _options(**kw: object) -> LoadOptions:
    return LoadOptions(server=ServerOptions(**{"api_key_env": "TEAM_LLM_KEY", **kw}))  # type: ignore[arg-type]


def _text(gen: object, **kw: object) -> str:
    return "".join(gen.stream(MESSAGES, **{"max_new_tokens": 24, **kw}))  # type: ignore[attr-defined]


def test_a_url_is_a_server_source_and_gets_v1_when_it_has_no_path() -> None:
    assert resolve("http://gpu-box:8000").location == "http://gpu-box:8000/v1"
    assert resolve("https://llm.example.com/openai/v1/").location == (
        "https://llm.example.com/openai/v1"
    )
    with pytest.raises(ModelError, match="端口无效"):
        resolve("http://gpu-box:eighty/v1")


def test_drafting_through_the_server_writes_what_drafting_in_process_writes(
    server: Server, models: dict[str, Path]
) -> None:
    remote = load_generator(server.url, options=_options())
    assert isinstance(remote, ServerGenerator) and remote.model == "tiny"  # its only model
    assert remote.details()["sends_text_to"] == server.url
    via_server = _text(remote, max_new_tokens=30)
    assert remote.finish_reason in ("eos", "max_tokens") and remote.last_token_count > 0
    local = load_generator(str(models["untied"]), options=LoadOptions(device="cpu"))
    in_process = _text(local, max_new_tokens=30)
    assert via_server == in_process


def test_sampling_reaches_the_server_per_reply(server: Server) -> None:
    remote = load_generator(server.url, options=_options())
    hot = [Sampling(temperature=1.5, top_p=1.0, seed=s) for s in (1, 2, 1)]
    first, second, again = (_text(remote, sampling=s) for s in hot)
    assert first == again != second


def test_the_server_stops_at_the_token_budget(server: Server) -> None:
    remote = load_generator(server.url, options=_options())
    _text(remote, max_new_tokens=3)
    assert remote.finish_reason in ("max_tokens", "eos") and remote.last_token_count <= 3


def test_stop_ends_the_reply_at_once_and_the_next_one_works(
    models: dict[str, Path],
) -> None:
    srv = Server(models["tied"], n_ctx=8192)
    try:
        remote = load_generator(srv.url, options=LoadOptions())
        token = CancelToken()
        got: list[str] = []
        with pytest.raises(Cancelled):
            for piece in remote.stream(MESSAGES, max_new_tokens=6000, cancel=token, sampling=PLAIN):
                got.append(piece)
                if len(got) == 3:
                    token.cancel()
        assert len(got) == 3 and remote.finish_reason == "cancelled"
        assert _text(remote, max_new_tokens=5, sampling=PLAIN) == "\n" * 5
        started = time.monotonic()
        _text(remote, max_new_tokens=6000, time_budget=0.3, sampling=PLAIN)
        assert remote.finish_reason == "time" and time.monotonic() - started < 10
    finally:
        srv.stop()


def test_a_server_that_dies_mid_reply_is_a_clear_error(models: dict[str, Path]) -> None:
    srv = Server(models["tied"], n_ctx=8192)
    try:
        remote = load_generator(srv.url, options=LoadOptions())
        got: list[str] = []
        with pytest.raises(ModelError, match="生成中断开") as err:
            for piece in remote.stream(MESSAGES, max_new_tokens=8000, sampling=PLAIN):
                got.append(piece)
                if len(got) == 2:
                    srv.stop()  # killed, as a crash or a reboot would
        assert got and "重新生成" in str(err.value)
    finally:
        srv.stop()


def test_the_api_key_comes_from_the_named_variable_and_a_wrong_one_says_401(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEAM_LLM_KEY", "wrong")
    with pytest.raises(ModelError, match=r"401.*环境变量 TEAM_LLM_KEY"):
        load_generator(server.url, options=_options())
    monkeypatch.delenv("TEAM_LLM_KEY")
    with pytest.raises(ModelError, match="环境变量 TEAM_LLM_KEY 没有设置"):
        load_generator(server.url, options=_options())


def test_a_model_the_server_does_not_serve_is_named_with_what_it_serves(server: Server) -> None:
    with pytest.raises(ModelError, match="没有模型 qwen-7b；它提供：tiny"):
        load_generator(server.url, options=_options(model="qwen-7b"))


def test_a_prompt_longer_than_the_servers_context_says_so(server: Server) -> None:
    remote = load_generator(server.url, options=_options())
    long = [{"role": "user", "content": "营销背景与挑战 " * 400}]
    with pytest.raises(ModelError, match="上下文长度"):
        list(remote.stream(long, max_new_tokens=8))


def test_an_unreachable_server_says_what_to_check() -> None:
    url = f"http://127.0.0.1:{_free_port()}/v1"
    with pytest.raises(ModelError, match=r"无法连接推理服务器.*是否已启动"):
        load_generator(url, options=LoadOptions(server=ServerOptions(retries=0)))


def test_the_settings_check_answers_quickly_with_the_models_name(server: Server) -> None:
    assert check_server(server.url, ServerOptions(api_key_env="TEAM_LLM_KEY")) == "tiny"


def test_the_drafting_process_drafts_through_a_server(server: Server) -> None:
    from analyzer.llm.host import GeneratorProcess

    os.environ["TEAM_LLM_KEY"] = KEY  # the child process reads the key itself
    host = GeneratorProcess(server.url, options=_options())
    try:
        assert host.details()["engine"] == "server"
        hot = [Sampling(temperature=1.5, top_p=1.0, seed=s) for s in (1, 2, 1)]
        first, second, again = (_text(host, sampling=s) for s in hot)
        assert first == again != second and host.last_token_count > 0
    finally:
        host.close()


def test_an_https_server_with_the_companys_own_certificate(
    models: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    srv = Server(models["untied"], tls=(cert, key))
    try:
        with pytest.raises(ModelError, match=r"TLS 证书.*SSL_CERT_FILE"):
            load_generator(srv.url)
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        remote = load_generator(srv.url)
        assert _text(remote, max_new_tokens=5) and remote.model == "tiny"
    finally:
        srv.stop()


class _Busy(http.server.BaseHTTPRequestHandler):
    """A server that is busy (503) for its first requests, then lists one model."""

    busy_for = 0
    seen = 0

    def do_GET(self) -> None:
        type(self).seen += 1
        if type(self).seen <= type(self).busy_for:
            self.send_response(503)
            self.send_header("Retry-After", "0")
            self.end_headers()
            return
        body = json.dumps({"data": [{"id": "qwen"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_a_busy_server_is_asked_again_before_giving_up() -> None:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Busy)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    try:
        _Busy.busy_for, _Busy.seen = 2, 0
        assert load_generator(url).model == "qwen"  # two retries by default
        _Busy.busy_for, _Busy.seen = 1, 0
        with pytest.raises(ModelError, match="返回错误 503"):
            load_generator(url, options=LoadOptions(server=ServerOptions(retries=0)))
    finally:
        httpd.shutdown()
