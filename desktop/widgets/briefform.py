"""The brief form of the 撰写 page: award, title, header fields, facts, results rows, exemplars.

The header fields come from the award's schema; the rest is the brief the drafter reads. The
form only holds values: :meth:`BriefForm.values` gives them back as plain data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from analyzer.documents.brief import brief_spec
from analyzer.markers import VERIFY
from desktop.models import award_labels, section_label
from desktop.qt import Qt, QtGui, QtWidgets, Signal

if TYPE_CHECKING:
    from analyzer.library.exemplar import Exemplar

# The brief's fact groups (key, label, hint) and result columns, as templates/brief.toml has them.
NOTES = tuple((f.key, f.label, f.hint) for f in brief_spec().facts)
RESULT_COLUMNS = tuple(label for _, label in brief_spec().result_columns)
NAME_FIELD = "case_name"  # the header field that is the entry's name: the form's title
NAME_FIELD_TITLE = "案例名称"


class ResultsTable(QtWidgets.QWidget):
    """Results as rows of (measure, value, source); the only numbers the draft may state.

    Every row shows whole: long text wraps in its cell and the table grows with its rows (no
    cell cut off with "…", no scrolling inside the form's own scrolling)."""

    changed = Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = QtWidgets.QTableWidget(0, len(RESULT_COLUMNS))
        self.table.setHorizontalHeaderLabels(list(RESULT_COLUMNS))
        self.table.verticalHeader().hide()
        self.table.setWordWrap(True)
        self.table.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Fixed
        )
        header = self.table.horizontalHeader()
        header.setMinimumSectionSize(48)
        for col in range(len(RESULT_COLUMNS)):  # the value column as wide as its values
            mode = QtWidgets.QHeaderView.ResizeMode
            header.setSectionResizeMode(col, mode.ResizeToContents if col == 1 else mode.Stretch)
        self.table.verticalHeader().setSectionResizeMode(
            QtWidgets.QHeaderView.ResizeMode.ResizeToContents
        )
        self.table.verticalHeader().sectionResized.connect(lambda *_: self._fit())
        header.sectionResized.connect(lambda *_: self._fit())
        self.table.itemChanged.connect(lambda *_: self.changed.emit())
        self.table.itemChanged.connect(lambda *_: self._fit())
        add = QtWidgets.QPushButton("添加一行")
        add.clicked.connect(lambda: self.add_row())
        remove = QtWidgets.QPushButton("删除所选行")
        remove.clicked.connect(self.remove_selected)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        self._fit()

    def _fit(self) -> None:
        """As tall as the header and every row (room for two when there are fewer)."""
        table = self.table
        table.resizeRowsToContents()
        rows = sum(table.rowHeight(r) for r in range(table.rowCount()))
        empty = max(0, 2 - table.rowCount()) * table.verticalHeader().defaultSectionSize()
        frame = 2 * table.frameWidth()
        header = table.horizontalHeader()  # as tall as the view makes it (shown or not yet)
        head = max(header.minimumHeight(), header.sizeHint().height())
        height = head + rows + empty + frame
        if table.height() != height:
            table.setFixedHeight(height)

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()  # narrower columns wrap into more lines

    def add_row(self, measure: str = "", value: str = "", source: str = "") -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        for col, text in enumerate((measure, value, source)):
            self.table.setItem(row, col, QtWidgets.QTableWidgetItem(text))
        self._fit()
        self.changed.emit()

    def remove_selected(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True)
        for row in rows:
            self.table.removeRow(row)
        if rows:
            self._fit()
            self.changed.emit()

    def rows(self) -> list[dict[str, str]]:
        out = []
        for row in range(self.table.rowCount()):
            cells = [self.table.item(row, c) for c in range(len(RESULT_COLUMNS))]
            measure, value, source = (c.text().strip() if c else "" for c in cells)
            if measure or value or source:
                out.append({"measure": measure, "value": value, "source": source})
        return out

    def set_rows(self, rows: list[dict[str, Any]]) -> None:
        self.table.blockSignals(True)
        self.table.setRowCount(0)
        self.table.blockSignals(False)
        for r in rows:
            self.add_row(
                str(r.get("measure", "")), str(r.get("value", "")), str(r.get("source", ""))
            )


