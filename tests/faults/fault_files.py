"""Hostile and damaged files for the fault suite, built inside the tests, and a way to run the
CLI in a subprocess measuring its peak memory."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_MEASURE = """
import json, resource, subprocess, sys
argv, timeout = json.loads(sys.argv[1]), float(sys.argv[2])
try:
    p = subprocess.run(argv, capture_output=True, timeout=timeout)
    code, out, err = p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
except subprocess.TimeoutExpired:
    code, out, err = None, "", "TIMEOUT"
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"code": code, "out": out, "err": err, "max_rss_kb": rss}))
"""


@dataclass(frozen=True)
class Run:
    code: int | None  # None: killed after the timeout (it hung)
    out: str
    err: str
    max_rss_mb: float


def cli(*args: str, home: Path, timeout: float = 300) -> Run:
    """``python -m analyzer ARGS`` in a fresh process; its peak RSS is read with
    ``getrusage(RUSAGE_CHILDREN)`` in a wrapper process that ran nothing else."""
    env = {**os.environ, "AWARD_WRITER_HOME": str(home), "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-m", "analyzer", *args]
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURE, json.dumps(argv), str(timeout)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=timeout + 60,
        check=True,
    )
    data = json.loads(proc.stdout)
    return Run(data["code"], data["out"], data["err"], data["max_rss_kb"] / 1024)


def docx_bytes(*paragraphs: str) -> bytes:
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def docx_bomb(path: Path, inflated_mb: int) -> None:
    """A valid .docx whose word/document.xml inflates to ``inflated_mb`` MB of real paragraphs
    (about 300:1, so 256 MB is a file under 1 MB)."""
    base = zipfile.ZipFile(io.BytesIO(docx_bytes("营销背景")))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as out:
        for info in base.infolist():
            if info.filename != "word/document.xml":
                out.writestr(info, base.read(info.filename))
        with out.open("word/document.xml", "w", force_zip64=True) as fh:
            fh.write(
                b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w='
                b'"http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
            )
            para = "<w:p><w:r><w:t>营销效果：曝光 3000 万+</w:t></w:r></w:p>".encode()
            chunk = para * ((1 << 20) // len(para))
            for _ in range(inflated_mb * (1 << 20) // len(chunk)):
                fh.write(chunk)
            fh.write(b"</w:body></w:document>")


def pdf_bytes(*pages: str) -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for text in pages:
        c.drawString(72, 720, text)
        c.showPage()
    c.save()
    return buf.getvalue()


def encrypted_pdf(path: Path, user_password: str, *pages: str) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes(*pages))))
    writer.encrypt(user_password, "owner-secret", algorithm="AES-256")
    with path.open("wb") as fh:
        writer.write(fh)


def seed_folder(folder: Path, n: int) -> list[Path]:
    """``n`` distinct entries made from the seed cases (each its own content)."""
    seeds = sorted((ROOT / "corpus" / "cases").glob("*.txt"))
    texts = [p.read_text(encoding="utf-8") for p in seeds]
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        path = folder / f"case{i:03d}.txt"
        path.write_text(f"编号{i}\n" + texts[i % len(texts)], encoding="utf-8")
        out.append(path)
    return out
