"""Qt item models that adapt the analyzer's plain objects (cases, import results, search hits).

One generic :class:`RecordTableModel` holds a list of frozen dataclasses and a list of
:class:`Column` (header, how to display, how to sort); the views sort through a
``QSortFilterProxyModel`` using :data:`SORT_ROLE`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Generic, TypeVar

from desktop.qt import Qt, QtCore, QtGui

T = TypeVar("T")

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
RECORD_ROLE = Qt.ItemDataRole.UserRole + 2
BAR_ROLE = Qt.ItemDataRole.UserRole + 3  # 0…1, drawn as a bar (desktop.widgets.bars)

STATUS_LABELS = {
    "imported": "已导入",
    "updated": "已更新",
    "unchanged": "未变化，已跳过",
    "duplicate": "重复，已跳过",
    "failed": "失败",
}
SEVERITY_LABELS = {"error": "错误", "warning": "警告", "suggestion": "建议", "info": "提示"}


@cache
def award_labels() -> dict[str, str]:
    """Award key → short Chinese name, from the schemas (the one source of truth)."""
    try:
        from analyzer.schema import load_awards

        return {key: a.name for key, a in load_awards().items()}
    except Exception:  # a broken schema folder must not break a table
        return {}


SECTION_FALLBACK = {"body": "正文", "": "导语"}  # sections of documents that are no entries


def section_label(key: str, title: str = "") -> str:
    """A section's name for the user: its title, else a Chinese name, never a bare key."""
    if title and title != key:
        return title
    return SECTION_FALLBACK.get(key, title or key)


def award_label(key: str | None) -> str:
    if not key:
        return "参考文档"
    return award_labels().get(key, key)


@dataclass(frozen=True)
class Column(Generic[T]):
    header: str
    display: Callable[[T], str]
    sort: Callable[[T], Any] | None = None
    align_right: bool = False
    tooltip: Callable[[T], str] | None = None
    color: Callable[[T], str | None] | None = None
    bar: Callable[[T], float] | None = None  # 0…1 drawn as a bar behind the text


class RecordTableModel(QtCore.QAbstractTableModel, Generic[T]):
    def __init__(self, columns: Sequence[Column[T]], parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.columns = list(columns)
        self._rows: list[T] = []

    def set_records(self, records: Sequence[T]) -> None:
        self.beginResetModel()
        self._rows = list(records)
        self.endResetModel()

    def append(self, record: T) -> None:
        n = len(self._rows)
        self.beginInsertRows(QtCore.QModelIndex(), n, n)
        self._rows.append(record)
        self.endInsertRows()

    def records(self) -> list[T]:
        return list(self._rows)

    def record(self, row: int) -> T:
        return self._rows[row]

    def rowCount(self, parent: Any = QtCore.QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Any = QtCore.QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Any, role: int = 0) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.columns[section].header
        return None

    def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        rec = self._rows[index.row()]
        col = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return col.display(rec)
        if role == SORT_ROLE:
            return col.sort(rec) if col.sort else col.display(rec)
        if role == RECORD_ROLE:
            return rec
        if role == Qt.ItemDataRole.ToolTipRole:
            return col.tooltip(rec) if col.tooltip else col.display(rec)
        if role == Qt.ItemDataRole.TextAlignmentRole and col.align_right:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == BAR_ROLE and col.bar:
            return col.bar(rec)
        if role == Qt.ItemDataRole.ForegroundRole and col.color:
            color = col.color(rec)
            return QtGui.QBrush(QtGui.QColor(color)) if color else None
        return None


def sorting_proxy(
    model: QtCore.QAbstractItemModel, parent: QtCore.QObject
) -> QtCore.QSortFilterProxyModel:
    proxy = QtCore.QSortFilterProxyModel(parent)
    proxy.setSourceModel(model)
    proxy.setSortRole(SORT_ROLE)
    proxy.setSortLocaleAware(True)
    proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    proxy.setFilterKeyColumn(-1)
    return proxy


def _num(value: int | float | None) -> float:
    return float("-inf") if value is None else float(value)


def case_columns() -> list[Column[Any]]:
    """Columns of the 案例库 table over ``CaseSummary``."""
    return [
        Column("标题", lambda c: c.title, tooltip=lambda c: f"{c.title}\n{c.source}"),
        Column("奖项", lambda c: award_label(c.award)),
        Column("品牌", lambda c: c.brand),
        Column("行业", lambda c: c.industry),
        Column("类别", lambda c: c.category),
        Column("年份", lambda c: str(c.year or ""), sort=lambda c: _num(c.year), align_right=True),
        Column("章节", lambda c: str(c.n_sections), sort=lambda c: c.n_sections, align_right=True),
        Column("指标", lambda c: str(c.n_metrics), sort=lambda c: c.n_metrics, align_right=True),
    ]


def import_columns() -> list[Column[Any]]:
    """Columns of the per-file import results over ``FileResult``."""

    def color(r: Any) -> str | None:
        return {"failed": "#b00020", "imported": "#1b5e20", "updated": "#1b5e20"}.get(r.status)

    return [
        Column("结果", lambda r: STATUS_LABELS.get(r.status, r.status), color=color),
        Column("文件", lambda r: r.path.rsplit("/", 1)[-1], tooltip=lambda r: r.path),
        Column("说明", lambda r: r.message),
    ]


LEVEL_COLORS = {"high": "#1b5e20", "medium": "#8a5300", "low": "#757575"}
LEVEL_ORDER = {"high": 2, "medium": 1, "low": 0}


def match_level(hit: Any) -> Any:
    """A hit's 匹配度 (``analyzer.search.calibration.MatchLevel``): 高 / 中 / 低 and why."""
    from analyzer.search.calibration import judge

    return judge(getattr(hit, "evidence", None))


def match_tooltip(hit: Any) -> str:
    level = match_level(hit)
    return (
        f"匹配度 {level.label}：{level.reason}。\n"
        "高：意思远比案例库中的一般段落接近；中：部分接近；低：和一般段落差不多。\n"
        "结果按向量与关键词检索的融合排序。"
    )


def hit_columns() -> list[Column[Any]]:
    """Columns of the 相似案例 results over ``SearchHit``."""
    return [
        Column(
            "匹配度",
            lambda h: match_level(h).label + ("（词）" if match_level(h).keyword_only else ""),
            # by level, then by the ranking within a level
            sort=lambda h: LEVEL_ORDER[match_level(h).level] * 1e6 + h.score,
            tooltip=match_tooltip,
            color=lambda h: LEVEL_COLORS[match_level(h).level],
            bar=lambda h: max(0.08, match_level(h).strength),
        ),
        Column("案例", lambda h: h.title, tooltip=lambda h: f"{h.title}\n{h.source}"),
        Column("奖项", lambda h: award_label(getattr(h, "award", None))),
        Column(
            "匹配章节",
            lambda h: section_label(getattr(h, "section", ""), getattr(h, "section_title", "")),
        ),
    ]
