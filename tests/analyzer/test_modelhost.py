"""The drafting model in a child process: load with progress, stream, cancel, errors, close."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from analyzer.errors import Cancelled, ModelError
from analyzer.progress import CancelToken, Progress

pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "desktop"))
    from test_tiny_model import build_tiny_qwen

    return build_tiny_qwen(tmp_path_factory.mktemp("models") / "tiny-qwen")


@pytest.fixture(scope="module")
def host(tiny_model: Path) -> object:
    from analyzer.llm import LoadOptions
    from analyzer.llm.host import GeneratorProcess

    progress: list[Progress] = []
    gen = GeneratorProcess(
        str(tiny_model), options=LoadOptions(device="cpu", threads=1), on_progress=progress.append
    )
    gen.progress = progress  # type: ignore[attr-defined]
    yield gen
    gen.close()


MESSAGES = [{"role": "user", "content": "写一段垃圾分类大赛的背景"}]


def test_loads_in_a_child_and_streams_text(host: object) -> None:
    assert host.alive and host.label  # type: ignore[attr-defined]
    assert host.progress  # type: ignore[attr-defined]
    pieces = list(host.stream(MESSAGES, max_new_tokens=12))  # type: ignore[attr-defined]
    assert "".join(pieces).strip()
    assert host.finish_reason == "max_tokens"  # type: ignore[attr-defined]


def test_cancel_stops_the_reply_and_the_next_one_is_clean(host: object) -> None:
    token = CancelToken()
    got: list[str] = []
    with pytest.raises(Cancelled):
        for piece in host.stream(MESSAGES, max_new_tokens=4000, cancel=token):  # type: ignore[attr-defined]
            got.append(piece)
            if len(got) == 3:
                token.cancel()
    assert 3 <= len(got) < 4000
    again = list(host.stream(MESSAGES, max_new_tokens=5))  # type: ignore[attr-defined]
    assert again and host.finish_reason == "max_tokens"  # type: ignore[attr-defined]


def test_a_reader_that_stops_early_does_not_confuse_the_next_reply(host: object) -> None:
    stream = host.stream(MESSAGES, max_new_tokens=2000)  # type: ignore[attr-defined]
    next(stream)
    stream.close()
    assert len(list(host.stream(MESSAGES, max_new_tokens=4))) >= 1  # type: ignore[attr-defined]


def test_a_missing_model_is_a_model_error(tmp_path: Path) -> None:
    from analyzer.llm.host import GeneratorProcess

    with pytest.raises(ModelError, match=r"config\.json"):
        empty = tmp_path / "empty-model"
        empty.mkdir()
        (empty / "model.safetensors").write_bytes(b"")
        GeneratorProcess(str(empty))


def test_cancel_while_loading_ends_the_child(tiny_model: Path) -> None:
    from analyzer.llm.host import GeneratorProcess

    token = CancelToken()
    threading.Timer(0.3, token.cancel).start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        GeneratorProcess(str(tiny_model), cancel=token)
    assert time.monotonic() - started < 30


def test_close_ends_the_process(tiny_model: Path) -> None:
    from analyzer.llm import LoadOptions
    from analyzer.llm.host import GeneratorProcess

    gen = GeneratorProcess(str(tiny_model), options=LoadOptions(device="cpu", threads=1))
    gen.close()
    assert not gen.alive
    with pytest.raises(ModelError, match="没有在运行"):
        list(gen.stream(MESSAGES, max_new_tokens=2))
