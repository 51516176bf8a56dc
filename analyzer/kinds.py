"""Section kinds: the shared vocabulary every award's sections map onto, read from
``templates/kinds.toml`` (the one place per-kind tables live).

Sections of different awards compare section by section through their kind (background,
objectives, strategy, execution, results …). Each kind carries its label, the fewest characters
a judge needs (:attr:`Kind.min_chars`), the length a draft aims at (:attr:`Kind.target_chars`),
the brief fields it is drafted from (:attr:`Kind.brief_fields`) and the checker's advice for it
(:attr:`Kind.hint`).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from analyzer.errors import SchemaError
from analyzer.paths import templates_dir

KINDS_FILE = "kinds.toml"
RESULTS = "results"  # the kind whose sections carry the figures
OBJECTIVES = "objectives"  # the kind that states the goals, as the brief words them


@dataclass(frozen=True)
class Kind:
    key: str
    label: str  # 背景, 目标 …
    min_chars: int = 40
    target_chars: int = 240
    brief_fields: tuple[str, ...] = ()
    brief_lines: int = 0  # at most this many points of each brief field (0: all)
    hint: str = "补充这一部分内容"


@cache
def load_kinds(root: Path | None = None) -> dict[str, Kind]:
    """Every kind, key → :class:`Kind`, in the usual order of an entry."""
    path = (root or templates_dir()) / KINDS_FILE
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
        labels = dict(data["kinds"])
        out = {}
        for key, label in labels.items():
            out[key] = Kind(
                key=key,
                label=str(label),
                min_chars=int(data.get("min_chars", {}).get(key, Kind.min_chars)),
                target_chars=int(data.get("target_chars", {}).get(key, Kind.target_chars)),
                brief_fields=tuple(str(f) for f in data.get("brief_fields", {}).get(key, ())),
                brief_lines=int(data.get("brief_lines", {}).get(key, 0)),
                hint=str(data.get("hints", {}).get(key, Kind.hint)),
            )
    except (OSError, KeyError, TypeError, ValueError, tomllib.TOMLDecodeError) as exc:
        raise SchemaError(f"{path}: {exc}") from exc
    for table in ("min_chars", "target_chars", "brief_fields", "brief_lines", "hints"):
        if unknown := set(data.get(table, {})) - set(out):
            raise SchemaError(f"{path}: [{table}] names unknown kinds {sorted(unknown)}")
    return out


def kind(key: str) -> Kind:
    """The kind ``key``; an unknown key gets the defaults (a section kind read from elsewhere)."""
    return load_kinds().get(key) or Kind(key, key)


def kinds(root: Path | None = None) -> dict[str, str]:
    """Kind key → Chinese label, in entry order."""
    return {k: v.label for k, v in load_kinds(root).items()}
