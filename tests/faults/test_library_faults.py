"""Issue 14, items 4, 5 and 6 (the library half): concurrent writers, a damaged or empty
library file, backups and ``doctor``. Nothing a user imported is lost, every failure is one
clear line, and a damaged file is never taken for an empty library or overwritten."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from fault_files import ROOT, cli, seed_folder

from analyzer.errors import LibraryDamaged
from analyzer.library import doctor, health
from analyzer.library.parse import parse_text
from analyzer.library.store import Library


def _library(home: Path, n: int, tmp_path: Path) -> list[int]:
    """A library of ``n`` imported cases (closed, so everything is in the main file)."""
    with Library(home) as lib:
        report = lib.ingest(seed_folder(tmp_path / "src", n))
        assert report.count("imported") == n
        return sorted(r.case_id for r in report.results if r.case_id)


def _garble(path: Path) -> bytes:
    """Garbage over 64 KB in the middle of the file (what a bad disk or a stray write does)."""
    size = path.stat().st_size
    with path.open("r+b") as fh:
        fh.seek(size // 2 - 32 * 1024)
        fh.write(os.urandom(64 * 1024))
    return path.read_bytes()


def _one_line(err: str) -> str:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


# ------------------------------------------------------------------------------ concurrency


def test_three_ingests_of_one_folder_at_once_each_case_exactly_once(tmp_path):
    folder = tmp_path / "entries"
    files = seed_folder(folder, 30)
    home = tmp_path / "lib"
    env = {**os.environ, "AWARD_WRITER_HOME": str(home), "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "analyzer", "ingest", str(folder), "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env,
        )
        for _ in range(3)
    ]
    outcomes = [p.communicate(timeout=600) for p in procs]
    imported = 0
    for proc, (out, err) in zip(procs, outcomes, strict=True):
        assert proc.returncode == 0, err
        assert "Traceback" not in err and "IntegrityError" not in err
        results = json.loads(out)
        assert len(results) == len(files)
        assert {r["status"] for r in results} <= {"imported", "unchanged"}
        imported += sum(r["status"] == "imported" for r in results)
    assert imported == len(files)  # each file imported by exactly one of the three
    with Library(home) as lib:
        cases = lib.list_cases()
    assert len(cases) == len(files)
    assert len({c.source for c in cases}) == len(files)


_HOLD = """
import sys
from analyzer.library.store import Library
lib = Library(sys.argv[1])
with lib.batch("导入"):
    print("holding", flush=True)
    sys.stdin.readline()  # until the test lets go
"""


def _holder(home: Path) -> subprocess.Popen[str]:
    """Another process in the middle of an import batch, until a line is written to it."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(home)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "holding"
    return proc


def test_a_second_writer_waits_saying_for_which_process_and_readers_do_not_wait(tmp_path):
    home = tmp_path / "lib"
    ids = _library(home, 3, tmp_path)
    holder = _holder(home)
    notices: list[str] = []
    with Library(home, notify=notices.append) as lib:
        assert len(lib.list_cases()) == 3  # a reader, while another process holds the writer
        remover = threading.Thread(target=lib.remove, args=(ids[0],))
        remover.start()
        deadline = time.monotonic() + 120  # a guard against hanging, not a speed limit
        while not notices and time.monotonic() < deadline:
            time.sleep(0.05)
        assert remover.is_alive() and len(lib) == 3  # the writer waits, readers do not
        assert holder.stdin is not None
        holder.stdin.write("done\n")
        holder.stdin.flush()
        remover.join(120)
        assert not remover.is_alive() and holder.wait(60) == 0
        assert len(lib) == 2
    assert len(notices) == 1
    assert f"进程 {holder.pid}" in notices[0] and "导入" in notices[0] and "等待" in notices[0]


def test_a_writer_killed_with_sigkill_leaves_no_stale_lock(tmp_path):
    home = tmp_path / "lib"
    ids = _library(home, 2, tmp_path)
    holder = _holder(home)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    notices: list[str] = []
    with Library(home, notify=notices.append) as lib:
        lib.remove(ids[0])
        assert len(lib) == 1
    assert notices == []  # nothing to wait for


