"""What the drafter and the GUI need from a model: the ``Generator`` protocol (no torch here).

Tests and the GUI inject a fake that yields canned text; the real one is
:class:`analyzer.llm.generate.TransformersGenerator`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from analyzer.progress import CancelToken
from analyzer.zh.segments import strip_list_mark

Message = Mapping[str, str]  # {"role": "system" | "user" | "assistant", "content": ...}


def repeat_key(line: str) -> str:
    """A line as compared for repeats: without list markers, Markdown marks and spaces, so
    "1. 城市记忆…" and "2. 城市记忆…" count as the same paragraph."""
    return re.sub(r"\s+", "", strip_list_mark(line.strip()))


def split_prefix(messages: Sequence[Message]) -> tuple[list[dict[str, str]], str]:
    """The messages to template, and the start of the reply when the last message is the
    assistant's (a model continues it; a server that cannot is sent the messages without it)."""
    out = [dict(m) for m in messages]
    if out and out[-1].get("role") == "assistant":
        return out[:-1], str(out[-1].get("content", ""))
    return out, ""


@dataclass(frozen=True)
class Sampling:
    """Decoding settings. ``temperature`` 0 is greedy (reproducible drafts); a ``seed`` makes a
    sampled reply reproducible too."""

    temperature: float = 0.0
    top_p: float = 0.8
    repetition_penalty: float = 1.1
    mode: str = "loop"  # "loop" | "thread" (transformers' streaming modes)
    seed: int | None = None
    stop_on_repeated_line: bool = True


class Generator(Protocol):
    """Streams a reply. A generator with ``continues_reply`` True continues a last assistant
    message (the reply's beginning); one without it (a server) is never sent one."""

    def stream(
        self,
        prompt_messages: Sequence[Message],
        *,
        max_new_tokens: int,
        cancel: CancelToken | None = None,
        time_budget: float | None = None,
        sampling: Sampling | None = None,
    ) -> Iterator[str]:
        """Yield the reply in pieces as it is generated (``sampling`` overrides the generator's
        own settings for this reply: a draft tried again with a new seed).

        Stops at the end of the reply, after ``max_new_tokens`` tokens or ``time_budget`` seconds
        (the text so far is the answer), and raises ``Cancelled`` at the first token after
        ``cancel`` is set.
        """
        ...
