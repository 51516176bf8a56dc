"""Soak: concurrent CLI processes on one library while files are damaged and processes killed.

N workers run ``ingest``, ``index``, ``search``, ``list`` and ``remove`` (each a fresh
``python -m analyzer`` process) on one library for a few minutes. Meanwhile a chaos thread kills
random processes with SIGKILL, damages source files (cut short, garbage inside, replaced by a
zip bomb or a FIFO), writes garbage into the search index and, now and then, into the library
file itself. When a command reports a damaged library, a worker runs ``doctor --salvage`` as a
user would. At the end the library is checked (``doctor``, repaired if needed) and compared
with what every successful ``ingest`` reported.

Printed: operations done, errors by kind, cases lost (a case an ingest reported that is gone
without a ``remove`` of it; must be 0) and tracebacks (must be 0). With ``--baseline REV``
(default: where this branch left ``main``) the same soak first runs on that revision's code,
side by side.

    .venv/bin/python bench/faults.py [--workers 6] [--seconds 180] [--baseline REV|none]

Seed cases: the five of ``corpus/cases`` plus ``../shared/realcases`` when present, each
varied into many distinct files.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# ../shared/realcases beside the main checkout (a worktree sits one level deeper)
REALCASES = next(
    (p / "shared" / "realcases" for p in ROOT.parents if (p / "shared" / "realcases").is_dir()),
    ROOT.parent / "shared" / "realcases",
)
QUERIES = ("环保公益主题的开发者大赛", "汽车品牌的智能营销", "冬奥会短视频互动", "文旅推广", "AI")
OP_WEIGHTS = {"ingest": 4, "index": 1, "search": 3, "list": 3, "remove": 2}
GRACE_SECONDS = 30.0  # at the end, running commands get this long to finish, then are stopped


@dataclass
class Ledger:
    """What the soak saw, filled by many threads under one lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    ops: collections.Counter[str] = field(default_factory=collections.Counter)
    ok: collections.Counter[str] = field(default_factory=collections.Counter)
    seconds: dict[str, list[float]] = field(default_factory=lambda: collections.defaultdict(list))
    errors: collections.Counter[tuple[str, str]] = field(default_factory=collections.Counter)
    tracebacks: list[str] = field(default_factory=list)
    chaos: collections.Counter[str] = field(default_factory=collections.Counter)
    ingested: dict[str, float] = field(default_factory=dict)  # source → latest ingest start
    removed: dict[str, float] = field(default_factory=dict)  # source → latest remove end
    ids: dict[int, str] = field(default_factory=dict)  # case id → source, from list/show
    damaged: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class Outcome:
    elapsed: float
    ledger: Ledger
    expected: int  # sources some successful ingest reported
    present: int  # sources in the library at the end
    lost: list[str]
    repaired: str  # what the end-of-soak doctor did


