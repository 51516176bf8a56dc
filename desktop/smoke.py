"""Smoke run of the real app: start it under Xvfb (CJK fonts), use every page, screenshot each.

    python -m desktop.smoke OUT_DIR [--generate] [--keep-library DIR] [--open FILE]

It imports the sample corpus into a fresh library, shows the background indexing's progress and
time left in the status bar, searches with the bundled embedder while the index is half built
(indexing paused: the search page says which results came from keywords) and again when it is
complete, fills a brief (optionally drafts a section with the configured model) or opens FILE (a
draft, as ``award-writer gui FILE`` does), checks the draft, and saves ``01-library.png`` …
``05-settings.png`` in OUT_DIR, then ``06-settings-check.png`` (a folder that is no embedding
model, refused under its field) and every page again at 800×600 (``07-…`` to ``11-…``). Without
``$DISPLAY`` it starts its own Xvfb.
Exit status 1 when a page showed an error.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def start_xvfb() -> subprocess.Popen[bytes] | None:
    """A private X server when there is no display (Linux)."""
    if os.environ.get("DISPLAY") or not shutil.which("Xvfb"):
        return None
    for n in range(90, 110):
        if Path(f"/tmp/.X11-unix/X{n}").exists() or Path(f"/tmp/.X{n}-lock").exists():
            continue
        proc = subprocess.Popen(
            ["Xvfb", f":{n}", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(50):
            if Path(f"/tmp/.X11-unix/X{n}").exists():
                os.environ["DISPLAY"] = f":{n}"
                return proc
            time.sleep(0.1)
        proc.terminate()
    raise SystemExit("smoke: could not start Xvfb")


def cjk_fonts() -> list[str]:
    if not shutil.which("fc-list"):
        return []
    out = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True)
    return sorted({line.split(",")[0] for line in out.stdout.splitlines() if line.strip()})


def settle(app: Any, window: Any = None, seconds: float = 0.3) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def wait(app: Any, window: Any, timeout: float = 600) -> None:
    if not window.session.runner.wait(int(timeout * 1000)):
        raise SystemExit(f"smoke: a job did not finish within {timeout:.0f} s")
    settle(app, window)


def wait_for(app: Any, job: Any, timeout: float = 600) -> None:
    """Until this one job is over (others, such as the background indexing, go on)."""
    end = time.monotonic() + timeout
    while job is not None and not job.is_done:
        if time.monotonic() > end:
            raise SystemExit(f"smoke: {job.name} did not finish within {timeout:.0f} s")
        app.processEvents()
        time.sleep(0.02)
    settle(app, None)


def until(app: Any, condition: Any, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            return False
        app.processEvents()
        time.sleep(0.05)
    return True


def shoot(app: Any, window: Any, page: int, path: Path) -> None:
    window.show_page(page)
    settle(app, window, 0.5)
    screen = window.screen()
    pixmap = screen.grabWindow(window.winId()) if screen is not None else window.grab()
    if pixmap.isNull():
        pixmap = window.grab()
    pixmap.save(str(path))
    print(f"  {path}")


def fill_sample_brief(draft: Any) -> None:
    """Fill the 撰写 page's brief as a user would (no model needed)."""
    form = draft.form
    form.title.setText("城市垃圾分类 AI 挑战赛")
    for key, value in {
        "advertiser": "华为云",
        "industry": "云计算",
        "period": "2019.07—2019.10",
        "category": "社会化营销类",
    }.items():
        if key in form.field_edits:
            form.field_edits[key].setText(value)
    form.notes["background"].setPlainText(
        "上海垃圾分类新规 2019 年 7 月实施\n市民分类准确率低，缺少工具"
    )
    form.notes["objectives"].setPlainText("吸引开发者用 AI 解决垃圾分类\n大赛曝光 3000 万")
    form.notes["strategy"].setPlainText("大赛 + 公益：开发者与公众共同参与")
    form.results.add_row("大赛曝光", "3000 万+", "华为云后台")
    form.results.add_row("参赛团队", "500 支", "大赛报名系统")
    draft.editors["background"].set_text(
        "2019 年 7 月，上海垃圾分类新规实施，市民分类准确率低、缺少工具。华为云希望以 AI 开发大赛"
        "把技术带进城市治理。"
    )


