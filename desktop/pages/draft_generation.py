"""The 撰写 page's drafting with the model: queue sections, follow the run, show each section's
state (准备中…, 等待生成, streaming, 已停止（未写完）, done).

A mixin of :class:`desktop.pages.draft.DraftPage`, which provides the widgets; the runs
themselves are :class:`desktop.generation.Generation`'s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from desktop.qt import QtGui, QtWidgets

if TYPE_CHECKING:
    from analyzer.documents.document import DraftDocument
    from desktop.generation import Generation
    from desktop.session import Session
    from desktop.widgets.jobbar import JobBar
    from desktop.widgets.sectioneditor import SectionEditor
    from desktop.workers import Job

WAITING = "等待生成"
PREPARING = "准备中…"
STOPPED = "已停止"


class DraftGenerationMixin:
    session: Session
    editors: dict[str, SectionEditor]
    generation: Generation
    job_bar: JobBar
    sections_scroll: QtWidgets.QScrollArea
    generate_action: QtGui.QAction
    stop_action: QtGui.QAction
    _dirty: bool

    # Provided by DraftPage.
    def current_document(self, *, for_autosave: bool = False) -> DraftDocument:
        raise NotImplementedError

    def mark_dirty(self) -> None:
        raise NotImplementedError

    def autosave_now(self) -> None:
        raise NotImplementedError

    def _set_dirty(self, dirty: bool) -> None:
        raise NotImplementedError

    def _schedule_autosave(self) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ generation

    def generate_section(self, key: str) -> None:
        self._queue_sections([key])

    def _queue_sections(self, keys: list[str]) -> None:
        if self.generation.run(self.current_document(), keys):
            for key in keys[1:]:
                if key in self.editors:
                    self.editors[key].set_status(WAITING)

    def generate_all(self) -> None:
        """Draft every empty section of the award, in order; written ones are left alone."""
        draft = self.current_document()
        keys = draft.empty_sections()
        if not keys:
            self.session.info("所有章节都已有内容；要重写某一节，请点该节的“重新生成”。")
            return
        self._queue_sections(keys)

    def stop_generation(self) -> None:
        self.generation.stop()

    @property
    def generating(self) -> bool:
        return self.generation.running

    def _generation_started(self) -> None:
        self.stop_action.setEnabled(True)
        self.generate_action.setEnabled(False)
        for e in self.editors.values():
            e.set_generate_enabled(False)

    def _generation_stopped(self) -> None:
        self.stop_action.setEnabled(False)
        self.generate_action.setEnabled(True)
        for e in self.editors.values():
            if e.streaming:
                e.end_stream(status=STOPPED)
                e.set_stopped(bool(e.text().strip()))
            elif e.status_label.text() in (WAITING, PREPARING):
                e.set_status("")  # its turn never came
            e.set_generate_enabled(True)

    def _section_started(self, job: Job, key: str, n: int, of: int) -> None:
        """The progress bar counts the run's sections; the section says it is being prepared
        (loading the model, finding examples) until its first words stream in."""
        editor = self.editors.get(key)
        title = editor.section_title if editor is not None else key
        self.job_bar.attach(job, f"正在生成「{title}」", step=(n, of))
        if editor is not None:
            editor.set_status(PREPARING)

    def _streamed(self, key: str, text: str) -> None:
        editor = self.editors.get(key)
        if editor is None:
            return
        if not editor.streaming:
            editor.begin_stream()
            self.sections_scroll.ensureWidgetVisible(editor, 0, 40)
        editor.append_stream(text)
        # Streamed text is autosaved as it comes (at the schedule's pace, not per token).
        if not self._dirty:
            self._set_dirty(True)
        self._schedule_autosave()

    def _restarted(self, key: str, why: str) -> None:
        editor = self.editors.get(key)
        if editor is not None and editor.streaming:
            editor.restart_stream(f"重写中：{why}")

    def _section_done(self, key: str, text: str | None, status: str) -> None:
        editor = self.editors.get(key)
        if editor is None:
            return
        if editor.streaming:
            editor.end_stream(text, status=status)
            if text is None and status == STOPPED and editor.text().strip():
                editor.set_stopped(True)  # what streamed is kept: it may stop mid-sentence
        elif text is not None:  # finished without streaming (a placeholder): one undoable edit
            editor.set_stopped(False)
            editor.set_text(text, undoable=True)
            editor.set_status(status)
        else:  # stopped or failed before the first token: the section keeps its text
            editor.set_status(status)
            return
        self.mark_dirty()
        self.autosave_now()  # a finished section is worth a copy at once
