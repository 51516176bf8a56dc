"""Desktop responsiveness: time to first window, and the longest GUI-thread stall during long work.

    .venv/bin/python bench/startup.py [--runs 5] [--cases 40] [--model bundled|tiny|none]

* **First window**: a fresh interpreter starts the app and reports when the window has been
  shown and painted; measured from launch, median of ``--runs``. Baseline: a bare PySide6
  ``QMainWindow`` in a fresh interpreter (the floor any Qt app pays).
* **GUI stall**: a 5 ms heartbeat ``QTimer`` on the GUI thread while the real window imports
  ``--cases`` files, searches while the background job builds the search index of them with
  the bundled embedder, waits for that job, and loads the drafting model and drafts one section. The stall is the longest gap between two heartbeats
  beyond the timer interval. Baseline: the same heartbeat with nothing running (median of
  several one-second samples).

"Painted" means the window's first paint event has been processed (not just ``show()``).

Goals (issue 6): first window under 1.5 s; no stall over 100 ms. Runs under Xvfb when there is no
display (like ``desktop/smoke.py``), else offscreen.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HEARTBEAT_MS = 5
IDLE_SAMPLES = 7
FIRST_WINDOW_GOAL = 1.5
STALL_GOAL_MS = 100.0

# "Painted" is the window's first paint event (its widgets drawn into the backing store), and
# the report comes once that round of painting has been processed, not when show() returns.
PAINTED = """
class Painted(QtCore.QObject):
    def eventFilter(self, obj, event):
        if event.type() == QtCore.QEvent.Type.Paint and not getattr(self, "seen", False):
            self.seen = True
            QtCore.QTimer.singleShot(0, done)
        return False
def done():
    print("shown", flush=True)
    app.quit()
painted = Painted()
for widget in [w, *w.findChildren(QtWidgets.QWidget)]:
    widget.installEventFilter(painted)
"""

APP_CHILD = (
    """
from desktop.app import make_app, create_window
from desktop.qt import QtCore, QtWidgets
app = make_app()
w = create_window()
"""
    + PAINTED
    + """
w.show()
app.exec()
w.draft_page._dirty = False
w.close()
"""
)

BARE_CHILD = (
    """
from PySide6 import QtCore, QtWidgets
app = QtWidgets.QApplication([])
w = QtWidgets.QMainWindow()
w.setCentralWidget(QtWidgets.QLabel("案例库"))
w.resize(1200, 780)
"""
    + PAINTED
    + """
w.show()
app.exec()
"""
)


def time_to_window(code: str, runs: int, env: dict[str, str]) -> float:
    """Median seconds from launch to the painted window; one warm-up run first, so Python's
    bytecode cache exists as it does for an installed app."""
    env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    times = []
    for i in range(runs + 1):
        home = tempfile.mkdtemp(prefix="aw-bench-")
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-c", code],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=ROOT,
            env={**env, "AWARD_WRITER_HOME": home},
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.strip() == "shown":
                if i:
                    times.append(time.perf_counter() - start)
                break
        proc.wait(60)
        shutil.rmtree(home, ignore_errors=True)
    if not times:
        raise SystemExit("the app never reported its window")
    return statistics.median(times)


class Heartbeat:
    """Records the gaps between ticks of a precise timer on the GUI thread."""

    def __init__(self) -> None:
        from desktop.qt import Qt, QtCore

        self.timer = QtCore.QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(HEARTBEAT_MS)
        self.timer.timeout.connect(self._tick)
        self.gaps: list[float] = []
        self._last = 0.0

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last:
            self.gaps.append(now - self._last)
        self._last = now

    def __enter__(self) -> Heartbeat:
        self.gaps.clear()
        self._last = 0.0
        self.timer.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.timer.stop()

    @property
    def stall_ms(self) -> float:
        return max(0.0, (max(self.gaps, default=0.0) * 1000) - HEARTBEAT_MS)

    @property
    def p99_ms(self) -> float:
        if not self.gaps:
            return 0.0
        ordered = sorted(self.gaps)
        return max(0.0, ordered[int(0.99 * (len(ordered) - 1))] * 1000 - HEARTBEAT_MS)


def run_until_done(job: Any, timeout: float) -> float:
    """Run the real Qt event loop until the job's signals are out; its wall time."""
    from desktop.qt import QtCore

    if job is None:
        raise SystemExit("no job was started")
    loop = QtCore.QEventLoop()
    job.signals.done.connect(loop.quit)
    QtCore.QTimer.singleShot(int(timeout * 1000), loop.quit)
    start = time.perf_counter()
    loop.exec()
    if not job.is_done:
        raise SystemExit(f"{job.name} did not finish within {timeout:.0f} s")
    return time.perf_counter() - start


def idle(seconds: float) -> None:
    from desktop.qt import QtCore

    loop = QtCore.QEventLoop()
    QtCore.QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def make_cases(folder: Path, n: int) -> None:
    """``n`` entries: the seed entries with their figures and names varied (distinct content)."""
    seeds = sorted((ROOT / "corpus" / "cases").glob("*.txt"))
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        text = seeds[i % len(seeds)].read_text(encoding="utf-8")
        text = text.replace("3000", str(3000 + i)).replace("华为", f"华为{i}")
        (folder / f"case_{i:04d}.txt").write_text(text + f"\n案例编号 {i}\n", encoding="utf-8")