def run(out: Path, *, generate: bool, library: Path | None, open_file: Path | None = None) -> int:
    from desktop.app import create_window, make_app, open_files, setup_logging

    setup_logging()
    app = make_app()
    window = create_window(str(library) if library else None)
    window.resize(1280, 800)
    window.show()
    settle(app, window, 1.0)
    errors: list[str] = []
    window.session.message.connect(
        lambda level, text: errors.append(text) if level == "error" else None
    )

    print("案例库: importing corpus/cases (indexing starts in the background)")
    wait_for(app, window.library_page.import_paths([str(ROOT / "corpus" / "cases")]))
    window.library_page.results_box.hide()
    window.library_page.table.selectRow(0)
    status = window.index_status
    # the first cases embedded: the status bar shows how far it is and the time left
    until(
        app,
        lambda: (
            ("向量索引" in status.label.text() and status.bar.value() > 0)
            or not window.indexer.running
        ),
        600,
    )
    shoot(app, window, 0, out / "01-library.png")

    draft = window.draft_page
    if open_file is not None:
        print(f"撰写: opening {open_file}")
        open_files(window, [str(open_file)])
        settle(app, window)
    else:
        fill_sample_brief(draft)

    print("相似案例: searching with the index half built (indexing paused for the shot)")
    similar = window.similar_page
    similar.query.setPlainText("环保公益主题的开发者大赛")
    window.show_page(1)
    job = window.indexer.job
    window.indexer.pause()  # the 5 seeds index in seconds: pausing keeps the shot half-built
    wait_for(app, job)
    wait_for(app, similar.start_search())
    similar.copy_exemplar()
    shoot(app, window, 1, out / "02-similar.png")
    window.indexer.resume()
    wait_for(app, window.indexer.job, timeout=1800)  # the background indexing finishes
    wait_for(app, similar.start_search())
    shoot(app, window, 1, out / "02b-similar-indexed.png")

    if generate:
        print("撰写: drafting 策略与创意 with the configured model")
        window.show_page(2)
        draft.generate_section("strategy")
        wait(app, window, timeout=1800)
    shoot(app, window, 2, out / "03-draft.png")

    print("检查: checking the draft")
    window.check_page.check_current_draft()
    wait(app, window)
    tree = window.check_page.findings
    group = tree.topLevelItem(0)
    severity = group.child(0) if group is not None else None
    finding = severity.child(0) if severity is not None else None
    if finding is not None:
        tree.setCurrentItem(finding)
    shoot(app, window, 3, out / "04-check.png")
    shoot(app, window, 4, out / "05-settings.png")

    print("设置: a folder that is no embedding model is loaded, then refused in place")
    settings = window.settings_page
    not_a_model = Path(tempfile.mkdtemp(prefix="not-a-model-"))
    (not_a_model / "说明.txt").write_text("这不是模型文件夹", encoding="utf-8")
    settings.embedder.setCurrentIndex(settings.embedder.findData("folder"))
    settings.embedder_path.setText(str(not_a_model))
    settings.embedder_path.changed.emit(str(not_a_model))
    wait(app, window)
    shoot(app, window, 4, out / "06-settings-check.png")
    settings.load()  # nothing applied: the old setting stays
    shutil.rmtree(not_a_model, ignore_errors=True)

    print("800×600: every page")
    window.message_bar.hide()
    window.resize(800, 600)
    settle(app, window, 0.5)
    for i, name in enumerate(("library", "similar", "draft", "check", "settings")):
        shoot(app, window, i, out / f"{7 + i:02d}-{name}-800x600.png")

    window.draft_page._dirty = False  # a smoke run leaves nothing to recover
    window.close()
    settle(app, window)
    if errors:
        print("errors shown in the app:", *errors, sep="\n  ")
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m desktop.smoke", description=__doc__)
    parser.add_argument("out", type=Path, help="folder for the screenshots")
    parser.add_argument("--generate", action="store_true", help="draft a section with the model")
    parser.add_argument("--keep-library", type=Path, metavar="DIR", help="library folder to use")
    parser.add_argument("--open", type=Path, metavar="FILE", help="open this draft on 撰写")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    xvfb = start_xvfb()
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb" if os.environ.get("DISPLAY") else "offscreen")
    fonts = cjk_fonts()
    print(
        "CJK fonts:",
        ", ".join(fonts[:4]) or "NONE (Chinese will show as boxes: apt-get install fonts-noto-cjk)",
    )
    home = args.keep_library or Path(tempfile.mkdtemp(prefix="award-writer-smoke-"))
    os.environ["AWARD_WRITER_HOME"] = str(home)
    try:
        return run(args.out, generate=args.generate, library=None, open_file=args.open)
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(5)
        if args.keep_library is None:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
