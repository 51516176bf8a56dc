"""How a draft is written: one value instead of a dozen keyword arguments."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from analyzer.drafting.exemplars import ExemplarFn
from analyzer.drafting.result import EXEMPLAR_FORM, EXEMPLAR_FORMS
from analyzer.llm.base import Sampling

DEFAULT_MAX_TOKENS = 320  # per section; ~250 Chinese characters with Qwen's tokenizer
TRIES = 3  # drafts of a section at most, while one fails a hard gate (see drafting/gates.py)
# Tries after the second stop once a section has taken this many times its first try's time.
RETRY_TIME = 2.5
SAMPLING_TEMPERATURE = 0.7  # for a try after the first, and for every try of a regenerate
SAMPLING_TOP_P = 0.9


@dataclass(frozen=True)
class DraftOptions:
    """``award`` overrides the brief's; ``exemplars`` finds similar cases' passages (None: none);
    ``k`` of them at most per section; ``max_new_tokens`` and ``time_budget`` (seconds) bound each
    try; ``exemplar_form`` is how the model sees them (none, outline, passage).

    A section that fails a hard quality gate is drafted again with sampling, up to ``tries``
    drafts and ``retry_time`` times the first one's time; the best is kept. ``seed`` None drafts
    the first try greedily (the same brief gives the same draft); a seed samples every try from
    it (重新生成 passes a new one, so it writes a different text). ``typical_chars`` gives the
    length the award's entries run to per section key (from the library), for the length gate.
    ``said`` holds the text of the draft's sections as they stand (section key → text): a
    section says nothing again that a section written before it in
    :func:`~analyzer.documents.brief.drafting_order` says (重新生成 of one section passes them).
    """

    award: str | None = None
    exemplars: ExemplarFn | None = None
    k: int = 2
    max_new_tokens: int = DEFAULT_MAX_TOKENS
    time_budget: float | None = None
    exemplar_form: str = EXEMPLAR_FORM
    tries: int = TRIES
    retry_time: float = RETRY_TIME
    seed: int | None = None
    typical_chars: Mapping[str, int] = field(default_factory=dict)
    said: Mapping[str, str] = field(default_factory=dict)
    # Begin the reply with the section's first point (for a model that can continue a reply).
    # Off: with the worked example the bundled model writes prose without it, and begun with
    # the brief's own words it went on copying the brief line after line (bench/draft_quality.py).
    open_reply: bool = False

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be at least 1, got {self.max_new_tokens}")
        if self.tries < 1:
            raise ValueError(f"tries must be at least 1, got {self.tries}")
        if self.exemplar_form not in EXEMPLAR_FORMS:
            raise ValueError(
                f"unknown exemplar form {self.exemplar_form!r}: use {', '.join(EXEMPLAR_FORMS)}"
            )

    def sampling(self, attempt: int) -> Sampling | None:
        """How try ``attempt`` (0 first) decodes: None is the generator's own (greedy)."""
        if attempt == 0 and self.seed is None:
            return None
        seed = (self.seed or 0) + attempt
        return Sampling(temperature=SAMPLING_TEMPERATURE, top_p=SAMPLING_TOP_P, seed=seed)
