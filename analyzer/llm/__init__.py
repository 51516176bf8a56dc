"""Local drafting models: sources, loading, device placement, streaming generation.

Importing this package is cheap; torch and transformers load on the first model load.

    load_generator(spec=None)   → TransformersGenerator for the bundled default, a folder,
                                   a .gguf file, or (with download=True) a hub name
    unload()                    free the process's model
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from analyzer.llm.base import Generator, Message, Sampling
from analyzer.llm.device import LoadOptions
from analyzer.llm.loader import LoadedModel, current, get_model, unload
from analyzer.llm.sources import ModelSource, install_default, known_models, resolve
from analyzer.progress import CancelToken, ProgressCallback, no_progress

if TYPE_CHECKING:
    from analyzer.llm.generate import TransformersGenerator

__all__ = [
    "Generator",
    "LoadOptions",
    "LoadedModel",
    "Message",
    "ModelSource",
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
) -> TransformersGenerator:
    """Resolve ``spec`` (see :func:`resolve`), load it once per process, wrap it for streaming."""
    from analyzer.llm.generate import TransformersGenerator

    options = options or LoadOptions()
    source = resolve(spec, download=options.download)
    loaded = get_model(source, options, on_progress=on_progress, cancel=cancel)
    return TransformersGenerator(loaded, sampling or Sampling())
