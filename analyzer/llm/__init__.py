"""Drafting models: sources, engines, loading, device placement, streaming generation.

Importing this package is cheap; torch, transformers and llama_cpp load on the first model load.

    load_generator(spec=None)   → the Generator for the bundled default, a folder, a .gguf file,
                                   a server URL or (with download=True) a hub name, on the engine
                                   analyzer.llm.engines chooses for it
    unload()                    free the process's model

One loaded model per process, whatever its engine: loading one frees the other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from analyzer.llm.base import Generator, Message, Sampling
from analyzer.llm.device import LoadOptions
from analyzer.llm.engines import EngineChoice, choose_engine
from analyzer.llm.loader import LoadedModel, current, get_model
from analyzer.llm.openai_http import ServerOptions
from analyzer.llm.sources import ModelSource, install_default, known_models, resolve
from analyzer.progress import CancelToken, ProgressCallback, no_progress

if TYPE_CHECKING:
    from analyzer.llm.generate import TransformersGenerator
    from analyzer.llm.llamacpp import LlamaCppGenerator
    from analyzer.llm.server import ServerGenerator

    AnyGenerator = TransformersGenerator | LlamaCppGenerator | ServerGenerator

__all__ = [
    "EngineChoice",
    "Generator",
    "LoadOptions",
    "LoadedModel",
    "Message",
    "ModelSource",
    "Sampling",
    "ServerOptions",
    "choose_engine",
    "current",
    "get_model",
    "install_default",
    "known_models",
    "load_generator",
    "resolve",
    "unload",
]


def load_generator(
    spec: str | None = None,
    *,
    options: LoadOptions | None = None,
    sampling: Sampling | None = None,
    on_progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> AnyGenerator:
    """Resolve ``spec`` (see :func:`resolve`), choose its engine, load it once per process (a
    server is asked which models it serves), and wrap it for streaming."""
    options = options or LoadOptions()
    sampling = sampling or Sampling()
    source = resolve(spec, download=options.download)
    choice = choose_engine(source, options)
    if choice.name == "server":
        from analyzer.llm.server import ServerGenerator

        unload()  # a local model would only hold memory the server's drafts do not need
        return ServerGenerator(source.location, options.server, sampling, choice.reason).connect()
    if choice.name == "llama.cpp":
        from analyzer.llm import loader
        from analyzer.llm.llamacpp import LlamaCppGenerator, get_llama

        loader.unload()
        loaded_llama = get_llama(source, options, on_progress=on_progress, cancel=cancel)
        return LlamaCppGenerator(loaded_llama, choice, sampling)
    from analyzer.llm.generate import TransformersGenerator

    _unload_llama()
    loaded = get_model(source, options, on_progress=on_progress, cancel=cancel)
    return TransformersGenerator(loaded, sampling, choice)


def unload() -> None:
    """Free the process's model, whichever engine holds it."""
    from analyzer.llm import loader

    loader.unload()
    _unload_llama()


def _unload_llama() -> None:
    import sys

    module = sys.modules.get("analyzer.llm.llamacpp")
    if module is not None:  # never imported: nothing loaded
        module.unload()