class BriefForm(QtWidgets.QWidget):
    changed = Signal()
    award_changed = Signal(str)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.award = QtWidgets.QComboBox()
        for key, name in award_labels().items():
            self.award.addItem(name, key)
        self.award.setSizeAdjustPolicy(  # a long award name must not widen the form
            QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.award.setMinimumContentsLength(8)
        self.award.currentIndexChanged.connect(self._award_changed)
        self.title = QtWidgets.QLineEdit()
        self.title.setPlaceholderText("作品/案例名称")
        self.title.textChanged.connect(self.changed)
        self.fields_box = QtWidgets.QGroupBox("表头字段")
        self.fields_form = QtWidgets.QFormLayout(self.fields_box)
        self.field_edits: dict[str, QtWidgets.QLineEdit] = {}
        self.notes: dict[str, QtWidgets.QPlainTextEdit] = {}
        facts_box = QtWidgets.QGroupBox("简报")
        facts = QtWidgets.QFormLayout(facts_box)
        facts.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for key, label, hint in NOTES:
            edit = QtWidgets.QPlainTextEdit()
            edit.setPlaceholderText(hint)
            edit.setTabChangesFocus(True)
            edit.setFixedHeight(edit.fontMetrics().lineSpacing() * 3 + 14)
            edit.textChanged.connect(self.changed)
            self.notes[key] = edit
            facts.addRow(f"{label}：", edit)
        self.results = ResultsTable()
        self.results.changed.connect(self.changed)
        facts.addRow(f"{brief_spec().results_label}：", self.results)
        rule = QtWidgets.QLabel(f"草稿中的数字只能来自这里和上面的简报；其他数字会被标为{VERIFY}。")
        rule.setWordWrap(True)
        rule.setStyleSheet("color:#666")
        facts.addRow("", rule)

        self.exemplar_box = QtWidgets.QGroupBox("范例段落（来自相似案例）")
        ex = QtWidgets.QVBoxLayout(self.exemplar_box)
        self.exemplar_list = QtWidgets.QListWidget()
        self.exemplar_list.setWordWrap(True)
        self.exemplar_list.setMaximumHeight(150)
        remove = QtWidgets.QPushButton("移除所选范例")
        remove.clicked.connect(self._remove_exemplar)
        ex.addWidget(self.exemplar_list)
        ex.addWidget(remove, 0, Qt.AlignmentFlag.AlignLeft)
        self._exemplars: list[Exemplar] = []

        top = QtWidgets.QFormLayout()
        self.title_label = QtWidgets.QLabel(f"{NAME_FIELD_TITLE}：")
        top.addRow("奖项：", self.award)
        top.addRow(self.title_label, self.title)
        # narrow (800 px window): a label goes above its field instead of squeezing it
        for form in (top, self.fields_form, facts):
            form.setRowWrapPolicy(QtWidgets.QFormLayout.RowWrapPolicy.WrapLongRows)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.fields_box)
        layout.addWidget(facts_box)
        layout.addWidget(self.exemplar_box)
        layout.addStretch(1)
        self.set_fields(self.current_award(), {})

    # ------------------------------------------------------------------ values

    def current_award(self) -> str:
        return str(self.award.currentData())

    def set_fields(self, award: str, values: dict[str, str]) -> None:
        from analyzer.schema import get_award

        while self.fields_form.rowCount():
            self.fields_form.removeRow(0)
        self.field_edits = {}
        specs = get_award(award).fields
        # The award's name field (金旗奖's 案例名称) is the title above: one field, not two
        name = next((f for f in specs if f.key == NAME_FIELD), None)
        self._has_name_field = name is not None
        label = name.title if name is not None else NAME_FIELD_TITLE
        self.title_label.setText(f"{label}{' *' if name is not None and name.required else ''}：")
        for spec in specs:
            if spec.key == NAME_FIELD:
                continue
            edit = QtWidgets.QLineEdit(values.get(spec.key, ""))
            if spec.type == "period":
                edit.setPlaceholderText("如 2023.04—2023.10")
            edit.textChanged.connect(self.changed)
            self.field_edits[spec.key] = edit
            label = f"{spec.title}{' *' if spec.required else ''}："
            self.fields_form.addRow(label, edit)
        # Values of fields this award does not have are kept, not shown.
        self._hidden_fields = {
            k: v for k, v in values.items() if k not in self.field_edits and k != NAME_FIELD
        }

    def field_values(self) -> dict[str, str]:
        values = {k: e.text().strip() for k, e in self.field_edits.items()}
        if getattr(self, "_has_name_field", False):
            values[NAME_FIELD] = self.title.text().strip()
        return {**getattr(self, "_hidden_fields", {}), **values}

    def brief(self) -> dict[str, Any]:
        """The notes and results rows as plain data (award, title and fields are separate)."""
        out: dict[str, Any] = {}
        for key, edit in self.notes.items():
            out[key] = edit.toPlainText().strip()
        out["results"] = self.results.rows()
        return out

    def set_values(
        self, award: str, title: str, fields: dict[str, str], brief: dict[str, Any]
    ) -> None:
        self.blockSignals(True)
        try:
            i = self.award.findData(award)
            self.award.setCurrentIndex(max(i, 0))
            self.title.setText(title or fields.get(NAME_FIELD, ""))
            self.set_fields(award, fields)
            for key, edit in self.notes.items():
                value = brief.get(key, "") or ""
                edit.setPlainText("\n".join(value) if isinstance(value, list) else str(value))
            self.results.set_rows(list(brief.get("results", []) or []))
        finally:
            self.blockSignals(False)

    # ------------------------------------------------------------------ exemplars

    def exemplars(self) -> list[Exemplar]:
        return list(self._exemplars)

    def set_exemplars(self, exemplars: list[Exemplar]) -> None:
        self._exemplars = list(exemplars)
        self.exemplar_list.clear()
        for e in self._exemplars:
            section = section_label(e.section, e.section_title) if e.section else ""
            head = f"{e.title}" + (f" · {section}" if section else "")
            text = e.text if len(e.text) <= 120 else e.text[:119] + "…"
            item = QtWidgets.QListWidgetItem(f"{head}\n{text}")
            item.setToolTip(e.text)
            self.exemplar_list.addItem(item)
        self.exemplar_box.setVisible(bool(self._exemplars))

    def add_exemplar(self, exemplar: Exemplar) -> None:
        self.set_exemplars([*self._exemplars, exemplar])
        self.changed.emit()

    def _remove_exemplar(self) -> None:
        row = self.exemplar_list.currentRow()
        if 0 <= row < len(self._exemplars):
            del self._exemplars[row]
            self.set_exemplars(self._exemplars)
            self.changed.emit()

    def _award_changed(self) -> None:
        self.award_changed.emit(self.current_award())
