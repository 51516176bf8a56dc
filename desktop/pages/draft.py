"""撰写: the brief form, one streaming editor per section, and the draft as a document.

The page holds the draft in its widgets; :meth:`DraftPage.current_document` turns them into an
``analyzer.documents.document.DraftDocument`` whenever it saves, autosaves, exports or checks. Generation runs one
section at a time in a worker (see :mod:`desktop.generation`); tokens stream into that section's
editor at the runner's tick.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop.generation import Generation
from desktop.pages.draft_document import DraftDocumentMixin, RecoveryBanner
from desktop.pages.draft_generation import DraftGenerationMixin
from desktop.qt import Qt, QtCore, QtGui, QtWidgets, Signal
from desktop.widgets.briefform import BriefForm
from desktop.widgets.jobbar import JobBar
from desktop.widgets.sectioneditor import SectionEditor

if TYPE_CHECKING:
    from analyzer.documents.autosave import Autosave, Recovery
    from analyzer.documents.document import DraftDocument, DraftSpan
    from analyzer.library.exemplar import Exemplar
    from desktop.session import Session

DEFAULT_AWARD = "golden_mouse"


class DraftPage(DraftDocumentMixin, DraftGenerationMixin, QtWidgets.QWidget):
    title = "撰写"
    check_requested = Signal()
    search_requested = Signal()
    settings_requested = Signal()
    document_changed = Signal()  # opened, saved, renamed, dirty state changed

    def __init__(self, session: Session, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.path: Path | None = None
        self._dirty = False
        self._loading = False
        self._draft_id = ""
        self._award = ""
        self._created = time.time()
        self._extra_sections: list[tuple[str, str]] = []
        self._recoveries: list[Recovery] = []
        self._set_aside: dict[str, list[Exemplar]] = {}  # exemplars by their case's award
        self.editors: dict[str, SectionEditor] = {}

        self._build_actions()
        self.banner = RecoveryBanner()
        self.banner.restore_button.clicked.connect(self.restore_recovery)
        self.banner.discard_button.clicked.connect(self.discard_recovery)

        self.form = BriefForm()
        self.form.changed.connect(self.mark_dirty)
        self.form.award_changed.connect(self._award_changed)
        form_scroll = QtWidgets.QScrollArea()
        form_scroll.setWidgetResizable(True)
        form_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        form_scroll.setWidget(self.form)
        form_scroll.setMinimumWidth(240)

        self.sections_widget = QtWidgets.QWidget()
        self.sections_layout = QtWidgets.QVBoxLayout(self.sections_widget)
        self.sections_layout.setSpacing(10)
        self.sections_scroll = QtWidgets.QScrollArea()
        self.sections_scroll.setWidgetResizable(True)
        self.sections_scroll.setWidget(self.sections_widget)

        # The model is chosen above the sections it writes: in the toolbar it was the first
        # thing to go (collapsed to "»") in a narrow window.
        sections = QtWidgets.QWidget()
        column = QtWidgets.QVBoxLayout(sections)
        column.setContentsMargins(0, 0, 0, 0)
        model_row = QtWidgets.QHBoxLayout()
        model_row.addWidget(QtWidgets.QLabel("生成模型："))
        model_row.addWidget(self.model_choice, 1)
        column.addLayout(model_row)
        column.addWidget(self.sections_scroll, 1)
        self.splitter = QtWidgets.QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("draft")
        self.splitter.addWidget(form_scroll)
        self.splitter.addWidget(sections)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setSizes([400, 600])
        self.sections_scroll.setMinimumWidth(300)

        self.job_bar = JobBar()
        self.generation = Generation(session, self)
        self.generation.started.connect(self._generation_started)
        self.generation.stopped.connect(self._generation_stopped)
        self.generation.streamed.connect(self._streamed)
        self.generation.restarted.connect(self._restarted)
        self.generation.section_done.connect(self._section_done)
        self.generation.section_started.connect(self._section_started)
        self.job_bar.cancel_button.clicked.connect(self.generation.stop)

        self.doc_label = QtWidgets.QLabel()
        self.doc_label.setStyleSheet("color:#555")
        # Where the brief and the draft go when the model runs on a server (see 设置).
        self.destination = QtWidgets.QLabel()
        self.destination.setStyleSheet("color:#8a5300")
        status = QtWidgets.QHBoxLayout()
        status.addWidget(self.doc_label, 1)
        status.addWidget(self.destination)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.banner)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.job_bar)
        layout.addLayout(status)
        self._update_model_label()

        from analyzer.documents.autosave import Autosave, AutosaveSchedule, autosave_dir

        self.autosave: Autosave = Autosave(autosave_dir(session.home))
        self._autosave_schedule = AutosaveSchedule()
        self._autosave_timer = QtCore.QTimer(self)
        self._autosave_timer.setSingleShot(True)
        self._autosave_timer.timeout.connect(self.autosave_now)
        # Leaving the page (another page, another program) saves what was just typed.
        app = QtWidgets.QApplication.instance()
        if isinstance(app, QtWidgets.QApplication):
            app.focusChanged.connect(self._focus_changed)
        session.library_changed.connect(self._library_moved)
        session.settings_changed.connect(lambda _: self._update_model_label())
        # Like 设置, the model cannot be switched while it is loading or drafting.
        session.model_busy_changed.connect(lambda busy: self.model_choice.setEnabled(not busy))
        self.new_document()

    def focus_widget(self) -> QtWidgets.QWidget:
        """Where the keyboard focus goes when the page is shown."""
        return self.form.title

    # ------------------------------------------------------------------ actions

    def _action(self, text: str, slot: Any, shortcut: Any = None, tip: str = "") -> QtGui.QAction:
        action = QtGui.QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QtGui.QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            tip = f"{tip or text} ({action.shortcut().toString(QtGui.QKeySequence.SequenceFormat.NativeText)})"
        action.setToolTip(tip or text)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        K = QtGui.QKeySequence.StandardKey
        self.new_action = self._action("新建", self.ask_new, K.New)
        self.open_action = self._action("打开…", self.choose_open, K.Open)
        self.save_action = self._action("保存", self.save, K.Save)
        self.save_as_action = self._action("另存为…", self.save_as, K.SaveAs)
        self.export_action = self._action(
            "导出…", self.choose_export, "Ctrl+E", "导出为 Word、Markdown 或 PDF"
        )
        self.generate_action = self._action(
            "生成全文", self.generate_all, "Ctrl+Return", "按奖项结构逐节生成全文"
        )
        # Esc is the window's (desktop.mainwindow): it stops drafting from any page.
        self.stop_action = self._action("停止", self.stop_generation, tip="停止生成 (Esc)")
        self.stop_action.setEnabled(False)
        self.check_action = self._action("检查此稿", self.check_requested.emit, "Ctrl+K")
        self.search_action = self._action("找相似案例", self.search_requested.emit, "Ctrl+Shift+F")
        self.toolbar = QtWidgets.QToolBar()
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for a in (
            self.new_action,
            self.open_action,
            self.save_action,
            self.save_as_action,
            self.export_action,
        ):
            self.toolbar.addAction(a)
        self.toolbar.addSeparator()
        for a in (self.generate_action, self.stop_action):
            self.toolbar.addAction(a)
        self.toolbar.addSeparator()
        for a in (self.check_action, self.search_action):
            self.toolbar.addAction(a)
        self.model_choice = QtWidgets.QComboBox()
        self.model_choice.setSizeAdjustPolicy(
            QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.model_choice.setMinimumContentsLength(12)
        self.model_choice.setToolTip("撰写用的生成模型；本地模型文件夹或 GGUF 文件在“设置”中选择")
        self.model_choice.activated.connect(self._model_chosen)
        self._update_model_label()

    def _update_model_label(self) -> None:
        """The model choice: the bundled model, the local model and the server named in 设置,
        "other…"; and where the text goes when the model is on a server."""
        from desktop.generation import text_destination

        s = self.session.settings
        self.model_choice.blockSignals(True)
        self.model_choice.clear()
        self.model_choice.addItem("内置 Qwen2.5-Coder-0.5B-Instruct", "bundled\t")
        if s.generator_path:
            kind = "gguf" if s.generator_path.lower().endswith(".gguf") else "folder"
            self.model_choice.addItem(
                f"本地：{Path(s.generator_path).name}", f"{kind}\t{s.generator_path}"
            )
        if s.server_url:
            name = s.server_model or s.server_url
            self.model_choice.addItem(f"服务器：{name}", f"server\t{s.server_url}")
        self.model_choice.addItem("其他模型…（在设置中选择）", "")
        if s.generator == "bundled":
            current = "bundled\t"
        elif s.generator == "server":
            current = f"server\t{s.server_url}"
        else:
            current = f"{s.generator}\t{s.generator_path}"
        self.model_choice.setCurrentIndex(max(0, self.model_choice.findData(current)))
        self.model_choice.blockSignals(False)
        if hasattr(self, "destination"):
            self.destination.setText(text_destination(s))
            self.destination.setVisible(bool(self.destination.text()))

    def _model_chosen(self, index: int) -> None:
        from dataclasses import replace

        choice = str(self.model_choice.itemData(index) or "")
        if not choice:
            self._update_model_label()
            self.settings_requested.emit()
            return
        kind, path = choice.split("\t", 1)
        s = self.session.settings
        if kind == "server":
            path = s.generator_path  # the server's address stays where 设置 keeps it
        if (kind, path) != (s.generator, s.generator_path if kind != "bundled" else ""):
            if self.generating or self.session.model_busy:
                self.session.warn("正在生成或加载模型；停止或等它结束后再更换模型。")
                self._update_model_label()
                return
            new = replace(s, generator=kind, generator_path=path or s.generator_path)
            self.session.apply_settings(new)

    # ------------------------------------------------------------------ the document

    def current_document(self, *, for_autosave: bool = False) -> DraftDocument:
        """The draft in the widgets. ``for_autosave``: a section being regenerated keeps the
        text it had until its new text is complete (a crash mid-stream loses nothing typed)."""
        from analyzer.documents.document import STOPPED, DocumentSection, DraftDocument

        sections = tuple(
            DocumentSection(
                key,
                e.section_title,
                e.durable_text() if for_autosave else e.text(),
                STOPPED if e.stopped and not e.streaming else "",
            )
            for key, e in self.editors.items()
        )
        return DraftDocument(
            award=self.form.current_award(),
            title=self.form.title.text().strip(),
            fields=self.form.field_values(),
            sections=sections,
            brief=self.form.brief(),
            exemplars=tuple(self.form.exemplars()),
            id=self._draft_id,
            created=self._created,
        )

    def draft_text(self) -> str:
        """The draft as a query for similar cases (no headings)."""
        return self.current_document().search_text()

    def load_document(
        self, draft: DraftDocument, *, path: Path | None, dirty: bool = False
    ) -> None:
        from analyzer.schema import get_award

        self._loading = True
        try:
            self.generation.abandon()  # the running section belongs to the document going away
            self._draft_id = draft.id
            self._created = draft.created
            self._award = draft.award
            self.path = path
            self.form.set_values(draft.award, draft.title, draft.fields, draft.brief)
            self.form.set_exemplars(list(draft.exemplars))
            try:
                specs = {s.key: s for s in get_award(draft.award).sections}
            except Exception:
                specs = {}
            for editor in self.editors.values():
                editor.setParent(None)
                editor.deleteLater()
            self.editors = {}
            while self.sections_layout.count():
                self.sections_layout.takeAt(0)
            for s in draft.sections:
                spec = specs.get(s.key)
                editor = SectionEditor(
                    s.key,
                    s.title,
                    max_chars=spec.max_chars if spec else None,
                    required=bool(spec and spec.required),
                )
                editor.set_text(s.text)
                editor.set_stopped(s.state == "stopped")
                if spec is None:  # kept from another award: edit by hand, no model prompt for it
                    editor.generate_button.hide()
                    editor.set_status("（本奖项没有这一节）")
                editor.changed.connect(self.mark_dirty)
                editor.generate_requested.connect(self.generate_section)
                editor.stop_requested.connect(lambda _key: self.stop_generation())
                self.editors[s.key] = editor
                self.sections_layout.addWidget(editor)
            self.sections_layout.addStretch(1)
        finally:
            self._loading = False
        self._set_dirty(dirty)

    def new_document(self, award: str | None = None) -> None:
        from analyzer.documents.document import DraftDocument

        self.load_document(DraftDocument.new(award or self._award or _default_award()), path=None)

    def mark_dirty(self) -> None:
        if self._loading:
            return
        self._set_dirty(True)
        self._schedule_autosave()

    def _schedule_autosave(self) -> None:
        """Save soon after the last change, and at the latest a few seconds after the first."""
        due = self._autosave_schedule.changed(time.monotonic())
        self._autosave_timer.start(int(due * 1000))

    def _focus_changed(self, old: Any, new: Any) -> None:
        if not self._autosave_schedule.waiting or old is None or not self.isAncestorOf(old):
            return
        if new is None or not self.isAncestorOf(new):
            self.autosave_now()

    def _set_dirty(self, dirty: bool) -> None:
        self._dirty = dirty
        name = self.path.name if self.path else "未命名草稿"
        self.doc_label.setText(f"{name}{' — 未保存' if dirty else ''}")
        self.document_changed.emit()
        window = self.window()
        if window is not None and window is not self:
            window.setWindowModified(dirty)

    @property
    def dirty(self) -> bool:
        return self._dirty

    def _award_changed(self, award: str) -> None:
        if self._loading or award == self._award:
            return
        from dataclasses import replace

        # The form shows the new award already; the editors still hold the previous one's.
        previous = replace(self.current_document(), award=self._award)
        kept, removed = self._exemplars_for(award, list(previous.exemplars))
        self.load_document(
            replace(previous.with_award(award), exemplars=tuple(kept)), path=self.path, dirty=True
        )
        if removed:
            from desktop.models import award_label

            names = "、".join(dict.fromkeys(award_label(a) for a, _ in removed))
            self.session.info(
                f"已移除 {len(removed)} 条来自{names}案例的范例段落：换成"
                f"{award_label(award)}后不再作为范例（切换回去即恢复）。"
            )

    def _exemplars_for(
        self, award: str, exemplars: list[Exemplar]
    ) -> tuple[list[Exemplar], list[tuple[str, Exemplar]]]:
        """The exemplars an entry of ``award`` keeps: passages of its own award's cases and of
        reference documents; those of another award's cases are set aside (and come back, with
        their award)."""
        kept: list[Exemplar] = []
        removed: list[tuple[str, Exemplar]] = []
        for e in [*exemplars, *self._set_aside.pop(award, [])]:
            case_award = self._case_award(e.case_id)
            if case_award and case_award != award:
                removed.append((case_award, e))
                self._set_aside.setdefault(case_award, []).append(e)
            elif e not in kept:
                kept.append(e)
        return kept, removed

    def _case_award(self, case_id: int | None) -> str | None:
        if case_id is None:
            return None
        try:
            return self.session.library.get_case(case_id).award
        except Exception:  # removed since, or the library is unavailable: keep the passage
            return None

    # ------------------------------------------------------------------ from other pages

    def add_exemplar(self, exemplar: Exemplar) -> None:
        self.form.add_exemplar(exemplar)
        self.session.info(f"已把“{exemplar.title}”的段落加入范例。")

    def select_span(self, where: DraftSpan) -> bool:
        """Select a checker finding's text in its section; True if it is (still) there.

        The draft may have been edited since it was checked: the finding's text is then looked
        for near where it was."""
        from analyzer.documents.document import nearest

        editor = self.editors.get(where.section)
        if editor is None:
            return False
        self.sections_scroll.ensureWidgetVisible(editor, 0, 40)
        text = editor.text()
        start = where.start
        if where.text and text[start : where.end] != where.text:
            start = nearest(text, where.text, where.start)
        if not where.text or start < 0:
            editor.edit.setFocus()
            return False
        editor.select(start, start + len(where.text))
        return True


def _default_award() -> str:
    from analyzer.schema import load_awards

    awards = load_awards()
    return DEFAULT_AWARD if DEFAULT_AWARD in awards else next(iter(awards))
