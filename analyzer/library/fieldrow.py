"""Header fields written as a table row (Word and web pages): ``广告主 | 华为 | 所属行业 | 科技``
becomes ``广告主：华为`` and ``所属行业：科技``, the lines the parser reads fields from."""

from __future__ import annotations

from functools import cache


@cache
def _field_names() -> frozenset[str]:
    from analyzer.library.sections import normalized
    from analyzer.schema import load_awards

    return frozenset(
        normalized(a) for s in load_awards().values() for f in s.fields for a in f.aliases
    )


def field_row(cells: list[str]) -> list[str]:
    """Header-field lines of a table row that pairs field names with values, else ``[]``.

    Official entry forms are tables: ``广告主 | 华为`` (or ``广告主 | 华为 | 所属行业 | 科技``)
    becomes ``广告主：华为``, the form the field reader knows. Rows of other tables (指标 | 结果)
    stay as they are.
    """
    from analyzer.library.sections import normalized

    texts = [c.strip() for c in cells]
    if len(texts) < 2 or len(texts) % 2:
        return []
    pairs = [(texts[i].rstrip(":：").strip(), texts[i + 1]) for i in range(0, len(texts), 2)]
    if not all(
        name and "\n" not in name and normalized(name) in _field_names() for name, _ in pairs
    ):
        return []
    return [f"{name}：{value}" for name, value in pairs if value]