def test_a_case_another_writer_stored_meanwhile_is_not_a_conflict(tmp_path):
    """The race behind ``UNIQUE constraint failed: cases.source``: both saw the file missing,
    one stored it; the other finds it inside its own write transaction."""
    home = tmp_path / "lib"
    doc = parse_text("营销背景\n公益活动\n营销效果\n曝光 3000 万+")
    with Library(home) as a, Library(home) as b:
        first = a._store("/x/entry.txt", "abc", 10, "utf-8", doc, dedupe=True)
        second = b._store("/x/entry.txt", "abc", 10, "utf-8", doc, dedupe=True)
        assert (first.status, second.status) == ("imported", "unchanged")
        assert first.case_id == second.case_id and len(b) == 1


# ------------------------------------------------------------------------------------ damage


def test_garbage_inside_the_library_every_command_says_so_and_doctor_restores(tmp_path):
    home = tmp_path / "lib"
    ids = _library(home, 40, tmp_path)
    damaged = _garble(home / "library.sqlite3")

    for command in (["list"], ["show", str(ids[20])], ["ingest", str(tmp_path / "src")]):
        run = cli(*command, home=home)
        assert run.code == 1, (command, run.out)
        line = _one_line(run.err)
        assert "案例库已损坏" in line and "doctor" in line, line
    assert "imported" not in run.out and "unchanged" not in run.out  # no success for ingest

    run = cli("doctor", home=home)
    assert run.code == 1 and "已损坏" in run.out and "--restore" in run.out
    run = cli("doctor", "--restore", home=home)
    assert run.code == 0, run.err
    assert "恢复 40 个案例" in run.out
    run = cli("list", "--json", home=home)
    assert sorted(c["id"] for c in json.loads(run.out)) == ids
    kept = [p for p in home.iterdir() if p.name.startswith("library.sqlite3.damaged-")]
    assert [p.read_bytes() for p in kept if not p.name.endswith(("-wal", "-shm"))] == [damaged]


def test_salvage_keeps_every_readable_case_and_takes_the_rest_from_the_backup(tmp_path):
    home = tmp_path / "lib"
    ids = _library(home, 40, tmp_path)
    db = home / "library.sqlite3"
    damaged = _garble(db)
    with pytest.raises(LibraryDamaged):
        Library(home)

    repair = doctor.salvage(home)
    assert repair.cases == 40 and repair.unreadable == ()
    assert repair.from_backup < 40  # the readable ones came from the damaged file itself
    assert repair.kept_aside and repair.kept_aside[0].read_bytes() == damaged
    with Library(home) as lib:
        assert [c.id for c in lib.list_cases()] == ids
        for case_id in ids:
            case = lib.get_case(case_id)
            assert case.sections and case.title
    assert doctor.diagnose(home).ok


def test_salvage_without_a_backup_recovers_what_is_readable_and_names_the_rest(tmp_path):
    home = tmp_path / "lib"
    ids = _library(home, 40, tmp_path)
    for backup in health.list_backups(home):
        backup.path.unlink()
    _garble(home / "library.sqlite3")
    found = doctor.diagnose(home)
    assert not found.ok and found.good_backup is None and "--salvage" in found.advice()
    repair = doctor.salvage(home)
    assert repair.from_backup == 0
    assert repair.cases + len(repair.unreadable) == 40
    with Library(home) as lib:
        assert {c.id for c in lib.list_cases()} | set(repair.unreadable) == set(ids)


def test_a_zero_byte_library_is_damage_not_an_empty_library(tmp_path):
    home = tmp_path / "lib"
    ids = _library(home, 5, tmp_path)
    (home / "library.sqlite3").write_bytes(b"")
    for command in (["list", "--json"], ["search", "--mode", "bm25", "公益活动"]):
        run = cli(*command, home=home)
        assert run.code == 1 and run.out == ""
        assert "0 字节" in _one_line(run.err)
    assert (home / "library.sqlite3").stat().st_size == 0  # nothing was written over it
    run = cli("doctor", "--restore", home=home)
    assert run.code == 0 and "恢复 5 个案例" in run.out
    with Library(home) as lib:
        assert [c.id for c in lib.list_cases()] == ids


def test_a_missing_library_with_backups_is_not_started_empty(tmp_path):
    home = tmp_path / "lib"
    _library(home, 3, tmp_path)
    (home / "library.sqlite3").unlink()
    with pytest.raises(LibraryDamaged, match="doctor --restore"):
        Library(home)
    assert not (home / "library.sqlite3").exists()
    doctor.restore(home)
    with Library(home) as lib:
        assert len(lib) == 3


