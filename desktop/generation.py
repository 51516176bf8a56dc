"""Drafting sections in a worker, one at a time, with the model loaded (once) in a worker too.

The controller queues the sections the user asked for, runs each as a :class:`~desktop.workers.Job`
that calls ``analyzer.drafting.draft_section`` with ``on_token=job.post`` and the job's cancel token,
and re-emits the streamed text tagged with the section key. 停止 cancels the running job (the core
checks the token at every token) and drops the queue.
"""

from __future__ import annotations

import logging
import random
import threading
from typing import TYPE_CHECKING, Any

from analyzer.progress import Progress
from desktop.qt import QtCore, Signal

if TYPE_CHECKING:
    from analyzer.documents.document import DraftDocument
    from desktop.config import AppSettings
    from desktop.session import Session
    from desktop.workers import Job

log = logging.getLogger(__name__)

_load_lock = threading.Lock()
# Posted by a job when a section is drafted again (followed by why and a line break): the text
# streamed before it is dropped.
RESTART = "\f"


def generator_spec(session: Session) -> str | None:
    """What the settings name as the drafting model, in ``analyzer.llm`` terms (None: bundled)."""
    s = session.settings
    if s.generator == "server":
        return s.server_url
    return None if s.generator == "bundled" else (s.generator_path or None)


def text_destination(settings: AppSettings) -> str:
    """Where a draft's brief and text go when the model is on a server ("" when it is local)."""
    if settings.generator != "server" or not settings.server_url:
        return ""
    from analyzer.errors import ModelError
    from analyzer.llm.openai_http import normalize_url

    try:
        url = normalize_url(settings.server_url)
    except ModelError:
        url = settings.server_url
    return f"草稿内容将发送到 {url}（推理服务器）"


def check_server(settings: AppSettings, new_key: str, job: Job) -> str:
    """Worker: keep a newly typed API key in the system keyring, then ask the server for its
    models with a short timeout; the model's name, or the error that says what is wrong."""
    from analyzer.llm.openai_http import store_key
    from analyzer.llm.server import check_server as ask

    options = settings.server_options()
    if new_key and options.keyring_entry:
        store_key(options.keyring_entry, new_key)
    job.report(Progress(0, 0, f"正在连接 {settings.server_url}"))
    return ask(settings.server_url, options)


def load_generator(session: Session, job: Job) -> Any:
    """The session's generator: injected (tests), already loaded, or loaded now.

    A real model runs in its own process (:class:`analyzer.llm.host.GeneratorProcess`): torch's
    import and the tokenizer's construction hold the GIL for long stretches, which would freeze
    the window if they ran in this process, in any thread.
    """
    gen = session.models.get("generator")
    if gen is not None:
        return gen
    with _load_lock:
        gen = session.models.get("generator")
        if gen is None:
            from analyzer.llm import LoadOptions
            from analyzer.llm.host import GeneratorProcess

            s = session.settings
            job.report(Progress(0, 0, "正在加载生成模型…"))
            options = LoadOptions(
                device=s.device,
                threads=s.threads or None,
                engine=s.engine,
                server=s.server_options(),
            )
            gen = GeneratorProcess(
                generator_spec(session),
                options=options,
                on_progress=job.report,
                cancel=job.token,
            )
            session.models["generator"] = gen
    return gen


