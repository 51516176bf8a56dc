"""What the drafter and the GUI need from a model: the ``Generator`` protocol, the ``Sampling``
settings every engine honours, and the stop rules they share (no torch here).

Tests and the GUI inject a fake that yields canned text; the real ones are
:class:`analyzer.llm.generate.TransformersGenerator`, :class:`analyzer.llm.llamacpp.LlamaCppGenerator`
and :class:`analyzer.llm.server.ServerGenerator`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from analyzer.errors import Cancelled
from analyzer.progress import CancelToken
from analyzer.zh.segments import strip_list_mark

Message = Mapping[str, str]  # {"role": "system" | "user" | "assistant", "content": ...}

# Why a stream ended, kept in ``finish_reason`` after it (the drafter reads it).
FINISH_REASONS = ("eos", "max_tokens", "time", "repetition", "cancelled")


@dataclass(frozen=True)
class Sampling:
    """Decoding settings. ``temperature`` 0 is greedy (reproducible drafts); above 0, ``seed``
    makes a sampled reply reproducible and a new seed gives a new text.

    ``repetition_penalty`` applies to the tokens of the reply (engines differ in details: see
    each engine). ``mode`` and ``prompt_lookup`` concern the transformers engine only.
    """

    temperature: float = 0.0
    top_p: float = 0.8
    repetition_penalty: float = 1.1
    mode: str = "loop"  # "loop" | "thread"
    seed: int | None = None
    stop_on_repeated_line: bool = True
    # Greedy decoding may verify up to this many tokens copied from the prompt in one forward
    # pass (prompt-lookup decoding); 0 switches it off. See analyzer.llm.lookup.
    prompt_lookup: int = 0

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0


GREEDY = Sampling()  # every generator's default: the same draft from the same brief


def split_prefix(messages: Sequence[Message]) -> tuple[list[dict[str, str]], str]:
    """The messages to template, and the start of the reply when the last message is the
    assistant's (a model continues it; a server that cannot is sent the messages without it)."""
    out = [dict(m) for m in messages]
    if out and out[-1].get("role") == "assistant":
        return out[:-1], str(out[-1].get("content", ""))
    return out, ""


class Generator(Protocol):
    """A drafting model. After a stream, ``finish_reason`` says why it ended (one of
    :data:`FINISH_REASONS`); ``label`` names the model and where it runs. A generator whose
    ``continues_reply`` is True continues a last assistant message (the reply's beginning, see
    :func:`split_prefix`); one without it (a server) is never sent one."""

    finish_reason: str

    def stream(
        self,
        prompt_messages: Sequence[Message],
        *,
        max_new_tokens: int,
        cancel: CancelToken | None = None,
        time_budget: float | None = None,
        sampling: Sampling | None = None,
    ) -> Iterator[str]:
        """Yield the reply in pieces as it is generated.

        Stops at the end of the reply, after ``max_new_tokens`` tokens or ``time_budget`` seconds
        (the text so far is the answer), and raises ``Cancelled`` at the first token after
        ``cancel`` is set. ``sampling`` overrides the generator's own settings for this reply
        (``None``: its own, greedy unless it was made otherwise).
        """
        ...


def repeat_key(line: str) -> str:
    """A line as compared for repeats: without list markers, Markdown marks and spaces, so
    "1. 城市记忆…" and "2. 城市记忆…" count as the same paragraph."""
    return re.sub(r"\s+", "", strip_list_mark(line.strip()))


def until_repeated_line(inner: Iterator[str], on_repeat: Callable[[], None]) -> Iterator[str]:
    """Pass ``inner`` through until the model writes a line it already wrote, then call
    ``on_repeat`` and stop: a small model caught in a loop ("第十天 … 第十一天 …") would
    otherwise spend the whole budget repeating itself. ``inner`` is closed either way, which
    ends its decode loop, thread or connection."""
    seen: set[str] = set()
    line = ""
    try:
        for piece in inner:
            yield piece
            line += piece
            while "\n" in line:
                done, line = line.split("\n", 1)
                key = repeat_key(done)
                if len(key) >= 6 and key in seen:
                    on_repeat()
                    return
                seen.add(key)
    finally:
        close = getattr(inner, "close", None)
        if close is not None:
            close()


class _Replying(Protocol):
    finish_reason: str


def reply(
    gen: _Replying, inner: Iterator[str], sampling: Sampling, cancel: CancelToken | None
) -> Iterator[str]:
    """How every engine's ``stream`` ends: ``inner`` passed through (stopped at a repeated line
    when ``sampling`` says so), and ``gen.finish_reason`` set to "repetition" or "cancelled"
    (``Cancelled`` raised after a cancel that came with the last piece)."""

    def repeated() -> None:
        gen.finish_reason = "repetition"

    try:
        if sampling.stop_on_repeated_line:
            yield from until_repeated_line(inner, repeated)
        else:
            yield from inner
    except Cancelled:
        gen.finish_reason = "cancelled"
        raise
    if cancel is not None and cancel.cancelled:
        gen.finish_reason = "cancelled"
        raise Cancelled()


def check_budget(max_new_tokens: int) -> None:
    if max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be at least 1, got {max_new_tokens}")
