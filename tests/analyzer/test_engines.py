"""Engines: which one runs a source and why, llama.cpp on GGUF files, per-reply sampling on every
engine, threads that follow the free cores, and prompt-lookup decoding that keeps the text."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_llm import MESSAGES, build_tiny_gguf, build_tiny_model

from analyzer.errors import Cancelled, ModelError
from analyzer.llm import LoadOptions, Sampling, load_generator, resolve, unload
from analyzer.llm.engines import choose_engine, free_cores
from analyzer.llm.llamacpp import LlamaCppGenerator, _slowed_down
from analyzer.progress import CancelToken

pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def untied(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny model that writes varied text (an untied output matrix)."""
    return build_tiny_model(tmp_path_factory.mktemp("untied"), tied=False, seed=1)


@pytest.fixture(scope="module")
def untied_gguf(untied: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_gguf(untied, tmp_path_factory.mktemp("gguf") / "untied.gguf")


@pytest.fixture(autouse=True)
def _own_model_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWARD_WRITER_MODELS", str(tmp_path / "models"))
    yield
    unload()


def _text(gen: object, **kw: object) -> str:
    return "".join(gen.stream(MESSAGES, **{"max_new_tokens": 24, **kw}))  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------- the choice


def test_a_gguf_file_runs_on_llama_cpp_and_says_why(untied_gguf: Path) -> None:
    gen = load_generator(str(untied_gguf), options=LoadOptions(device="cpu"))
    assert isinstance(gen, LlamaCppGenerator)
    info = gen.details()
    assert info["engine"] == "llama.cpp" and "llama.cpp" in info["why"]
    assert _text(gen) and gen.finish_reason in ("eos", "max_tokens")
    assert "torch" not in _imports_of_a_fresh_load(untied_gguf)


def _imports_of_a_fresh_load(path: Path) -> str:
    """The heavy modules a new process imports to load ``path`` and write with it."""
    code = (
        "import sys; from analyzer.llm import load_generator, LoadOptions;"
        f"g = load_generator({str(path)!r}, options=LoadOptions(device='cpu'));"
        "list(g.stream([{'role': 'user', 'content': 'x'}], max_new_tokens=2));"
        "print(' '.join(m for m in ('torch', 'transformers') if m in sys.modules))"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def test_a_folder_runs_on_transformers(untied: Path) -> None:
    gen = load_generator(str(untied), options=LoadOptions(device="cpu", quantize=False))
    assert gen.details()["engine"] == "transformers"
    assert "transformers" in gen.details()["why"]


def test_without_llama_cpp_a_gguf_falls_back_to_transformers_and_says_how_to_get_it(
    untied_gguf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("analyzer.llm.engines.llama_cpp_installed", lambda: False)
    choice = choose_engine(resolve(str(untied_gguf)), LoadOptions(device="cpu"))
    assert choice.name == "transformers"
    assert "llama-cpp-python" in choice.reason and "pip install" in choice.reason
    gen = load_generator(str(untied_gguf), options=LoadOptions(device="cpu", quantize=False))
    assert gen.details()["engine"] == "transformers" and _text(gen)


def test_an_engine_that_cannot_run_the_source_is_a_clear_error(untied: Path) -> None:
    with pytest.raises(ModelError, match=r"llama\.cpp 只能运行 \.gguf"):
        load_generator(str(untied), options=LoadOptions(engine="llama.cpp"))
    with pytest.raises(ModelError, match="未知的推理引擎"):
        load_generator(str(untied), options=LoadOptions(engine="vllm"))


def test_llama_cpp_and_transformers_write_the_same_tokens_from_one_gguf(untied_gguf: Path) -> None:
    # and a reply given its first words is continued from them, the same way by both engines
    started = [*MESSAGES, {"role": "assistant", "content": "项目背景，"}]
    llama = load_generator(str(untied_gguf), options=LoadOptions(device="cpu"))
    ours = _text(llama, max_new_tokens=30)
    go_on = "".join(llama.stream(started, max_new_tokens=30))
    assert llama.continues_reply and go_on != ours
    hf = load_generator(  # (unloads the llama.cpp model: one model per process)
        str(untied_gguf), options=LoadOptions(device="cpu", engine="transformers", quantize=False)
    )
    assert ours == _text(hf, max_new_tokens=30)
    with pytest.raises(ModelError, match="已经卸载"):  # not a crash of the whole process
        _text(llama)
    assert hf.continues_reply and go_on == "".join(hf.stream(started, max_new_tokens=30))


# ---------------------------------------------------------------------------- llama.cpp


def test_llama_cpp_keeps_the_budgets_and_stops_at_cancel(tmp_path: Path) -> None:
    looping = build_tiny_gguf(build_tiny_model(tmp_path / "tied"), tmp_path / "tied.gguf")
    gen = load_generator(str(looping), options=LoadOptions(device="cpu"))
    plain = Sampling(stop_on_repeated_line=False)
    assert len(_text(gen, max_new_tokens=7, sampling=plain)) == 7  # one newline per token
    assert gen.finish_reason == "max_tokens" and gen.last_token_count == 7
    token = CancelToken()
    got: list[str] = []
    with pytest.raises(Cancelled):
        for piece in gen.stream(MESSAGES, max_new_tokens=4000, cancel=token, sampling=plain):
            got.append(piece)
            if len(got) == 3:
                token.cancel()
    assert len(got) == 3 and gen.finish_reason == "cancelled"
    # the tiny model fills its context faster than any budget a test could wait for: a budget
    # already spent after the first token ends the reply there
    _text(gen, max_new_tokens=100_000, time_budget=1e-6, sampling=plain)
    assert gen.finish_reason == "time" and gen.last_token_count == 1


def test_every_reply_can_be_sampled_anew_and_greedy_stays_the_default(untied_gguf: Path) -> None:
    gen = load_generator(str(untied_gguf), options=LoadOptions(device="cpu"))
    greedy = _text(gen)
    hot = [Sampling(temperature=1.5, top_p=1.0, seed=s) for s in (1, 2, 1)]
    first, second, again = (_text(gen, sampling=s) for s in hot)
    assert first == again != second
    assert _text(gen) == greedy  # the override did not stick


def test_transformers_honours_the_per_reply_sampling_too(untied: Path) -> None:
    gen = load_generator(str(untied), options=LoadOptions(device="cpu", quantize=False))
    greedy = _text(gen)
    for mode in ("loop", "thread"):
        hot = [Sampling(temperature=1.5, top_p=1.0, seed=s, mode=mode) for s in (1, 2, 1)]
        first, second, again = (_text(gen, sampling=s) for s in hot)
        assert first == again != second
    assert _text(gen) == greedy


def test_one_model_per_process_whatever_the_engine(untied: Path, untied_gguf: Path) -> None:
    from analyzer.llm import llamacpp, loader

    load_generator(str(untied_gguf), options=LoadOptions(device="cpu"))
    assert llamacpp._current is not None
    load_generator(str(untied), options=LoadOptions(device="cpu", quantize=False))
    assert llamacpp._current is None and loader.current() is not None
    load_generator(str(untied_gguf), options=LoadOptions(device="cpu"))
    assert loader.current() is None
    unload()
    assert llamacpp._current is None


# ---------------------------------------------------------------------------- threads


def _busy_cores(n: int) -> list[subprocess.Popen[bytes]]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def test_threads_follow_the_cores_other_programs_leave_free(untied_gguf: Path) -> None:
    from analyzer.llm.device import physical_cores

    gen = load_generator(str(untied_gguf), options=LoadOptions(device="cpu"))
    busy = _busy_cores(physical_cores())
    try:
        time.sleep(0.3)
        assert free_cores() == 1
        _text(gen)
        assert gen.last_threads == [1]
        # A number the user set is kept as given.
        pinned = load_generator(str(untied_gguf), options=LoadOptions(device="cpu", threads=2))
        _text(pinned)
        assert pinned.last_threads == [2]
    finally:
        for p in busy:
            p.kill()
            p.wait()


def test_a_reply_that_suddenly_slows_down_goes_on_with_one_thread() -> None:
    steady = [0.02] * 10
    assert not _slowed_down(steady)
    assert not _slowed_down([*steady, 0.5, 0.02, 0.02])  # one hiccup
    assert _slowed_down([*steady, 0.5, 0.4, 0.6, 0.5])  # a core was taken


# ---------------------------------------------------------------------------- prompt lookup


@pytest.mark.parametrize("tied", [True, False])
def test_prompt_lookup_writes_exactly_what_plain_greedy_decoding_writes(
    tmp_path: Path, tied: bool
) -> None:
    folder = build_tiny_model(tmp_path / "m", tied=tied, seed=2)
    gen = load_generator(str(folder), options=LoadOptions(device="cpu", quantize=False))
    plain = Sampling(stop_on_repeated_line=False)
    looked = Sampling(stop_on_repeated_line=False, prompt_lookup=5)
    for n in (1, 7, 40):
        expected = _text(gen, max_new_tokens=n, sampling=plain)
        reason = gen.finish_reason
        assert _text(gen, max_new_tokens=n, sampling=looked) == expected
        assert gen.finish_reason == reason
    if tied:  # it repeats itself: the guesses from its own reply are right
        assert gen.last_accepted_guesses > 20


def test_the_drafting_process_runs_a_gguf_on_llama_cpp_with_per_reply_sampling(
    untied_gguf: Path,
) -> None:
    from analyzer.llm.host import GeneratorProcess

    host = GeneratorProcess(str(untied_gguf), options=LoadOptions(device="cpu"))
    try:
        assert host.details()["engine"] == "llama.cpp" and "llama.cpp" in host.label
        assert host.continues_reply  # the drafter gives it the reply's first words
        greedy = _text(host)
        hot = [Sampling(temperature=1.5, top_p=1.0, seed=s) for s in (1, 2, 1)]
        first, second, again = (_text(host, sampling=s) for s in hot)
        assert first == again != second
        assert _text(host) == greedy and host.finish_reason in ("eos", "max_tokens")
    finally:
        host.close()


def test_models_info_says_which_engine_runs_a_model_and_why(untied_gguf: Path, capsys) -> None:
    import json

    from analyzer.cli import main

    assert main(["models", "info", str(untied_gguf), "--device", "cpu", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["engine"] == "llama.cpp" and "比 transformers int8 快" in info["why"]
    assert info["decode_tokens_per_second"] > 0
    assert main(["models", "info", str(untied_gguf), "--engine", "transformers", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["engine"] == "transformers" and info["why"] == "按要求使用 transformers"