class Soak:
    def __init__(self, code: Path, work: Path, args: argparse.Namespace) -> None:
        self.code, self.work, self.args = code, work, args
        self.home = work / "library"
        self.src = work / "entries"
        self.originals = work / "originals"
        self.doctor_lock = threading.Lock()
        self.ledger = Ledger()
        self.rng = random.Random(args.seed)
        self.running: set[subprocess.Popen[str]] = set()
        self.running_lock = threading.Lock()
        self.stop = threading.Event()
        self.killed: set[int] = set()
        self.stopped: set[int] = set()  # still running when the soak ended
        self.env = {
            **os.environ,
            "AWARD_WRITER_HOME": str(self.home),
            "PYTHONPATH": str(code),
            "PYTHONDONTWRITEBYTECODE": "1",
            "AWARD_WRITER_TEMPLATES": str(code / "templates"),
        }

    # ------------------------------------------------------------------ processes

    def run(self, op: str, *argv: str) -> tuple[int | None, str, str]:
        """One CLI process; (exit code or None when it hung, stdout, stderr), recorded."""
        start = time.monotonic()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "analyzer",
                *argv,
                *(["--debug"] if self.args.tracebacks else []),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=self.work,
            env=self.env,
        )
        with self.running_lock:
            self.running.add(proc)
        try:
            out, err = proc.communicate(timeout=self.args.op_timeout)
            code: int | None = proc.returncode
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            code = None
        finally:
            with self.running_lock:
                self.running.discard(proc)
        self._record(op, code, err, time.monotonic() - start, proc.pid)
        if self.args.tracebacks and "Traceback" in err:
            with open(self.args.tracebacks, "a", encoding="utf-8") as fh:
                fh.write(f"=== {' '.join(argv)} (exit {code})\n{err}\n")
        return code, out, err

    def _record(self, op: str, code: int | None, err: str, seconds: float, pid: int) -> None:
        ledger = self.ledger
        with ledger.lock:
            ledger.ops[op] += 1
            ledger.seconds[op].append(seconds)
            if "Traceback (most recent call last)" in err:
                ledger.tracebacks.append(f"{op}: {err.strip().splitlines()[-1][:160]}")
            if code == 0:
                ledger.ok[op] += 1
                return
            ledger.errors[(op, self._kind(op, code, err, pid))] += 1
        if "案例库已损坏" in err or "LibraryDamaged" in err:
            ledger.damaged.set()

    def _kind(self, op: str, code: int | None, err: str, pid: int) -> str:
        if code is None:
            return "hung (killed after the timeout)"
        if code < 0:
            if pid in self.stopped:
                return "stopped at the end of the soak"
            return "killed by chaos" if pid in self.killed else f"signal {-code}"
        lines = [ln for ln in err.strip().splitlines() if ln.strip() and "等待它完成" not in ln]
        if not lines:  # these report on stdout
            if op == "ingest" and code == 1:
                return "some files refused (listed in its JSON)"
            if op.endswith("doctor") and code == 1:
                return "found the library damaged"
            return f"exit {code}"
        if any(ln.startswith("导入失败") for ln in lines):
            return "some files refused (damaged sources)"
        last = lines[-1]
        head = last.split(":", 1)[0] if ":" in last[:40] else last[:40]
        if "Traceback" in err:
            return f"traceback: {last[:70]}"
        return f"exit {code}: {head[:60]}"

    # ------------------------------------------------------------------ operations

    def worker(self) -> None:
        ops, weights = zip(*OP_WEIGHTS.items(), strict=True)
        while not self.stop.is_set():
            if self.ledger.damaged.is_set() and self.doctor_lock.acquire(blocking=False):
                try:
                    self.repair()
                finally:
                    self.doctor_lock.release()
                continue
            getattr(self, f"op_{self.rng.choices(ops, weights)[0]}")()

    def repair(self) -> None:
        self.ledger.damaged.clear()
        code, _, _ = self.run("doctor", "doctor")
        if code == 1:
            self.run("doctor --salvage", "doctor", "--salvage")

    def op_ingest(self) -> None:
        files = sorted(self.src.iterdir())
        if self.rng.random() < 0.3:
            paths = [str(self.src)]
        else:
            paths = [
                str(p) for p in self.rng.sample(files, min(len(files), self.rng.randint(1, 6)))
            ]
        start = time.time()
        code, out, _ = self.run("ingest", "ingest", "--json", *paths)
        if code not in (0, 1):
            return
        with contextlib.suppress(ValueError):
            results = json.loads(out)
            with self.ledger.lock:
                for r in results:
                    if r.get("status") in ("imported", "updated", "unchanged"):
                        source = r["path"]
                        self.ledger.ingested[source] = max(
                            start, self.ledger.ingested.get(source, 0)
                        )
                        if r.get("case_id"):
                            self.ledger.ids[int(r["case_id"])] = source

    def op_index(self) -> None:
        self.run("index", "index")

    def op_search(self) -> None:
        mode = "hybrid" if self.rng.random() < 0.3 else "bm25"
        self.run("search", "search", self.rng.choice(QUERIES), "--json", "-k", "5", "--mode", mode)

    def op_list(self) -> None:
        code, out, _ = self.run("list", "list", "--json")
        if code == 0:
            with contextlib.suppress(ValueError), self.ledger.lock:
                for c in json.loads(out):
                    self.ledger.ids[int(c["id"])] = c["source"]

    def op_remove(self) -> None:
        with self.ledger.lock:
            ids = list(self.ledger.ids.items())
        if not ids:
            return
        case_id, listed = self.rng.choice(ids)
        code, out, _ = self.run("show", "show", str(case_id), "--json")
        shown = json.loads(out)["source"] if code == 0 else listed
        code, _, _ = self.run("remove", "remove", str(case_id))
        if code == 0:
            now = time.time()
            with self.ledger.lock:
                for source in {listed, shown}:
                    self.ledger.removed[source] = now
                self.ledger.ids.pop(case_id, None)

    # ------------------------------------------------------------------ chaos

    def chaos(self) -> None:
        actions = {
            "kill a process": 5,
            "damage a source file": 3,
            "restore a source file": 2,
            "add a zip bomb or a FIFO": 1,
            "garbage into the index": 1,
            "garbage into the library": self.args.library_damage,
        }
        names, weights = zip(*actions.items(), strict=True)
        # Besides the random ones, the library file itself is damaged at 40% and 75% of the run,
        # so every soak exercises damage detection and doctor.
        start = time.monotonic()
        planned = [start + f * self.args.seconds for f in (0.4, 0.75)]
        while not self.stop.wait(self.rng.uniform(1.0, 2.0 * self.args.chaos_every)):
            action = self.rng.choices(names, weights)[0]
            if planned and time.monotonic() >= planned[0]:
                action = "garbage into the library"
            if self._chaos(action):
                if action == "garbage into the library" and planned:
                    planned.pop(0)
                with self.ledger.lock:
                    self.ledger.chaos[action] += 1

    def _chaos(self, action: str) -> bool:
        rng = self.rng
        if action == "kill a process":
            with self.running_lock:
                procs = list(self.running)
            if not procs:
                return False
            victim = rng.choice(procs)
            self.killed.add(victim.pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim.pid, signal.SIGKILL)
            return True
        if action in ("damage a source file", "restore a source file"):
            files = [p for p in self.src.glob("case*.txt") if p.is_file()]
            if not files:
                return False
            path = rng.choice(files)
            if action == "restore a source file":
                shutil.copy(self.originals / path.name, path)
                return True
            data = path.read_bytes()
            choice = rng.random()
            if choice < 0.4:
                path.write_bytes(data[: rng.randint(0, len(data))])
            elif choice < 0.8:
                mid = len(data) // 2
                path.write_bytes(data[:mid] + os.urandom(256) + data[mid + 256 :])
            else:
                path.write_bytes(os.urandom(len(data)))
            return True
        if action == "add a zip bomb or a FIFO":
            n = self.ledger.chaos[action]
            if hasattr(os, "mkfifo") and rng.random() < 0.5:
                os.mkfifo(self.src / f"fifo{n}.txt")
            else:
                _zip_bomb(self.src / f"bomb{n}.docx")
            return True
        target_dir = self.home / "index" if action == "garbage into the index" else self.home
        pattern = "*" if action == "garbage into the index" else "library.sqlite3"
        files = [p for p in target_dir.glob(pattern) if p.is_file() and p.stat().st_size >= 4096]
        if not files:
            return False
        path = rng.choice(files)
        with contextlib.suppress(OSError), path.open("r+b") as fh:
            size = path.stat().st_size
            # Past the first page (its first 100 bytes when that is all there is: a library
            # whose cases are all still in its WAL), within the file.
            low = 4096 if size > 8192 else 100
            fh.seek(rng.randint(low, max(low, size - 4096)))
            fh.write(os.urandom(min(4096 * rng.randint(1, 4), max(256, size - low))))
        return True

    # ------------------------------------------------------------------ the whole soak

    def prepare(self, seeds: list[str], n_files: int) -> None:
        self.src.mkdir(parents=True)
        self.originals.mkdir()
        for i in range(n_files):
            text = f"编号 {i}：第 {i // len(seeds) + 1} 版\n" + seeds[i % len(seeds)]
            for folder in (self.src, self.originals):
                (folder / f"case{i:03d}.txt").write_text(text, encoding="utf-8")

    def soak(self) -> Outcome:
        threads = [threading.Thread(target=self.worker) for _ in range(self.args.workers)]
        chaos = threading.Thread(target=self.chaos)
        start = time.monotonic()
        for t in (*threads, chaos):
            t.start()
        self.stop.wait(self.args.seconds)
        self.stop.set()
        chaos.join()
        deadline = time.monotonic() + GRACE_SECONDS
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        with self.running_lock:
            late = list(self.running)
        for proc in late:
            self.stopped.add(proc.pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
        for t in threads:
            t.join()
        elapsed = time.monotonic() - start
        return self.verify(elapsed)

    def verify(self, elapsed: float) -> Outcome:
        doctor_code, out, err = self.run("final doctor", "doctor")
        repaired = ""
        if doctor_code == 1:
            code, out, err = self.run("final doctor --salvage", "doctor", "--salvage")
            repaired = (out or err).strip()[:160]
        elif doctor_code not in (0, None):  # no doctor in this revision
            repaired = "no doctor command: nothing restorable"
        code, out, err = self.run("final list", "list", "--json")
        present = {c["source"] for c in json.loads(out)} if code == 0 else set()
        ledger = self.ledger
        lost = sorted(
            s
            for s, t in ledger.ingested.items()
            if s not in present and ledger.removed.get(s, 0) < t
        )
        if code != 0:
            repaired += f"; the final list failed: {err.strip()[:120]}"
        return Outcome(elapsed, ledger, len(ledger.ingested), len(present), lost, repaired)


def _zip_bomb(path: Path, inflated_mb: int = 300) -> None:
    """A real .docx whose document.xml inflates to ``inflated_mb`` MB (a file of ~2 MB)."""
    import io

    import docx

    buf = io.BytesIO()
    docx.Document().save(buf)
    base = zipfile.ZipFile(buf)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        for info in base.infolist():
            if info.filename != "word/document.xml":
                out.writestr(info, base.read(info.filename))
        with out.open("word/document.xml", "w", force_zip64=True) as fh:
            fh.write(
                b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/'
                b'2006/main"><w:body>'
            )
            chunk = "<w:p><w:r><w:t>营销效果</w:t></w:r></w:p>".encode() * 30_000
            for _ in range(inflated_mb * (1 << 20) // len(chunk)):
                fh.write(chunk)
            fh.write(b"</w:body></w:document>")


def seed_texts() -> list[str]:
    texts = [
        p.read_text(encoding="utf-8") for p in sorted((ROOT / "corpus" / "cases").glob("*.txt"))
    ]
    if REALCASES.is_dir():
        texts += [
            p.read_text(encoding="utf-8", errors="replace") for p in sorted(REALCASES.glob("*.txt"))
        ]
    else:
        print(f"({REALCASES} is absent: the five seed cases only)")
    return texts


def checkout(rev: str, into: Path) -> Path:
    """The analyzer and templates of ``rev``, extracted (never a worktree, never main's)."""
    into.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "analyzer", "templates"],
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def report(results: list[tuple[str, Outcome]]) -> None:
    width = 30
    print()
    print(f"{'':{width}}" + "".join(f"{name:>20}" for name, _ in results))

    def row(label: str, values: list[object]) -> None:
        print(f"{label:{width}}" + "".join(f"{v!s:>20}" for v in values))

    outcomes = [o for _, o in results]
    row("seconds", [f"{o.elapsed:.0f}" for o in outcomes])
    for op in (*OP_WEIGHTS, "show", "doctor", "doctor --salvage"):
        row(f"{op}: done / ok", [f"{o.ledger.ops[op]} / {o.ledger.ok[op]}" for o in outcomes])
    row("chaos actions", [sum(o.ledger.chaos.values()) for o in outcomes])
    row("cases expected (ingested)", [o.expected for o in outcomes])
    row("cases present at the end", [o.present for o in outcomes])
    row("CASES LOST (must be 0)", [len(o.lost) for o in outcomes])
    row("TRACEBACKS (must be 0)", [len(o.ledger.tracebacks) for o in outcomes])
    for name, o in results:
        print(
            f"\n[{name}] chaos: " + ", ".join(f"{k} {v}" for k, v in o.ledger.chaos.most_common())
        )
        print(f"[{name}] errors by kind:")
        for (op, kind), n in sorted(o.ledger.errors.items(), key=lambda kv: -kv[1]):
            print(f"    {n:5d}  {op:22} {kind}")
        for tb in o.ledger.tracebacks[:10]:
            print(f"    traceback  {tb}")
        if o.lost:
            print(f"    lost: {', '.join(Path(s).name for s in o.lost[:20])}")
        if o.repaired:
            print(f"    end of soak: {o.repaired}")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--workers", type=int, default=6)
    ap.add_argument("--seconds", type=float, default=180)
    ap.add_argument("--files", type=int, default=60, help="source files to import")
    ap.add_argument("--chaos-every", type=float, default=3.0, help="mean seconds between chaos")
    ap.add_argument(
        "--library-damage", type=float, default=0.3, help="weight of garbage into the library"
    )
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument(
        "--tracebacks",
        metavar="FILE",
        default="",
        help="run every command with --debug and append the tracebacks of its errors to FILE",
    )
    ap.add_argument(
        "--op-timeout", type=float, default=300, help="a command running longer has hung"
    )
    ap.add_argument(
        "--baseline",
        default="auto",
        help="revision to soak first for comparison (auto: the merge base with main; none)",
    )
    ap.add_argument("--keep", action="store_true", help="keep the work folders")
    args = ap.parse_args()

    seeds = seed_texts()
    runs: list[tuple[str, Path]] = []
    tmp = Path(tempfile.mkdtemp(prefix="award-writer-soak-"))
    if args.baseline != "none":
        rev = args.baseline
        if rev == "auto":
            rev = subprocess.run(
                ["git", "-C", str(ROOT), "merge-base", "HEAD", "main"],
                capture_output=True,
                text=True,
            ).stdout.strip()
        if rev:
            runs.append((f"baseline {rev[:8]}", checkout(rev, tmp / "baseline-code")))
    runs.append(("this checkout", ROOT))
    print(
        f"soak: {args.workers} workers × {args.seconds:.0f} s, {args.files} files, "
        f"{os.cpu_count()} CPU cores (shared machine: timings are indicative), work in {tmp}"
    )
    results = []
    for name, code in runs:
        work = tmp / name.replace(" ", "-")
        soak = Soak(code, work, args)
        soak.prepare(seeds, args.files)
        print(f"… {name}", flush=True)
        results.append((name, soak.soak()))
    report(results)
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    this = results[-1][1]
    sys.exit(1 if this.lost or this.ledger.tracebacks else 0)


if __name__ == "__main__":
    main()
