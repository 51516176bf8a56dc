"""What every step of a section's pipeline knows (:class:`SectionContext`), and what a step
returns besides its text (:data:`Note`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Union

from analyzer.documents.brief import Brief
from analyzer.drafting.guards.copyguard import CopyFlag, Source
from analyzer.drafting.guards.factguard import Allowed, Flag
from analyzer.schema import AwardSchema, SectionSpec


@dataclass(frozen=True)
class MostlyCopied:
    """The copy guard's verdict: most of the section came from an example."""

    share: float


@dataclass(frozen=True)
class Summarized:
    """A summary section replaced by one composed from the brief: the notes of the steps
    before it concern a text that is gone."""

    message: str


Note = Union[str, CopyFlag, Flag, MostlyCopied, Summarized]  # noqa: UP007  (a runtime alias)


@dataclass(frozen=True)
class SectionContext:
    """What the steps of one section know."""

    brief: Brief
    schema: AwardSchema
    spec: SectionSpec
    facts: dict[str, tuple[str, ...]]  # brief field → the facts this section is written from
    fact_lists: list[tuple[str, ...]]  # every fact field of the brief
    names: list[str]  # the brand's and advertiser's names as the brief spells them
    brief_text: str
    header: tuple[tuple[str, str], ...]  # the award's header fields as filled from the brief
    allowed: Allowed  # the numbers the draft may state
    own: tuple[str, ...]  # text the draft may repeat: the brief, the award's own titles
    sources: tuple[Source, ...] = ()  # text it must not copy: examples, the prompt
    said: tuple[str, ...] = ()  # the prose of the sections written before this one
    said_later: tuple[str, ...] = ()  # the part of it shown after this section
    finish_reason: str = ""  # why the model stopped (eos, max_tokens, time, repetition)
    extra: dict[str, object] = field(default_factory=dict)


Step = Callable[[str, SectionContext], tuple[str, Sequence[Note]]]
