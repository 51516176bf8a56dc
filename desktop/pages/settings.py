"""设置: library folder, embedding model, generation model (bundled, a folder, a GGUF file or a
team's inference server), engine, device, threads; 修复案例库.

A server is asked for its models (off the GUI thread, with a short timeout) before its settings
are saved: a wrong address, key or model name is said at once, not at the first draft."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analyzer.paths import ENV_HOME
from desktop.config import DEVICES, EMBEDDERS, ENGINES, GENERATORS, KEY_SOURCES, AppSettings
from desktop.qt import Qt, QtGui, QtWidgets
from desktop.widgets.jobbar import JobBar
from desktop.widgets.pathedit import FieldNote, PathEdit
from desktop.widgets.repairbox import RepairBox

if TYPE_CHECKING:
    from desktop.session import Session
    from desktop.workers import Job

__all__ = ["PathEdit", "SettingsPage", "verify_embedder"]
SUBFOLDER = "案例库"


def verify_embedder(folder: str, job: Job) -> Any:
    """In a worker: load the embedding model in ``folder`` and embed a sentence with it, so a
    folder is accepted only once it is known to work (the loaded model is then used as is)."""
    import numpy as np

    from analyzer.errors import ModelError
    from analyzer.search.embed import get_embedder
    from desktop.workers import gc_paused

    with gc_paused():
        embedder = get_embedder(folder)
    job.token.raise_if_cancelled()
    vectors = embedder.embed_queries(["营销案例检索测试"])
    if vectors.shape != (1, embedder.dim) or not np.isfinite(vectors).all():
        raise ModelError(f"{folder}：模型没有给出可用的向量")
    return embedder


def _combo(choices: dict[str, str]) -> QtWidgets.QComboBox:
    combo = QtWidgets.QComboBox()
    for key, label in choices.items():
        combo.addItem(label, key)
    return combo


class SettingsPage(QtWidgets.QWidget):
    title = "设置"

    def __init__(self, session: Session, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session

        store = session.store
        self.library_dir = PathEdit(folder=True, store=store, kind="library")
        self.library_dir.changed.connect(lambda _: self.check_library())
        self.library_note = QtWidgets.QLabel()
        self.library_note.setStyleSheet("color:#666")
        self.library_note.setWordWrap(True)
        # validated as it changes: why a folder cannot hold a library is said under it
        self.library_check = FieldNote()
        self.subfolder_button = QtWidgets.QPushButton(f"在其中新建子文件夹“{SUBFOLDER}”")
        self.subfolder_button.setToolTip("案例库放在所选文件夹中的一个新的子文件夹里")
        self.subfolder_button.clicked.connect(self.use_subfolder)
        self.subfolder_button.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Fixed, QtWidgets.QSizePolicy.Policy.Fixed
        )
        self.subfolder_button.hide()
        self.embedder = _combo(EMBEDDERS)
        self.embedder_path = PathEdit(folder=True, store=store, kind="model")
        self.embedder_path.changed.connect(lambda _: self.check_embedder())
        self.embedder_check = FieldNote()
        self.embedder_job_bar = JobBar()
        self._embed_job: Job | None = None
        self._embed_job_path = ""
        # folder → ("ok" | "error", note, the loaded embedder): each folder is loaded once
        self._embed_results: dict[str, tuple[str, str, Any]] = {}
        self.generator = _combo(GENERATORS)
        self.generator_path = PathEdit(
            folder=True, file_filter="GGUF 模型 (*.gguf);;所有文件 (*)", store=store, kind="model"
        )
        self.engine = _combo(ENGINES)
        self.engine.setToolTip(
            "本地模型用哪个推理引擎；“自动”时 GGUF 文件在 CPU 上用 llama.cpp（更快）"
        )
        self.engine_note = QtWidgets.QLabel()
        self.engine_note.setWordWrap(True)
        self.engine_note.setStyleSheet("color:#8a5300")
        self.server_url = QtWidgets.QLineEdit()
        self.server_url.setPlaceholderText(
            "http://主机:8000/v1（vLLM、llama.cpp、Ollama、LM Studio…）"
        )
        self.server_model = QtWidgets.QLineEdit()
        self.server_model.setPlaceholderText("留空：服务器只提供一个模型时自动使用它")
        self.server_key = _combo(KEY_SOURCES)
        self.server_key_name = QtWidgets.QLineEdit()
        self.server_key_value = QtWidgets.QLineEdit()
        self.server_key_value.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
        self.server_key_value.setPlaceholderText(
            "新的 API 密钥（存入系统钥匙串，不写入设置文件）；留空则沿用"
        )
        key_row = QtWidgets.QWidget()
        key_layout = QtWidgets.QHBoxLayout(key_row)
        key_layout.setContentsMargins(0, 0, 0, 0)
        key_layout.addWidget(self.server_key)
        key_layout.addWidget(self.server_key_name, 1)
        self.server_key_row = key_row
        self.server_note = QtWidgets.QLabel(
            "选择服务器后，简报和草稿内容会发送到这台服务器生成；本机不运行模型。"
            "使用公司自签名证书的 https 服务器：把 CA 证书文件设为 SSL_CERT_FILE 环境变量。"
        )
        self.server_note.setWordWrap(True)
        self.server_note.setStyleSheet("color:#666")
        self.server_key.currentIndexChanged.connect(self._update_enabled)
        self._server_check: Job | None = None
        self.device = _combo(DEVICES)
        self.threads = QtWidgets.QSpinBox()
        self.threads.setRange(0, max(64, os.cpu_count() or 1))
        self.threads.setSpecialValueText("自动")
        self.threads.setToolTip(
            "生成模型使用的 CPU 线程数；“自动”按本机核心数决定，"
            "llama.cpp 还会在其他程序占用核心时减少线程（线程在等待时空转，被占用的核心会拖慢每个词）"
        )
        self.embedder.currentIndexChanged.connect(self._update_enabled)
        self.embedder.currentIndexChanged.connect(lambda _: self.check_embedder())
        self.generator.currentIndexChanged.connect(self._update_enabled)

        library_box = QtWidgets.QGroupBox("案例库")
        form = QtWidgets.QFormLayout(library_box)
        form.addRow("案例库文件夹：", self.library_dir)
        form.addRow("", self.library_check)
        form.addRow("", self.subfolder_button)
        form.addRow("", self.library_note)
        self.library_busy_note = QtWidgets.QLabel(
            "后台任务（导入、搜索、检查或生成）进行中：完成或取消后才能更换案例库文件夹。"
        )
        self.library_busy_note.setStyleSheet("color:#8a5300")
        self.library_busy_note.setWordWrap(True)
        self.library_busy_note.hide()
        form.addRow("", self.library_busy_note)

        embed_box = QtWidgets.QGroupBox("相似案例检索")
        form = QtWidgets.QFormLayout(embed_box)
        form.addRow("嵌入模型：", self.embedder)
        form.addRow("模型文件夹：", self.embedder_path)
        form.addRow("", self.embedder_check)
        form.addRow("", self.embedder_job_bar)
        hint = QtWidgets.QLabel(
            "本地文件夹可以是任意 sentence-transformers 模型（如 bge-small-zh-v1.5）。更换模型后需要重建索引。"
        )
        hint.setWordWrap(True)
        hint.setStyleSheet("color:#666")
        form.addRow("", hint)

        gen_box = QtWidgets.QGroupBox("撰写")
        self.gen_box = gen_box
        form = QtWidgets.QFormLayout(gen_box)
        self.gen_form = form
        form.addRow("生成模型：", self.generator)
        form.addRow("模型位置：", self.generator_path)
        form.addRow("服务器地址：", self.server_url)
        form.addRow("模型名称：", self.server_model)
        form.addRow("API 密钥：", self.server_key_row)
        form.addRow("", self.server_key_value)
        form.addRow("", self.server_note)
        form.addRow("推理引擎：", self.engine)
        form.addRow("", self.engine_note)
        form.addRow("设备：", self.device)
        form.addRow("线程数：", self.threads)
        hint = QtWidgets.QLabel(
            "内置模型来自 PyPI，首次使用时组装到本机缓存，无需联网下载。"
            "更好的效果可选用 Qwen2.5-1.5B/3B/7B-Instruct 等本地模型（文件夹或 GGUF 文件），"
            "或团队共用的推理服务器（vLLM、llama.cpp、Ollama、LM Studio）。"
        )
        hint.setWordWrap(True)
        hint.setStyleSheet("color:#666")
        self.local_hint = hint
        form.addRow("", hint)
        self.gen_busy_note = QtWidgets.QLabel(
            "正在加载或使用生成模型：停止生成或等它结束后，才能更改生成模型、设备和线程数。"
        )
        self.gen_busy_note.setStyleSheet("color:#8a5300")
        self.gen_busy_note.setWordWrap(True)
        self.gen_busy_note.hide()

        model_box = QtWidgets.QGroupBox("模型状态")
        row = QtWidgets.QHBoxLayout(model_box)
        self.model_status = QtWidgets.QLabel()
        self.model_status.setWordWrap(True)
        self.load_button = QtWidgets.QPushButton("预先加载生成模型")
        self.load_button.setToolTip("在后台加载模型，撰写时即可直接生成")
        self.load_button.clicked.connect(self.preload_model)
        self.unload_button = QtWidgets.QPushButton("卸载模型")
        self.unload_button.setToolTip("释放模型占用的内存")
        self.unload_button.clicked.connect(self.unload_model)
        row.addWidget(self.model_status, 1)
        row.addWidget(self.load_button)
        row.addWidget(self.unload_button)
        self.job_bar = JobBar()
        self._load_job: Job | None = None
        self.repair_box = RepairBox(session)

        self.apply_button = QtWidgets.QPushButton("应用")
        self.apply_button.setDefault(True)
        self.apply_button.clicked.connect(self.apply)
        apply_shortcut = QtGui.QShortcut(QtGui.QKeySequence.StandardKey.Save, self)
        apply_shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        apply_shortcut.activated.connect(self.apply)
        self.revert_button = QtWidgets.QPushButton("还原")
        self.revert_button.clicked.connect(self.load)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.revert_button)
        buttons.addWidget(self.apply_button)

        inner = QtWidgets.QWidget()
        column = QtWidgets.QVBoxLayout(inner)
        for box in (library_box, embed_box, gen_box):
            column.addWidget(box)
        column.addWidget(self.gen_busy_note)
        column.addLayout(buttons)
        column.addWidget(model_box)
        column.addWidget(self.job_bar)
        column.addWidget(self.repair_box)
        column.addStretch(1)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setWidget(inner)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)
        session.runner.busy_changed.connect(lambda _busy: self._update_busy())
        session.model_busy_changed.connect(lambda _busy: self._update_busy())
        self.load()

    def load(self) -> None:
        s = self.session.settings
        overridden = self.session.library_override or os.environ.get(ENV_HOME)
        self.library_dir.setText(str(self.session.home) if overridden else s.library_dir)
        self.library_dir.setEnabled(not overridden)
        if overridden:
            self.library_note.setText(
                f"当前使用 {self.session.home}（由 --library 或 {ENV_HOME} 指定）。"
            )
        else:
            self.library_note.setText(f"留空则使用默认位置。当前：{self.session.home}")
        self.embedder.setCurrentIndex(max(0, self.embedder.findData(s.embedder)))
        self.embedder_path.setText(s.embedder_path)
        self.generator.setCurrentIndex(max(0, self.generator.findData(s.generator)))
        self.generator_path.setText(s.generator_path)
        self.device.setCurrentIndex(max(0, self.device.findData(s.device)))
        self.threads.setValue(s.threads)
        self.engine.setCurrentIndex(max(0, self.engine.findData(s.engine)))
        self.server_url.setText(s.server_url)
        self.server_model.setText(s.server_model)
        self.server_key.setCurrentIndex(max(0, self.server_key.findData(s.server_key)))
        self.server_key_name.setText(s.server_key_name)
        self.server_key_value.clear()
        self._update_enabled()
        self._update_busy()
        self._update_model_status()
        self.check_library()
        self.check_embedder()

    # ------------------------------------------------------------------ validation

    def _library_overridden(self) -> bool:
        return bool(self.session.library_override or os.environ.get(ENV_HOME))

    def check_library(self) -> bool:
        """Say under the field whether the folder typed or chosen can hold a library."""
        ok = self._show_library_check()
        self._update_apply()
        return ok

    def _show_library_check(self) -> bool:
        from analyzer.paths import check_library_folder

        text = self.library_dir.text()
        self.subfolder_button.hide()
        if self._library_overridden() or text == self.session.settings.library_dir:
            self.library_check.clear_note()
            return True
        if not text:
            self.library_check.show_note("note", "留空：应用后使用默认位置。")
            return True
        check = check_library_folder(text)
        if check.ok:
            self.library_check.show_note("ok", check.note)
            return True
        kept = self.session.settings.library_dir or "默认位置"
        self.library_check.show_note("error", f"{check.problem}。仍使用原来的案例库（{kept}）。")
        self.subfolder_button.setVisible(check.kind == "not_library")
        return False

    def use_subfolder(self) -> None:
        """Put the library in a new subfolder of the folder chosen (a numbered one if taken)."""
        base = Path(self.library_dir.text()).expanduser()
        target, n = base / SUBFOLDER, 2
        while target.exists() and any(target.iterdir()):
            target, n = base / f"{SUBFOLDER}{n}", n + 1
        self.library_dir.setText(str(target))
        self.check_library()

    def check_embedder(self) -> None:
        """A model folder is loaded in a worker before it is accepted; what it gave is said
        under the field, and 应用 waits for it."""
        path = self.embedder_path.text()
        s = self.session.settings
        if self.embedder.currentData() != "folder" or (
            s.embedder == "folder" and path == s.embedder_path
        ):
            self.embedder_check.clear_note()
        elif not path:
            self.embedder_check.show_note("error", "请选择嵌入模型所在的文件夹。")
        elif not Path(path).expanduser().is_dir():
            self.embedder_check.show_note("error", f"文件夹不存在：{path}。仍使用原来的嵌入模型。")
        elif path in self._embed_results:
            level, note, _ = self._embed_results[path]
            self.embedder_check.show_note(level, note)
        elif self._embed_job is None:
            self._start_embedder_check(path)
        else:  # the running check is for another folder: this one starts when it ends
            self._embed_job.cancel()
            self.embedder_check.show_note("busy", "正在加载模型以确认它可用…")
        self._update_apply()

    def _start_embedder_check(self, path: str) -> None:
        job = self.session.runner.start("验证嵌入模型", lambda job: verify_embedder(path, job))
        self._embed_job, self._embed_job_path = job, path
        self.embedder_check.show_note("busy", "正在加载模型以确认它可用…")
        self.embedder_job_bar.attach(job, "正在加载嵌入模型…")
        job.signals.finished.connect(lambda embedder: self._embedder_loaded(path, embedder))
        job.signals.error.connect(lambda message: self._embedder_failed(path, message))
        job.signals.done.connect(self._embedder_check_done)

    def _embedder_loaded(self, path: str, embedder: Any) -> None:
        from analyzer.search.embed import embedder_label

        note = f"可以使用：{embedder_label(embedder)}（向量维度 {embedder.dim}）。应用后重建索引。"
        self._embed_results[path] = ("ok", note, embedder)

    def _embedder_failed(self, path: str, message: str) -> None:
        note = f"无法使用这个文件夹：{message}。仍使用原来的嵌入模型。"
        self._embed_results[path] = ("error", note, None)

    def _embedder_check_done(self) -> None:
        self._embed_job = None
        self.check_embedder()  # shows the result, or checks the folder chosen meanwhile

    def _problems(self) -> list[str]:
        """What keeps the settings on the page from being applied (said under the fields)."""
        problems = []
        if self.library_check.is_error:
            problems.append(self.library_check.text())
        if self.embedder.currentData() == "folder":
            path = self.embedder_path.text()
            unchanged = self.session.settings.embedder_path == path
            if self.embedder_check.is_error:
                problems.append(self.embedder_check.text())
            elif self._embed_job is not None:
                problems.append("正在加载嵌入模型以确认它可用，请稍候再应用。")
            elif not unchanged and path not in self._embed_results:
                problems.append("嵌入模型还没有确认可用。")
        return problems

    def _update_apply(self) -> None:
        problems = self._problems()
        self.apply_button.setEnabled(not problems)
        self.apply_button.setToolTip("\n".join(problems) or "保存并使用这些设置 (Ctrl+S)")

    def _update_busy(self) -> None:
        """While work uses the library or the model, what it uses cannot be changed here."""
        overridden = self._library_overridden()
        # checking a model folder (this page's own job) does not lock the library folder
        busy = any(job is not self._embed_job for job in self.session.runner.jobs)
        self.library_dir.setEnabled(not overridden and not busy)
        self.library_busy_note.setVisible(busy and not overridden)
        model_busy = self.session.model_busy
        for w in self._generation_widgets():
            w.setEnabled(not model_busy)
        if not model_busy:
            self._update_enabled()
        self.gen_busy_note.setVisible(model_busy)
        self._update_model_status()

    def _generation_widgets(self) -> tuple[QtWidgets.QWidget, ...]:
        return (
            self.generator,
            self.generator_path,
            self.engine,
            self.server_url,
            self.server_model,
            self.server_key_row,
            self.server_key_value,
            self.device,
            self.threads,
        )

    # ------------------------------------------------------------------ model

    def _update_model_status(self) -> None:
        gen = self.session.models.get("generator")
        if gen is not None:
            label = getattr(gen, "label", "") or type(gen).__name__
            details = getattr(gen, "details", None)
            why = str(details().get("why", "")) if callable(details) else ""
            self.model_status.setText(f"生成模型已加载：{label}" + (f"\n{why}" if why else ""))
        elif self._load_job is not None:
            self.model_status.setText("正在加载生成模型…")
        else:
            self.model_status.setText(
                "生成模型未加载：第一次生成时自动加载（首次可能需要几十秒）。"
            )
        self.load_button.setEnabled(gen is None and self._load_job is None)
        self.unload_button.setEnabled(gen is not None and not self.session.model_busy)

    def preload_model(self) -> Job | None:
        if self._load_job is not None or self.session.models.get("generator") is not None:
            return None
        from desktop.generation import load_generator

        session = self.session
        job = session.runner.start("加载模型", lambda job: load_generator(session, job))
        session.track_model_job(job)
        self._load_job = job
        self.job_bar.attach(job, "正在加载生成模型…")
        job.signals.error.connect(lambda message: self.session.error(f"模型加载失败：{message}"))
        job.signals.finished.connect(lambda _gen: self.session.info("生成模型已加载。"))
        job.signals.done.connect(self._load_done)
        self._update_model_status()
        return job

    def _load_done(self) -> None:
        self._load_job = None
        self._update_model_status()

    def unload_model(self) -> None:
        if self.session.model_busy:
            self.session.warn("模型正在使用中；请等生成结束后再卸载。")
            return
        self.session.unload_generator(wait=False)
        self._update_model_status()
        self.session.info("生成模型已卸载。")

    def current(self) -> AppSettings:
        overridden = bool(self.session.library_override or os.environ.get(ENV_HOME))
        return AppSettings(
            library_dir=self.session.settings.library_dir
            if overridden
            else self.library_dir.text(),
            embedder=str(self.embedder.currentData()),
            embedder_path=self.embedder_path.text(),
            generator=str(self.generator.currentData()),
            generator_path=self.generator_path.text(),
            device=str(self.device.currentData()),
            threads=self.threads.value(),
            engine=str(self.engine.currentData()),
            server_url=self.server_url.text().strip(),
            server_model=self.server_model.text().strip(),
            server_key=str(self.server_key.currentData()),
            server_key_name=self.server_key_name.text().strip(),
        )

    def apply(self) -> bool:
        """Save the settings; True when saved now. A server that is new, or whose details
        changed, is asked for its models in a worker first (:attr:`server_check`), and the
        settings are saved when it answers."""
        if self._server_check is not None:
            self.session.warn("正在连接服务器，请稍候。")
            return False
        self.check_library()
        self.check_embedder()
        settings = self.current()
        problems = self._problems() or settings.validate()
        if problems:
            self.session.error("设置未保存：" + "；".join(dict.fromkeys(problems)))
            return False
        conflict = self.session.settings_conflict(settings)
        if conflict:
            self.session.error(f"设置未应用：{conflict}")
            return False
        new_key = self.server_key_value.text()
        if settings.generator == "server" and (
            new_key or _server_changed(self.session.settings, settings)
        ):
            self._check_server(settings, new_key)
            return False
        return self._save(settings)

    def _save(self, settings: AppSettings, note: str = "") -> bool:
        if not self.session.apply_settings(settings):
            return False  # refused while work uses the library or the model: said why
        checked = self._embed_results.get(settings.embedder_path)
        if settings.embedder == "folder" and checked and checked[2] is not None:
            self.session.models["embedder"] = checked[2]  # loaded already: searches use it
        self.load()
        self.session.info("设置已保存。" + note)
        return True

    @property
    def server_check(self) -> Job | None:
        """The running check of a server's settings, if any."""
        return self._server_check

    def _check_server(self, settings: AppSettings, new_key: str) -> None:
        from desktop.generation import check_server

        job = self.session.runner.start(
            "连接服务器", lambda job: check_server(settings, new_key, job)
        )
        self._server_check = job
        self.apply_button.setEnabled(False)
        self.job_bar.attach(job, f"正在连接 {settings.server_url} …")
        job.signals.finished.connect(
            lambda model: self._save(
                settings, f"服务器 {settings.server_url} 可用，模型：{model}。"
            )
        )
        job.signals.error.connect(lambda message: self.session.error(f"设置未保存：{message}"))
        job.signals.done.connect(self._server_checked)

    def _server_checked(self) -> None:
        self._server_check = None
        self.server_key_value.clear()
        self.apply_button.setEnabled(True)

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        super().showEvent(event)
        self._update_model_status()

    def _update_enabled(self) -> None:
        self.embedder_path.setEnabled(self.embedder.currentData() == "folder")
        kind = self.generator.currentData()
        self.generator_path.setEnabled(kind != "bundled" and not self.session.model_busy)
        self.generator_path.folder = kind == "folder"
        server = kind == "server"
        form = self.gen_form
        form.setRowVisible(self.generator_path, kind in ("folder", "gguf"))
        for widget in (self.server_url, self.server_model, self.server_key_row, self.server_note):
            form.setRowVisible(widget, server)
        key = self.server_key.currentData()
        form.setRowVisible(self.server_key_value, server and key == "keyring")
        self.server_key_name.setVisible(key != "none")
        self.server_key_name.setPlaceholderText(
            "环境变量名，如 TEAM_LLM_KEY" if key == "env" else "条目名，如 team-gpu"
        )
        for widget in (self.engine, self.device, self.threads, self.local_hint):
            form.setRowVisible(widget, not server)
        note = engine_note(str(self.engine.currentData()), str(kind))
        self.engine_note.setText(note)
        form.setRowVisible(self.engine_note, bool(note) and not server)


def _server_changed(old: AppSettings, new: AppSettings) -> bool:
    fields = ("generator", "server_url", "server_model", "server_key", "server_key_name")
    return any(getattr(old, f) != getattr(new, f) for f in fields)


def engine_note(engine: str, kind: str) -> str:
    """Why the engine asked for will not (or cannot) run, in a line under the choice."""
    from analyzer.llm.engines import llama_cpp_installed

    if kind in ("server", "folder"):
        return ""
    if engine in ("auto", "llama.cpp") and not llama_cpp_installed():
        return (
            "llama-cpp-python 没有安装：GGUF 模型改用 transformers（较慢）。"
            "安装：pip install 'llama-cpp-python[server]==0.3.36'（需编译约 4 分钟）"
        )
    return ""
