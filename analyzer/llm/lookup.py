"""Prompt-lookup decoding: guess the next tokens by finding the last few tokens earlier in the
text (the brief's wording, which a draft reuses), and let one forward pass check the guess.

Greedy decoding accepts a guessed token exactly when the model would have picked it anyway, so
the reply is the one plain decoding writes; what changes is how many forward passes it takes.
Whether that is faster depends on the device and the weights (bench/generation.py measures it):
see ``analyzer.llm.generate`` for where it is used.
"""

from __future__ import annotations

from collections.abc import Sequence

# Match the last 3 tokens, else the last 2: one token matches too often in Chinese text (的, 。)
# for its continuation to be a good guess.
NGRAM_SIZES = (3, 2)


class NgramLookup:
    """The token history, indexed by n-grams so each guess costs O(1), not a scan."""

    def __init__(self, tokens: Sequence[int], max_guess: int) -> None:
        self.tokens: list[int] = []
        self.max_guess = max_guess
        # n-gram → the position right after its first occurrence: in the prompt, that is the
        # brief's own wording; in a reply that loops, the longest stretch to guess from
        self._after: dict[tuple[int, ...], int] = {}
        for token in tokens:
            self.push(token)

    def push(self, token: int) -> None:
        """Add a token at the end; the n-grams that end just before it become searchable."""
        t = self.tokens
        for n in NGRAM_SIZES:
            if len(t) >= n:
                self._after.setdefault(tuple(t[-n:]), len(t))
        t.append(token)

    def guess(self) -> list[int]:
        """Up to ``max_guess`` tokens that followed the first earlier occurrence of the text's
        last n-gram (the longest n that occurred before); [] when none did."""
        t = self.tokens
        for n in NGRAM_SIZES:
            if len(t) < n:
                continue
            start = self._after.get(tuple(t[-n:]))
            if start is not None:
                return t[start : start + self.max_guess]
        return []