# ----------------------------------------------------------------------------------- backups


def test_backups_rotate_after_each_changing_batch_and_each_is_whole(tmp_path):
    home = tmp_path / "lib"
    src = seed_folder(tmp_path / "src", 8)
    with Library(home) as lib:
        lib.ingest(src[:2])
        assert len(health.list_backups(home)) == 1
        lib.ingest(src[:2])  # nothing changed: no new backup
        assert len(health.list_backups(home)) == 1
        with lib.batch():  # single changes inside a batch: one backup at its end
            for path in src[2:6]:
                lib.ingest([path])
            assert len(health.list_backups(home)) == 1
        assert len(health.list_backups(home)) == 2
        lib.ingest(src[6:])
        lib.remove(lib.list_cases()[0].id)
        backups = health.list_backups(home)
    assert len(backups) == health.KEEP_BACKUPS
    counts = []
    for backup in backups:
        con = sqlite3.connect(backup.path)
        assert health.quick_check(con) is None
        counts.append(con.execute("SELECT COUNT(*) FROM cases").fetchone()[0])
        con.close()
    assert counts == [7, 8, 6]  # newest first


def test_a_large_library_is_checked_before_a_batch_and_no_backup_is_taken_of_damage(
    tmp_path, monkeypatch
):
    home = tmp_path / "lib"
    _library(home, 40, tmp_path)
    before = [(b.path, b.path.read_bytes()) for b in health.list_backups(home)]
    _garble(home / "library.sqlite3")
    monkeypatch.setattr(health, "QUICK_CHECK_ON_OPEN_BYTES", 0)  # too big to check on open
    with Library(home) as lib:
        with pytest.raises(LibraryDamaged, match="doctor"):
            lib.ingest(seed_folder(tmp_path / "more", 2))
        with pytest.raises(LibraryDamaged, match="doctor"):
            lib.remove(1)
    assert [(b.path, b.path.read_bytes()) for b in health.list_backups(home)] == before


# -------------------------------------------------------------------------------- list filters


def test_percent_and_underscore_in_filters_are_literal(tmp_path):
    home = tmp_path / "lib"
    text = (
        "案例名称：{0}\n所属行业：{1}\n营销背景\n品牌在年轻人群中的认知度偏低，希望通过公益活动提升好感。"
        "\n营销效果\n活动曝光 3000 万+，互动 50 万次。"
    )
    with Library(home) as lib:
        lib.add_parsed("a.txt", parse_text(text.format("甲", "100%纯果汁")))
        lib.add_parsed("b.txt", parse_text(text.format("乙", "饮料")))
        lib.add_parsed("c.txt", parse_text(text.format("丙", "汽车_新能源")))
        assert [c.industry for c in lib.list_cases(industry="%")] == ["100%纯果汁"]
        assert [c.industry for c in lib.list_cases(industry="_")] == ["汽车_新能源"]
        assert len(lib.list_cases(industry="饮")) == 1
    run = cli("list", "--industry", "%", "--json", home=home)
    assert [c["industry"] for c in json.loads(run.out)] == ["100%纯果汁"]


def test_a_library_open_while_doctor_replaced_its_file_writes_into_the_new_file(tmp_path):
    home = tmp_path / "lib"
    _library(home, 3, tmp_path)
    with Library(home) as lib:  # e.g. a window left open while doctor ran from a terminal
        doctor.restore(home)
        report = lib.ingest(seed_folder(tmp_path / "more", 5)[3:])
        assert report.count("imported") == 2
    with Library(home) as fresh:
        assert len(fresh) == 5


def test_an_import_cancelled_half_way_is_backed_up_with_what_it_saved(tmp_path):
    from analyzer.errors import Cancelled
    from analyzer.progress import CancelToken

    home = tmp_path / "lib"
    token = CancelToken()

    def progress(p: object) -> None:
        if getattr(p, "done", 0) == 2:
            token.cancel()

    seed_folder(tmp_path / "src", 5)
    with Library(home) as lib, pytest.raises(Cancelled):
        lib.ingest([tmp_path / "src"], on_progress=progress, cancel=token)
    (backup,) = health.list_backups(home)
    con = sqlite3.connect(backup.path)
    assert con.execute("SELECT COUNT(*) FROM cases").fetchone()[0] == 2
    con.close()
