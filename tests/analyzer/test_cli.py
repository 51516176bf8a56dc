"""The CLI contract scripts rely on: JSON shapes, exit codes, one-line reasons."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from analyzer.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_parse_json_contract(capsys, seeds):
    code, out, _ = run(capsys, "parse", str(seeds["000"]), "--json")
    assert code == 0
    data = json.loads(out)
    assert data["award"] == "golden_mouse" and data["is_entry"] is True
    assert data["fields"]["广告主"] == "华为"
    assert next(s["title"] for s in data["sections"]) == "营销背景"
    exposure = [m for m in data["metrics"] if m["text"].startswith("3000")]
    assert exposure and exposure[0]["value"] == 30_000_000
    assert exposure[0]["section"] == "results"
    assert set(exposure[0]) >= {"text", "value", "unit", "measure", "section"}


def test_parse_with_award_and_unknown_award(capsys, seeds):
    code, out, _ = run(capsys, "parse", str(seeds["003"]), "--award", "tma", "--json")
    assert code == 0 and json.loads(out)["award"] == "tma"
    code, _, err = run(capsys, "parse", str(seeds["003"]), "--award", "oscars", "--json")
    assert code == 1 and "oscars" in err and err.count("\n") == 1


def test_parse_missing_file_names_it(capsys, tmp_path):
    code, _, err = run(capsys, "parse", str(tmp_path / "nope.txt"), "--json")
    assert code == 1 and "nope.txt" in err


def test_ingest_list_show_remove(capsys, seeds, tmp_path):
    lib = str(tmp_path / "lib")
    code, out, _ = run(capsys, "ingest", str(seeds["000"].parent), "--library", lib)
    assert code == 0 and "5 imported" in out
    code, out, _ = run(capsys, "list", "--json", "--library", lib)
    cases = json.loads(out)
    assert len(cases) == 5
    huawei = next(c for c in cases if c["brand"] == "华为")
    code, out, _ = run(capsys, "show", str(huawei["id"]), "--json", "--library", lib)
    assert code == 0 and json.loads(out)["source"].endswith("000_1553ac701a01ae2f.txt")
    code, out, _ = run(capsys, "remove", str(huawei["id"]), "--library", lib)
    assert code == 0 and "2019华为云" in out
    code, _, err = run(capsys, "show", str(huawei["id"]), "--library", lib)
    assert code == 1 and "CaseNotFoundError" in err


def test_ingest_reports_bad_files_and_goes_on(capsys, seeds, tmp_path):
    (tmp_path / "bad.pdf").write_bytes(b"%PDF-1.4 truncated")
    code, out, err = run(
        capsys,
        "ingest",
        str(seeds["001"]),
        str(tmp_path / "bad.pdf"),
        "--library",
        str(tmp_path / "l"),
    )
    assert code == 0
    assert "bad.pdf" in err and "1 imported" in out and "1 failed" in out


def test_awards_lists_every_schema(capsys):
    _code, out, _ = run(capsys, "awards", "--json")
    data = json.loads(out)
    assert {"golden_mouse", "jinqi", "tma", "effie", "generic"} <= set(data)
    assert data["effie"]["sections"] == ["挑战/背景/目标", "洞察与策略", "将创意付诸实践", "效果"]


@pytest.mark.parametrize("argv", [["--help"], ["parse", "--help"]])
def test_start_up_imports_no_heavy_library(argv):
    code = (
        "import sys\n"
        "from analyzer.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('torch', 'transformers', 'faiss', 'sentence_transformers', 'PySide6') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip().splitlines()[-1] == "[]"
