"""Word lists as patterns that scan a text fast.

:func:`one_of` writes a list of words (or of patterns that each open with a plain character) as
one alternation, the words that open with the same character grouped behind it::

    one_of(["来源", "来自", "出自"]) == "来(?:源|自)|出自"

Python's ``re`` skips ahead to the places where one of the opening characters stands (when each
word opens with a plain one); at such a place it then tries one group instead of every word.
The matches are the same: words opening with different characters never match at the same
place, and the order of the words within a group is kept, so the first that matches there
wins, as in the plain alternation.
"""

from __future__ import annotations

from collections.abc import Iterable

_META = frozenset("\\.^$*+?{}[]()|")
_QUANTIFIERS = ("*", "+", "?", "{")


def opening(word: str) -> str | None:
    """The plain character a pattern opens with, matched once ("来" of "来源", "\\." of
    "\\.com"); None when it opens otherwise (a class, a group, a repeated character)."""
    if word[:1] == "\\" and len(word) >= 2 and not word[1].isalnum():
        head = word[:2]  # an escaped punctuation mark
    elif word[:1] and word[0] not in _META:
        head = word[0]
    else:
        return None
    return None if word[len(head) : len(head) + 1] in _QUANTIFIERS else head


def one_of(words: Iterable[str]) -> str:
    """The words (patterns) as one alternation, grouped by their opening character; the plain
    alternation when one of them opens with no plain character or is itself an alternation."""
    words = list(words)
    groups: dict[str, list[str]] = {}
    for word in words:
        head = opening(word)
        if head is None or _alternation(word):
            return "|".join(words)
        groups.setdefault(head, []).append(word[len(head) :])
    return "|".join(
        head + (rests[0] if len(rests) == 1 else f"(?:{'|'.join(rests)})")
        for head, rests in groups.items()
    )


def _alternation(pattern: str) -> bool:
    """Whether a pattern has a "|" outside its groups and classes."""
    depth, i, in_class = 0, 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            if pattern[i + 1 : i + 2] == "^":
                i += 1
            if pattern[i + 1 : i + 2] == "]":  # "[]…]", "[^]…]": a "]" first is a member
                i += 1
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            return True
        i += 1
    return False