def build_tiny_model(folder: Path) -> Path:
    sys.path.insert(0, str(ROOT / "tests" / "desktop"))
    from test_tiny_model import build_tiny_qwen

    return build_tiny_qwen(folder)


def stalls(cases: int, model: str, work: Path) -> list[tuple[str, str, float, float, int]]:
    """(measure, detail, stall ms, p99 ms, seconds) for each long job, plus the idle baseline."""
    from desktop.app import create_window, make_app

    app = make_app()
    window = create_window()
    window.resize(1200, 780)
    window.show()
    idle(0.5)
    rows = []
    beat = Heartbeat()
    # The idle baseline is noisy (other programs, the machine's scheduler): the median of
    # several one-second samples, so one unlucky sample does not make the floor look high.
    samples = []
    for _ in range(IDLE_SAMPLES):
        with beat:
            idle(1.0)
        samples.append((beat.stall_ms, beat.p99_ms))
    rows.append(
        (
            "idle (baseline)",
            f"median of {IDLE_SAMPLES} × 1 s",
            statistics.median(s[0] for s in samples),
            statistics.median(s[1] for s in samples),
            IDLE_SAMPLES,
        )
    )

    make_cases(work / "cases", cases)
    with beat:
        secs = run_until_done(window.library_page.import_paths([str(work / "cases")]), 1800)
    rows.append(("import", f"{cases} files", beat.stall_ms, beat.p99_ms, round(secs)))

    similar = window.similar_page
    window.show_page(1)
    similar.query.setPlainText("环保公益主题的开发者大赛")
    with beat:  # the import started the background indexing: the search runs beside it
        secs = run_until_done(similar.start_search(), 3600)
    rows.append(
        ("search while indexing", f"{cases} cases", beat.stall_ms, beat.p99_ms, round(secs))
    )
    with beat:
        job = window.indexer.job
        secs = run_until_done(job, 3600) if job is not None else 0.0
    from analyzer.search.index import open_index

    chunks = open_index(window.session.home).n_chunks()
    rows.append(
        (
            "background index build",
            f"{cases} cases, {chunks} chunks",
            beat.stall_ms,
            beat.p99_ms,
            round(secs),
        )
    )

    if model != "none":
        from desktop.config import AppSettings

        if model == "tiny":
            folder = build_tiny_model(work / "tiny-qwen")
            window.session.apply_settings(
                AppSettings(generator="folder", generator_path=str(folder), device="cpu")
            )
        draft = window.draft_page
        window.show_page(2)
        draft.form.notes["strategy"].setPlainText("大赛 + 公益：开发者与公众共同参与")
        with beat:
            secs = run_until_done_generation(draft)
        label = "bundled Qwen2.5-0.5B" if model == "bundled" else "tiny test model"
        rows.append(
            ("model load + draft a section", label, beat.stall_ms, beat.p99_ms, round(secs))
        )
    window.draft_page._dirty = False
    window.close()
    app.processEvents()
    return rows


def run_until_done_generation(draft: Any) -> float:
    from desktop.qt import QtCore

    loop = QtCore.QEventLoop()
    draft.generation.stopped.connect(loop.quit)
    start = time.perf_counter()
    draft.generate_section("strategy")
    QtCore.QTimer.singleShot(3_600_000, loop.quit)
    loop.exec()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cases", type=int, default=40)
    parser.add_argument("--model", choices=("bundled", "tiny", "none"), default="bundled")
    parser.add_argument("--window-only", action="store_true", help="measure the first window only")
    args = parser.parse_args()

    from desktop.smoke import start_xvfb

    xvfb = start_xvfb()
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb" if os.environ.get("DISPLAY") else "offscreen")
    work = Path(tempfile.mkdtemp(prefix="aw-bench-"))
    os.environ["AWARD_WRITER_HOME"] = str(work / "home")
    try:
        env = dict(os.environ)
        bare = time_to_window(BARE_CHILD, args.runs, env)
        first = time_to_window(APP_CHILD, args.runs, env)
        rows = [] if args.window_only else stalls(args.cases, args.model, work)
    finally:
        if xvfb is not None:
            xvfb.terminate()
        shutil.rmtree(work, ignore_errors=True)

    platform = os.environ["QT_QPA_PLATFORM"]
    print(
        f"\nDesktop responsiveness ({platform}, {os.cpu_count()} CPUs, heartbeat {HEARTBEAT_MS} ms)\n"
    )
    print("| measure | goal | baseline | value | value / goal |")
    print("|---|---|---|---|---|")
    print(
        f"| first window (launch → painted, median of {args.runs}) | < {FIRST_WINDOW_GOAL:.1f} s "
        f"| {bare:.2f} s (bare Qt window) | {first:.2f} s | {first / FIRST_WINDOW_GOAL:.2f} |"
    )
    idle_stall = rows[0][2] if rows else 0.0
    if rows:
        print(
            f"| GUI stall with nothing running ({rows[0][1]}) | — | — "
            f"| {rows[0][2]:.1f} ms (p99 {rows[0][3]:.1f} ms) | — |"
        )
    for name, detail, stall, p99, secs in rows[1:]:
        what = f"{name} ({detail}, {secs} s)" if detail else name
        print(
            f"| longest GUI stall: {what} | < {STALL_GOAL_MS:.0f} ms | {idle_stall:.1f} ms (idle) "
            f"| {stall:.1f} ms (p99 {p99:.1f} ms) | {stall / STALL_GOAL_MS:.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
