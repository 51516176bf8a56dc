"""相似案例: search past cases by a description or the current draft; copy passages as exemplars.

A search runs in a worker: it loads the embedder (first time), files cases the index does not
know yet for keyword search (seconds at most; embedding them is the background indexing's job,
``desktop.indexing``), then ranks the cases. It never waits for embeddings: cases without
vectors yet are found by keywords, and the page says so. Nothing of the search stack (numpy,
faiss, the embedder) is imported before the first search.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from analyzer.progress import Progress
from desktop.indexing import query_embedder
from desktop.models import (
    RECORD_ROLE,
    RecordTableModel,
    award_label,
    award_labels,
    hit_columns,
    match_level,
    section_label,
    sorting_proxy,
)
from desktop.qt import Qt, QtCore, QtGui, QtWidgets, Signal
from desktop.widgets.bars import BarDelegate
from desktop.widgets.caseview import HIT_MARK, highlighted
from desktop.widgets.jobbar import JobBar
from desktop.workers import gc_paused

if TYPE_CHECKING:
    from analyzer.search.query import SearchHit
    from desktop.session import Session
    from desktop.workers import Job


@dataclass(frozen=True)
class SearchRequest:
    query: str = ""
    like_case: int | None = None  # "more like this case"
    k: int = 10
    award: str | None = None
    industry: str | None = None
    category: str | None = None
    year: int | None = None


@dataclass(frozen=True)
class SearchOutcome:
    hits: list[SearchHit]
    note: str  # what the search covered when not every case by every means ("" then)


def run_search(session: Session, request: SearchRequest, job: Job) -> SearchOutcome:
    """In a worker: embedder, new cases filed for keyword search, then the search. What the
    index repaired on the way (a damaged file rebuilt …) is shown in the message bar."""
    library = session.library
    # The first search loads numpy, faiss, jieba's dictionary and the embedder: big one-time
    # loads that must not trigger long garbage collections while the GUI waits for the GIL.
    with gc_paused():
        from analyzer.search.bm25 import ensure_jieba
        from analyzer.search.query import more_like, prepare_index, search

        ensure_jieba()
    embedder = query_embedder(session, job)
    job.token.raise_if_cancelled()
    # the embedder is the one chosen in 设置; the background job re-embeds with it when the
    # index was built with another (keywords meanwhile)
    prep = prepare_index(
        library, embedder, switch_model=True, on_progress=job.report, cancel=job.token
    )
    if prep.messages:
        session.warn("\n".join(dict.fromkeys(prep.messages)))
    job.token.raise_if_cancelled()
    filters: dict[str, Any] = {
        "k": request.k,
        "award": request.award,
        "industry": request.industry,
        "category": request.category,
        "year": request.year,
        "embedder": prep.embedder,
        "auto_update": False,
    }
    if request.like_case is not None:
        hits = more_like(library, request.like_case, **filters)
    else:
        hits = search(library, request.query, **filters)
    return SearchOutcome(hits, prep.note)


class SimilarPage(QtWidgets.QWidget):
    title = "相似案例"
    open_case_requested = Signal(int)
    exemplar_requested = Signal(object)  # analyzer.documents.document.Exemplar
    results_ready = Signal(list)

    def __init__(self, session: Session, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.draft_text_provider: Callable[[], str] | None = None
        self._job: Job | None = None
        self._pending: SearchRequest | None = None  # asked for while a search was running
        self._section_text: tuple[int, str, str] | None = None  # case id, section key, text

        self.query = QtWidgets.QPlainTextEdit()
        self.query.setPlaceholderText(
            "描述你的项目，如“环保公益主题的开发者大赛”，或点击“用当前草稿”。Ctrl+Enter 搜索"
        )
        self.query.setFixedHeight(self.query.fontMetrics().lineSpacing() * 3 + 14)
        self.query.setTabChangesFocus(True)
        self.search_button = QtWidgets.QPushButton("搜索")
        self.search_button.setToolTip("搜索 (Ctrl+Enter)")
        self.search_button.clicked.connect(self.start_search)
        self.draft_button = QtWidgets.QPushButton("用当前草稿")
        self.draft_button.setToolTip("以撰写页中的草稿全文作为查询")
        self.draft_button.clicked.connect(self.use_draft)
        for seq in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QtGui.QShortcut(QtGui.QKeySequence(seq), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(self.start_search)
        buttons = QtWidgets.QVBoxLayout()
        buttons.addWidget(self.search_button)
        buttons.addWidget(self.draft_button)
        buttons.addStretch(1)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.query, 1)
        top.addLayout(buttons)

        self.award = QtWidgets.QComboBox()
        self.award.addItem("全部奖项", None)
        for key, name in award_labels().items():
            self.award.addItem(name, key)
        self.industry = QtWidgets.QLineEdit()
        self.industry.setPlaceholderText("行业")
        self.category = QtWidgets.QLineEdit()
        self.category.setPlaceholderText("类别")
        self.year = QtWidgets.QSpinBox()
        self.year.setRange(1999, 2100)
        self.year.setSpecialValueText("全部年份")
        self.year.setMinimum(1999)
        self.year.setValue(1999)
        self.k = QtWidgets.QSpinBox()
        self.k.setRange(1, 100)
        self.k.setValue(10)
        self.k.setPrefix("前 ")
        self.k.setSuffix(" 个")
        filters = QtWidgets.QHBoxLayout()
        for w in (self.award, self.industry, self.category, self.year, self.k):
            filters.addWidget(w)
        filters.addStretch(1)
        # A filter changed after a search searches again (typing waits for a pause).
        self._shown: SearchRequest | None = None  # the request whose results are shown
        self._refilter = QtCore.QTimer(self)
        self._refilter.setSingleShot(True)
        self._refilter.setInterval(500)
        self._refilter.timeout.connect(self._filters_changed)
        self.award.currentIndexChanged.connect(lambda _: self._refilter.start(0))
        for spin in (self.year, self.k):
            spin.valueChanged.connect(lambda _: self._refilter.start())
        for edit in (self.industry, self.category):
            edit.textChanged.connect(lambda _: self._refilter.start())
            edit.returnPressed.connect(lambda: self._refilter.start(0))

        self.model: RecordTableModel[SearchHit] = RecordTableModel(hit_columns(), self)
        self.proxy = sorting_proxy(self.model, self)
        self.table = QtWidgets.QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setItemDelegateForColumn(0, BarDelegate(self.table))
        self.table.horizontalHeader().setSectionResizeMode(
            1, QtWidgets.QHeaderView.ResizeMode.Stretch
        )
        self.table.selectionModel().currentRowChanged.connect(self._hit_changed)
        self.table.doubleClicked.connect(lambda _: self.open_current_case())

        self.detail = QtWidgets.QTextBrowser()
        self.detail.setPlaceholderText("选择一个结果，查看匹配段落；选中其中一段文字可复制为范例。")
        self.open_button = QtWidgets.QPushButton("打开案例")
        self.open_button.clicked.connect(self.open_current_case)
        self.exemplar_button = QtWidgets.QPushButton("复制到草稿作范例")
        self.exemplar_button.setToolTip(
            "把选中的文字（未选中时为匹配段落）加入撰写页的范例 (Ctrl+Shift+C)"
        )
        self.exemplar_button.setShortcut(QtGui.QKeySequence("Ctrl+Shift+C"))
        self.exemplar_button.clicked.connect(self.copy_exemplar)
        self.more_button = QtWidgets.QPushButton("更多类似案例")
        self.more_button.clicked.connect(self.more_like_current)
        for b in (self.open_button, self.exemplar_button, self.more_button):
            b.setEnabled(False)
        detail_buttons = QtWidgets.QHBoxLayout()
        detail_buttons.addWidget(self.open_button)
        detail_buttons.addWidget(self.exemplar_button)
        detail_buttons.addWidget(self.more_button)
        detail_buttons.addStretch(1)
        detail = QtWidgets.QWidget()
        detail_layout = QtWidgets.QVBoxLayout(detail)
        detail_layout.setContentsMargins(0, 0, 0, 0)
        detail_layout.addWidget(self.detail, 1)
        detail_layout.addLayout(detail_buttons)

        self.splitter = QtWidgets.QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("similar")
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(detail)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self.status = QtWidgets.QLabel("输入描述后搜索；导入后即可搜索，向量索引在后台建立。")
        self.status.setStyleSheet("color:#555")
        self.status.setWordWrap(True)
        self.job_bar = JobBar()

        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(filters)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.job_bar)
        layout.addWidget(self.status)

    def focus_widget(self) -> QtWidgets.QWidget:
        """Where the keyboard focus goes when the page is shown."""
        return self.query

    # ------------------------------------------------------------------ searching

    def request(self, *, like_case: int | None = None) -> SearchRequest:
        year = self.year.value()
        return SearchRequest(
            query=self.query.toPlainText().strip(),
            like_case=like_case,
            k=self.k.value(),
            award=self.award.currentData(),
            industry=self.industry.text().strip() or None,
            category=self.category.text().strip() or None,
            year=None if year == self.year.minimum() else year,
        )

    def start_search(self, request: SearchRequest | None = None) -> Job | None:
        request = request if isinstance(request, SearchRequest) else self.request()
        if request.like_case is None and not request.query:
            self.session.warn("请先输入要搜索的描述。")
            self.query.setFocus()
            return None
        if self._job is not None:  # the newest request wins: it starts when the old job ends
            self._job.cancel()
            self._pending = request
            self.status.setText("正在停止上一次搜索，随后开始新的搜索…")
            return None
        try:
            empty = len(self.session.library) == 0
        except Exception as exc:
            from desktop.workers import user_message

            self.session.error(user_message(exc))
            return None
        if empty:
            self.session.warn("案例库是空的：请先在“案例库”页导入过往案例，再搜索相似案例。")
            return None
        session = self.session
        job = session.runner.start("搜索", lambda job: run_search(session, request, job))
        self._job = job
        self.job_bar.attach(job, "正在搜索…")
        job.signals.progress.connect(self._progress)
        job.signals.finished.connect(lambda outcome: self._outcome(outcome, request))
        job.signals.error.connect(self._failed)
        job.signals.cancelled.connect(self._cancelled)
        job.signals.done.connect(self._done)
        return job

    def _progress(self, p: Progress) -> None:
        if p.total:
            self.status.setText(f"正在建立关键词索引：{p.done}/{p.total} 个案例")
        elif p.message:
            self.status.setText(p.message)

    def _failed(self, message: str) -> None:
        self.session.error(f"搜索失败：{message}")
        self.status.setText("搜索失败：见上方的错误信息。")  # not "正在加载…" forever

    def _filters_changed(self) -> None:
        """Search again with the new filters, for the query whose results are shown."""
        if self._shown is None:
            return
        like = self._shown.like_case
        request = self.request(like_case=like)
        if like is None and not request.query:
            return
        if request != self._shown:
            self.start_search(request)

    def _outcome(self, outcome: SearchOutcome, request: SearchRequest) -> None:
        self.show_results(outcome.hits, request)
        words = sum(1 for h in outcome.hits if h.keywords_only)
        if outcome.note:
            mark = f"其中 {words} 个结果来自关键词检索。" if words else ""
            self.status.setText(
                f"{self.status.text()}部分结果来自关键词检索：{outcome.note}。{mark}"
                "索引在后台建立，完成后再搜索可得完整结果。"
            )
            self.status.setToolTip(outcome.note)

    def _cancelled(self) -> None:
        if self._pending is None:  # else the next search is about to start: say that instead
            self.status.setText("搜索已取消。")

    def _done(self) -> None:
        self._job = None
        pending, self._pending = self._pending, None
        if pending is not None:
            self.start_search(pending)

    @property
    def searching(self) -> bool:
        return self._job is not None or self._pending is not None

    def use_draft(self) -> Job | None:
        text = self.draft_text_provider() if self.draft_text_provider else ""
        if len("".join(text.split())) < 10:  # headings alone would match every case
            self.session.warn(
                "当前草稿还是空的：先在“撰写”页填写简报或写几句正文，再用它搜索相似案例。"
            )
            return None
        self.query.setPlainText(text)
        return self.start_search()

    def more_like_current(self) -> Job | None:
        hit = self.current_hit()
        if hit is None:
            return None
        return self.start_search(self.request(like_case=hit.case_id))

    def show_results(self, hits: list[SearchHit], request: SearchRequest | None = None) -> None:
        self._shown = request
        self.model.set_records(hits)
        # The ranking order is 匹配度 from high to low: the header says so.
        self.table.horizontalHeader().setSortIndicator(0, Qt.SortOrder.DescendingOrder)
        self.table.resizeColumnsToContents()
        for column in (2, 3):  # award and section: elided past a width, the case title stretches
            self.table.setColumnWidth(column, min(self.table.columnWidth(column), 130))
        self.table.horizontalHeader().setSectionResizeMode(
            1, QtWidgets.QHeaderView.ResizeMode.Stretch
        )
        self.status.setText(
            f"找到 {len(hits)} 个相似案例。" if hits else "没有找到相似案例；试试放宽筛选条件。"
        )
        self.results_ready.emit(hits)
        if hits:
            self.table.selectRow(0)
        else:
            self.detail.clear()

    # ------------------------------------------------------------------ a result

    def current_hit(self) -> SearchHit | None:
        index = self.table.currentIndex()
        return index.data(RECORD_ROLE) if index.isValid() else None

    def _hit_changed(self, current: Any, _previous: Any) -> None:
        hit = current.data(RECORD_ROLE) if current.isValid() else None
        for b in (self.open_button, self.exemplar_button, self.more_button):
            b.setEnabled(hit is not None)
        if hit is None:
            self.detail.clear()
            return
        self.detail.setHtml(self._hit_html(hit))

    def _hit_html(self, hit: SearchHit) -> str:
        level = match_level(hit)
        parts = [
            f"<h3>{html.escape(hit.title)}</h3>",
            f"<p style='color:#555'>{html.escape(award_label(hit.award))}"
            f" · 匹配章节：{html.escape(section_label(hit.section, hit.section_title))}</p>",
            f"<p>匹配度 <b>{level.label}</b>：{html.escape(level.reason)}</p>",
            f"<p>{highlighted(hit.snippet, hit.highlights, HIT_MARK)}</p>",
        ]
        self._section_text = None
        try:
            case = self.session.library.get_case(hit.case_id)
        except Exception:
            return "".join(parts)
        section = next((s for s in case.sections if s.key == hit.section), None)
        if section is not None:
            body = case.text[section.start : section.end].strip()
            self._section_text = (hit.case_id, hit.section, body)
            parts.append(
                f"<h4>{html.escape(section_label(section.key, section.title))}（全文）</h4>"
            )
            at = body.find(hit.snippet.strip("…"))
            spans = [(at, at + len(hit.snippet.strip("…")))] if at >= 0 else []
            parts.append(f"<p>{highlighted(body, spans, HIT_MARK)}</p>")
        return "".join(parts)

    def open_current_case(self) -> None:
        hit = self.current_hit()
        if hit is not None:
            self.open_case_requested.emit(hit.case_id)

    def copy_exemplar(self) -> None:
        from analyzer.library.exemplar import Exemplar

        hit = self.current_hit()
        if hit is None:
            return
        selected = self.detail.textCursor().selectedText().replace("\u2029", "\n").strip()
        self.exemplar_requested.emit(Exemplar.from_hit(hit, selected or None))
