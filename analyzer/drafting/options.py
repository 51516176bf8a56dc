"""How a draft is written: one value instead of a dozen keyword arguments."""

from __future__ import annotations

from dataclasses import dataclass

from analyzer.drafting.exemplars import ExemplarFn
from analyzer.drafting.result import EXEMPLAR_FORM, EXEMPLAR_FORMS

DEFAULT_MAX_TOKENS = 320  # per section; ~250 Chinese characters with Qwen's tokenizer


@dataclass(frozen=True)
class DraftOptions:
    """``award`` overrides the brief's; ``exemplars`` finds similar cases' passages (None: none);
    ``k`` of them at most per section; ``max_new_tokens`` and ``time_budget`` (seconds) bound each
    section; ``exemplar_form`` is how the model sees them (none, outline, passage)."""

    award: str | None = None
    exemplars: ExemplarFn | None = None
    k: int = 2
    max_new_tokens: int = DEFAULT_MAX_TOKENS
    time_budget: float | None = None
    exemplar_form: str = EXEMPLAR_FORM

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be at least 1, got {self.max_new_tokens}")
        if self.exemplar_form not in EXEMPLAR_FORMS:
            raise ValueError(
                f"unknown exemplar form {self.exemplar_form!r}: use {', '.join(EXEMPLAR_FORMS)}"
            )
