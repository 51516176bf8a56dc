"""The 撰写 page's draft as a document: open / save / save as, autosave, crash recovery, export.

A mixin of :class:`desktop.pages.draft.DraftPage`, which provides the widgets and
``current_document`` / ``load_document``; the file formats and the autosave folder are
``analyzer``'s (:mod:`analyzer.documents.document`, :mod:`analyzer.documents.autosave`, :mod:`analyzer.documents.export`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from analyzer.markers import TO_ADD, VERIFY
from desktop.qt import QtCore, QtWidgets

if TYPE_CHECKING:
    from analyzer.documents.autosave import Autosave, AutosaveSchedule, Recovery
    from analyzer.documents.document import DraftDocument
    from analyzer.documents.export import PendingMark
    from analyzer.library.exemplar import Exemplar
    from desktop.generation import Generation
    from desktop.session import Session
    from desktop.widgets.briefform import BriefForm
    from desktop.widgets.sectioneditor import SectionEditor

PENDING_SHOWN = 12  # marks listed before an export; the rest are counted
OPEN_FILTER = "草稿 (*.awdraft);;文档 (*.docx *.md *.txt *.pdf *.html);;所有文件 (*)"
EXPORT_FILTERS = {"Word 文档 (*.docx)": ".docx", "Markdown (*.md)": ".md", "PDF (*.pdf)": ".pdf"}


class RecoveryBanner(QtWidgets.QFrame):
    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet(
            "RecoveryBanner { background:#fff4e5; border:1px solid #e0a040; border-radius:4px; }"
        )
        self.label = QtWidgets.QLabel()
        self.label.setWordWrap(True)
        self.restore_button = QtWidgets.QPushButton("恢复")
        self.discard_button = QtWidgets.QPushButton("丢弃")
        layout = QtWidgets.QHBoxLayout(self)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.restore_button)
        layout.addWidget(self.discard_button)
        self.hide()


class DraftDocumentMixin:
    session: Session
    form: BriefForm
    editors: dict[str, SectionEditor]
    generation: Generation
    autosave: Autosave
    banner: RecoveryBanner
    path: Path | None
    _dirty: bool
    _draft_id: str
    _recoveries: list[Recovery]
    _set_aside: dict[str, list[Exemplar]]
    _autosave_timer: QtCore.QTimer
    _autosave_schedule: AutosaveSchedule

    # Provided by DraftPage.
    def current_document(self, *, for_autosave: bool = False) -> DraftDocument:
        raise NotImplementedError

    def load_document(
        self, draft: DraftDocument, *, path: Path | None, dirty: bool = False
    ) -> None:
        raise NotImplementedError

    def new_document(self, award: str | None = None) -> None:
        raise NotImplementedError

    def _set_dirty(self, dirty: bool) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ files

    def ask_new(self) -> None:
        if self.maybe_save():
            self.close_document()
            self.new_document()

    def choose_open(self) -> None:
        if not self.maybe_save():
            return
        from desktop import dialogs

        path = dialogs.open_file(
            self._widget(), self.session.store, "draft", "打开草稿", OPEN_FILTER, self._folder()
        )
        if path:
            self.open_path(Path(path))

    def open_path(self, path: Path) -> bool:
        from analyzer.documents.document import DRAFT_SUFFIX, load_draft

        try:
            draft = load_draft(path)
        except Exception as exc:
            from desktop.workers import user_message

            self.session.error(f"无法打开 {path.name}：{user_message(exc)}")
            return False
        self.close_document()
        is_draft = path.suffix.lower() == DRAFT_SUFFIX
        self.load_document(draft, path=path if is_draft else None, dirty=not is_draft)
        if not is_draft:
            self.session.info(f"已从 {path.name} 生成一份新草稿；保存时请选择位置。")
        return True

    def save(self) -> bool:
        if self.path is None:
            return self.save_as()
        return self.save_to(self.path)

    def save_as(self) -> bool:
        from analyzer.documents.document import DRAFT_SUFFIX
        from desktop import dialogs

        name = self.path.name if self.path else f"{self._file_stem()}{DRAFT_SUFFIX}"
        path, _ = dialogs.save_file(
            self._widget(),
            self.session.store,
            "draft",
            "保存草稿",
            name,
            "草稿 (*.awdraft)",
            self._folder(),
        )
        if not path:
            return False
        return self.save_to(Path(path))

    def save_to(self, path: Path) -> bool:
        from analyzer.documents.document import save_draft

        try:
            written = save_draft(self.current_document(), path)
        except Exception as exc:
            from desktop.workers import user_message

            self.session.error(f"保存失败：{user_message(exc)}")
            return False
        self.path = written
        self._autosave_timer.stop()
        self._autosave_schedule.saved()
        self.autosave.discard(self._draft_id)
        self._set_dirty(False)
        self.session.status.emit(f"已保存 {written}")
        return True

    def maybe_save(self) -> bool:
        """Before the document goes away: True to go on (saved or discarded), False to stay."""
        if not self._dirty or self.current_document().is_empty:
            return True
        answer = self.ask_save()
        if answer == QtWidgets.QMessageBox.StandardButton.Save:
            return self.save()
        if answer == QtWidgets.QMessageBox.StandardButton.Discard:
            self.autosave.discard(self._draft_id)
            self._dirty = False
            return True
        return False

    def ask_save(self) -> QtWidgets.QMessageBox.StandardButton:
        buttons = (
            QtWidgets.QMessageBox.StandardButton.Save
            | QtWidgets.QMessageBox.StandardButton.Discard
            | QtWidgets.QMessageBox.StandardButton.Cancel
        )
        box = QtWidgets.QMessageBox(
            QtWidgets.QMessageBox.Icon.Question,
            "保存草稿",
            "草稿有未保存的修改，是否保存？",
            buttons,
            self._widget(),
        )
        box.button(QtWidgets.QMessageBox.StandardButton.Save).setText("保存")
        box.button(QtWidgets.QMessageBox.StandardButton.Discard).setText("不保存")
        box.button(QtWidgets.QMessageBox.StandardButton.Cancel).setText("取消")
        return QtWidgets.QMessageBox.StandardButton(box.exec())

    def close_document(self) -> None:
        """The document is going away on purpose: no autosave copy is left for recovery."""
        self.generation.abandon()
        self._set_aside.clear()  # exemplars set aside when the award changed: this draft's
        self._autosave_timer.stop()
        self._autosave_schedule.saved()
        if not self._dirty:
            self.autosave.discard(self._draft_id)
        self.autosave.flush()

    def _folder(self) -> Path | None:
        """The draft's own folder (None for a draft never saved: the dialog's last one)."""
        return self.path.parent if self.path is not None else None

    def _file_stem(self) -> str:
        """A file name for the draft: its title without characters no file name may hold."""
        import re

        title = self.form.title.text().strip() or "未命名草稿"
        return re.sub(r'[\\/:*?"<>|\t\r\n]+', "_", title).strip("._ ")[:80] or "未命名草稿"

    def _library_moved(self) -> None:
        from analyzer.documents.autosave import Autosave, autosave_dir

        folder = autosave_dir(self.session.home)
        if folder != self.autosave.folder:
            self.autosave.flush()
            self.autosave = Autosave(folder)

    # ------------------------------------------------------------------ autosave and recovery

    def autosave_now(self) -> None:
        """Queue a copy of the draft for recovery (written in the background)."""
        self._autosave_timer.stop()
        self._autosave_schedule.saved()
        failure = self.autosave.take_failure()  # the previous background write's
        if failure:
            self.session.error(f"自动保存失败：{failure}")
        if self._dirty:
            self.autosave.write_later(self.current_document(for_autosave=True), self.path)

    def offer_recovery(self) -> list[Recovery]:
        self._recoveries = [r for r in self.autosave.pending() if r.draft.id != self._draft_id]
        if not self._recoveries:
            self.banner.hide()
            return []
        r = self._recoveries[0]
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(r.autosaved_at))
        name = Path(r.saved_path).name if r.saved_path else (r.draft.title or "未命名草稿")
        more = f"（另有 {len(self._recoveries) - 1} 份）" if len(self._recoveries) > 1 else ""
        self.banner.label.setText(
            f"发现上次未保存的草稿“{name}”（自动保存于 {when}）{more}。要恢复吗？"
        )
        self.banner.show()
        return self._recoveries

    def restore_recovery(self) -> bool:
        if not self._recoveries:
            return False
        r = self._recoveries.pop(0)
        if self._dirty and not self.maybe_save():
            self._recoveries.insert(0, r)
            return False
        self.close_document()
        self.load_document(r.draft, path=Path(r.saved_path) if r.saved_path else None, dirty=True)
        self.autosave_now()  # the recovered copy is now this window's autosave
        self.offer_recovery()
        return True

    def discard_recovery(self) -> None:
        if self._recoveries:
            r = self._recoveries.pop(0)
            self.autosave.discard(r.draft.id)
        self.offer_recovery()

    # ------------------------------------------------------------------ export

    def choose_export(self) -> None:
        from desktop import dialogs

        stem = self.path.stem if self.path else self._file_stem()
        path, chosen = dialogs.save_file(
            self._widget(),
            self.session.store,
            "export",
            "导出",
            f"{stem}.docx",
            ";;".join(EXPORT_FILTERS),
            self._folder(),
        )
        if not path:
            return
        from analyzer.documents.export import pending_marks

        marks = pending_marks(self.current_document())
        if marks and not self.confirm_pending(marks):
            return
        suffix = Path(path).suffix.lower() or EXPORT_FILTERS.get(chosen, ".docx")
        self.export_to(Path(path).with_suffix(suffix))

    def confirm_pending(self, marks: list[PendingMark]) -> bool:
        """Marks are left: list them and ask (仍然导出 / 取消, 取消 by default)."""
        shown = [f"· {m.where}：{m.context}" for m in marks[:PENDING_SHOWN]]
        if len(marks) > PENDING_SHOWN:
            shown.append(f"……另有 {len(marks) - PENDING_SHOWN} 处")
        box = QtWidgets.QMessageBox(
            QtWidgets.QMessageBox.Icon.Warning,
            "还有待核实/待补充的内容",
            f"草稿中还有 {len(marks)} 处{VERIFY}或{TO_ADD}】标记，导出的文件会带着它们（黄色标出）。",
            QtWidgets.QMessageBox.StandardButton.NoButton,
            self._widget(),
        )
        box.setInformativeText("\n".join(shown))
        export = box.addButton("仍然导出", QtWidgets.QMessageBox.ButtonRole.AcceptRole)
        cancel = box.addButton("取消", QtWidgets.QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(cancel)
        box.setEscapeButton(cancel)
        box.exec()
        return box.clickedButton() is export

    def export_to(self, path: Path) -> bool:
        draft = self.current_document()
        try:
            if path.suffix.lower() == ".pdf":
                from desktop.pdf import export_pdf

                export_pdf(draft, path)
            else:
                from analyzer.documents.export import export_draft

                export_draft(draft, path)
        except Exception as exc:
            from desktop.workers import user_message

            self.session.error(f"导出失败：{user_message(exc)}")
            return False
        marks = sum(e.marks() for e in self.editors.values())
        note = f"；还有 {marks} 处{VERIFY}/{TO_ADD}】需要处理" if marks else ""
        self.session.info(f"已导出 {path}{note}")
        return True

    def _widget(self) -> QtWidgets.QWidget:
        assert isinstance(self, QtWidgets.QWidget)
        return self