class Generation(QtCore.QObject):
    """One drafting run at a time: a queue of section keys, one job per section.

    Every run gets an id, and a job's signals reach the page only while its run is the current
    one: :meth:`abandon` (another document opened, the award switched) makes the running job's
    late text go nowhere, and a run asked for meanwhile starts as soon as that job has ended.
    """

    started = Signal()
    stopped = Signal()
    streamed = Signal(str, str)  # section key, text
    restarted = Signal(str, str)  # section key, why: the section is being drafted again
    section_done = Signal(
        str, object, str
    )  # key, final text (None: keep the streamed text), status
    job_started = Signal(object, str)  # Job, title for the progress bar
    section_started = Signal(object, str, int, int)  # Job, section key, n-th of the run, of

    def __init__(self, session: Session, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._queue: list[str] = []
        self._draft: DraftDocument | None = None
        self._job: Job | None = None
        self._run = 0  # id of the current run; a job of an older run is stale
        self._job_run = 0  # the run the running job belongs to
        self._pending: tuple[DraftDocument, list[str]] | None = None  # waits for a stale job to end
        self._total = 0  # sections in the current run

    @property
    def running(self) -> bool:
        """The current run drafts (or waits to): a stale job winding down does not count."""
        return self._pending is not None or (self._job is not None and self._job_run == self._run)

    @property
    def busy(self) -> bool:
        """A job of this controller uses the model (the current run's or a stale one)."""
        return self._job is not None or self._pending is not None

    def run(self, draft: DraftDocument, keys: list[str]) -> bool:
        if self.running:
            self.session.warn("正在生成中；请先停止或等待完成。")
            return False
        self._draft = draft
        self._queue = list(keys)
        self._total = len(keys)
        self.started.emit()
        if self._job is not None:  # a stale job still ends its token: start right after it
            self._pending = (draft, list(keys))
            return True
        self._next()
        return True

    def stop(self) -> None:
        """Stop the current run; what the running section streamed so far is kept."""
        self._queue.clear()
        if self._pending is not None:
            self._pending = None
            self.stopped.emit()
        if self._job is not None:
            self._job.cancel()

    def abandon(self) -> None:
        """Stop, and let nothing of this run reach the page any more (its document is gone)."""
        was_running = self.running
        self.stop()
        self._run += 1
        self._draft = None
        if was_running and self._pending is None:
            self.stopped.emit()

    def _next(self) -> None:
        if not self._queue or self._draft is None:
            self._job = None
            self.stopped.emit()
            return
        key = self._queue.pop(0)
        draft = self._draft
        section = draft.section(key)
        title = section.title if section else key
        session = self.session
        # 重新生成 a section that has text samples a new one; a first draft is reproducible
        seed = random.randrange(1, 2**31) if section is not None and section.text.strip() else None

        def work(job: Job) -> Any:
            from analyzer.drafting import DraftOptions, draft_section, exemplar_source
            from analyzer.drafting.exemplars import typical_lengths

            brief = draft.to_brief()  # a malformed brief fails before the model loads
            gen = load_generator(session, job)
            job.report(Progress(0, 0, f"正在生成：{title}"))

            def retry(_key: str, attempt: int, why: str) -> None:
                job.post(RESTART + why.replace("\n", " ") + "\n")
                job.report(Progress(0, 0, f"正在重写「{title}」第 {attempt} 稿：{why}"))

            library = _library_or_none(session)
            options = DraftOptions(
                award=draft.award,
                exemplars=exemplar_source(draft, library),
                seed=seed,
                typical_chars=typical_lengths(library, draft.award),
                said={s.key: s.text for s in draft.sections},
            )
            return draft_section(
                brief,
                gen,
                key,
                options,
                on_token=lambda _key, piece: job.post(piece),
                on_retry=retry,
                cancel=job.token,
            )

        job = self.session.runner.start(f"生成 {title}", work)
        self.session.track_model_job(job)
        self._job = job
        self._job_run = run = self._run
        job.signals.streamed.connect(lambda text, key=key: self._streamed(run, key, text))
        job.signals.finished.connect(lambda result, key=key: self._finished(run, key, result))
        job.signals.cancelled.connect(lambda key=key: self._cancelled(run, key))
        job.signals.error.connect(lambda message, key=key: self._failed(run, key, message))
        self.job_started.emit(job, f"正在生成：{title}")
        done = self._total - len(self._queue)
        self.section_started.emit(job, key, done, max(self._total, done))

    def _streamed(self, run: int, key: str, text: str) -> None:
        if run != self._run:
            return
        if RESTART in text:  # a try was dropped: what streams next replaces it
            rest = text.rpartition(RESTART)[2]
            why, newline, text = rest.partition("\n")
            if not newline:
                why, text = rest, ""
            self.restarted.emit(key, why)
        if text:
            self.streamed.emit(key, text)

    def _job_over(self, run: int) -> bool:
        """Bookkeeping when a job ends; True if it belonged to the current run."""
        self._job = None
        if run == self._run:
            return True
        if self._pending is not None:  # a run asked for while the stale job wound down
            draft, keys = self._pending
            self._pending = None
            self._draft, self._queue, self._total = draft, keys, len(keys)
            self._next()
        return False

    def _finished(self, run: int, key: str, result: Any) -> None:
        if not self._job_over(run):
            return
        text = getattr(result, "text", result if isinstance(result, str) else None)
        if text is not None and self._draft is not None and self._draft.section(key):
            self._draft = self._draft.with_section(key, text)  # the next sections build on it
        marks = len(getattr(result, "flags", ()) or ())
        tries = int(getattr(result, "tries", 1) or 1)
        if getattr(result, "status", "") == "placeholder":
            status = "简报中没有这一节的信息"
        elif getattr(result, "composed", False):
            status = f"模型 {tries} 稿未通过检查，已按简报组织成文"
        elif marks:
            status = f"完成，{marks} 处待核实"
        else:
            status = "完成" if tries == 1 else f"完成（第 {tries} 稿）"
        self.section_done.emit(key, text, status)
        self._next()

    def _cancelled(self, run: int, key: str) -> None:
        if not self._job_over(run):
            return
        self.section_done.emit(key, None, "已停止")
        self._queue.clear()
        self.stopped.emit()

    def _failed(self, run: int, key: str, message: str) -> None:
        if not self._job_over(run):
            return
        self.session.error(f"生成失败：{message}")
        self.section_done.emit(key, None, "出错")
        self._queue.clear()
        self.stopped.emit()


def _library_or_none(session: Session) -> Any:
    try:
        return session.library
    except Exception:
        return None
