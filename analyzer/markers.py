"""The marks a draft carries for its writer, spelled in one place.

``【待核实】`` follows a figure the brief does not hold (the fact guard puts it there);
``【待补充：…】`` stands where the writer has to add something (a section the brief gives no facts
for, a missing source, a required header field). The checker, the exports and the app find them
with :data:`PENDING`.
"""

from __future__ import annotations

import re

VERIFY = "【待核实】"
TO_ADD = "【待补充"  # opens 【待补充：what to add】


def to_add(what: str) -> str:
    """``【待补充：what】``."""
    return f"{TO_ADD}：{what}】"


# Any mark still in a text: 【待核实】, 【待补充】, 【待补充：…】.
PENDING = re.compile(r"【(?:待核实|待补充(?:[：:][^】]*)?)】")


# The review notes a draft's Markdown ends with (EntryDraft.to_markdown): a rule, then this title
# as a quote, then the notes. They are the writer's, not the entry's.
REVIEW_NOTES = "撰写说明（提交前删除）"
_REVIEW_BLOCK = re.compile(rf"^[ \t]*-{{3,}}[ \t]*\n(?:[ \t]*\n)*[ \t]*>[ \t]*{REVIEW_NOTES}", re.M)


def split_review_notes(text: str) -> tuple[str, str]:
    """``text`` without the review-notes block an exported draft ends with, and that block
    ("" when there is none)."""
    found = _REVIEW_BLOCK.search(text)
    if found is None:
        return text, ""
    return text[: found.start()].rstrip() + "\n", text[found.start() :]


def count_pending(text: str) -> int:
    """How many marks are still in ``text``."""
    return len(PENDING.findall(text))
