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


def count_pending(text: str) -> int:
    """How many marks are still in ``text``."""
    return len(PENDING.findall(text))
