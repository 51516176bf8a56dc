"""设置 → 生成模型 → 服务器: checked before it is saved (off the GUI thread), the API key kept
out of the settings file, and 撰写 saying where the text goes."""

from __future__ import annotations

import socket
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "analyzer"))
from test_llm import build_tiny_gguf, build_tiny_model
from test_server import Server

KEY = "team-key-0427"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("served")
    model = build_tiny_gguf(build_tiny_model(root / "m", tied=False), root / "m.gguf")
    srv = Server(model, api_key=KEY)
    yield srv
    srv.stop()


@pytest.fixture
def keyring(monkeypatch: pytest.MonkeyPatch) -> dict[tuple[str, str], str]:
    """A system keyring (the ``keyring`` package's two calls), kept in memory."""
    store: dict[tuple[str, str], str] = {}
    fake = types.ModuleType("keyring")
    fake.get_password = lambda service, entry: store.get((service, entry))  # type: ignore[attr-defined]
    fake.set_password = lambda service, entry, key: store.__setitem__((service, entry), key)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "keyring", fake)
    return store


def _choose_server(page: Any, url: str, key: str = "none", name: str = "") -> None:
    page.generator.setCurrentIndex(page.generator.findData("server"))
    page.server_url.setText(url)
    page.server_key.setCurrentIndex(page.server_key.findData(key))
    page.server_key_name.setText(name)


def test_choosing_a_server_shows_its_fields_instead_of_the_local_ones(window: Any) -> None:
    page = window.settings_page
    form = page.gen_form
    assert form.isRowVisible(page.engine) and not form.isRowVisible(page.server_url)
    _choose_server(page, "")
    assert form.isRowVisible(page.server_url) and form.isRowVisible(page.server_model)
    assert not form.isRowVisible(page.engine) and not form.isRowVisible(page.generator_path)
    assert not page.apply()
    assert "请填写服务器地址" in window.message_bar.text
    assert window.session.settings.generator == "bundled"


def test_a_server_is_asked_before_it_is_saved_and_the_key_never_is(
    window: Any, server: Server, wait_job: Any, keyring: dict[tuple[str, str], str]
) -> None:
    page = window.settings_page
    _choose_server(page, server.url, "keyring", "team-gpu")
    page.server_key_value.setText(KEY)
    assert not page.apply()  # not yet: the server is being asked, in a worker
    assert page.server_check is not None and not page.apply_button.isEnabled()
    wait_job(page.server_check)
    settings = window.session.settings
    assert (settings.generator, settings.server_url, settings.server_key_name) == (
        "server",
        server.url,
        "team-gpu",
    )
    assert "可用" in window.message_bar.text and "tiny" in window.message_bar.text
    assert keyring[("award-writer", "team-gpu")] == KEY
    from desktop.config import settings_path

    assert KEY not in settings_path().read_text(encoding="utf-8")
    draft = window.draft_page
    assert not draft.destination.isHidden()
    assert draft.destination.text() == f"草稿内容将发送到 {server.url}（推理服务器）"
    assert draft.model_choice.currentText().startswith("服务器：")


def test_a_server_that_refuses_the_key_is_not_saved(
    window: Any, server: Server, wait_job: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEAM_LLM_KEY", "wrong")
    page = window.settings_page
    _choose_server(page, server.url, "env", "TEAM_LLM_KEY")
    page.apply()
    wait_job(page.server_check)
    assert window.message_bar.level == "error" and "401" in window.message_bar.text
    assert window.session.settings.generator == "bundled"
    assert window.draft_page.destination.isHidden()
    monkeypatch.setenv("TEAM_LLM_KEY", KEY)
    page.apply()
    wait_job(page.server_check)
    assert window.session.settings.generator == "server"


def test_an_unreachable_server_is_said_quickly_and_not_saved(window: Any, wait_job: Any) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    page = window.settings_page
    _choose_server(page, f"http://127.0.0.1:{port}")
    page.apply()
    wait_job(page.server_check, timeout=20_000)
    assert "无法连接推理服务器" in window.message_bar.text
    assert window.session.settings.generator == "bundled"


def test_the_drafting_process_is_started_with_the_servers_settings(
    window: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    import analyzer.llm.host as host
    from desktop.generation import load_generator

    started: dict[str, Any] = {}

    class Process:
        def __init__(self, spec: str | None, *, options: Any, **kw: Any) -> None:
            started.update(spec=spec, options=options)

    monkeypatch.setattr(host, "GeneratorProcess", Process)
    session = window.session
    session.settings = replace(
        session.settings,
        generator="server",
        server_url="http://gpu-box:8000/v1",
        server_model="qwen2.5-7b",
        server_key="env",
        server_key_name="TEAM_LLM_KEY",
    )

    class Job:
        token = None

        def report(self, _: Any) -> None:
            pass

    load_generator(session, Job())  # type: ignore[arg-type]
    assert started["spec"] == "http://gpu-box:8000/v1"
    assert started["options"].server.model == "qwen2.5-7b"
    assert started["options"].server.api_key_env == "TEAM_LLM_KEY"
