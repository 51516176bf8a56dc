"""Issue 14, item 8 and the last bullet: every CLI error is one line with a non-zero exit and
no traceback; ``--debug`` shows the traceback."""

from __future__ import annotations

import logging

import pytest
from fault_files import cli, seed_folder

from analyzer.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


HUGE = "99999999999999999999999"


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["show", HUGE], "id"),
        (["remove", HUGE], "id"),
        (["show", "-3"], "id"),
        (["show", "abc"], "id"),
        (["list", "--year", HUGE], "--year"),
        (["list", "--year", "-1"], "--year"),
        (["search", "--like", HUGE], "--like"),
        (["search", "公益", "--year", HUGE], "--year"),
        (["search", "公益", "-k", HUGE], "-k"),
        (["nosuch"], "nosuch"),
    ],
)
def test_numbers_sqlite_cannot_hold_and_bad_arguments_are_one_usage_line(capsys, argv, named):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert named in one_line(err)


def test_a_missing_case_is_one_line(capsys, tmp_path):
    home = tmp_path / "lib"
    run(capsys, "ingest", str(seed_folder(tmp_path / "src", 1)[0]), "--library", str(home))
    code, _, err = run(capsys, "show", "999", "--library", str(home))
    assert code == 1 and "999" in one_line(err)


def test_an_empty_query_is_an_error_not_an_empty_result(capsys):
    for query in ("", "   "):
        code, out, err = run(capsys, "search", query, "--mode", "bm25")
        assert code == 2 and out == ""
        assert "查询为空" in one_line(err)


def test_a_deeply_nested_json_brief_is_one_line(capsys, tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text('{"background": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    code, out, err = run(capsys, "draft", str(deep), "--award", "golden_mouse")
    assert code == 1 and out == ""
    line = one_line(err)
    assert line.startswith("BriefError:") and "deep.json" in line and "嵌套" in line
    toml = tmp_path / "deep.toml"
    toml.write_text("background = " + "[" * 100_000 + "]" * 100_000, encoding="utf-8")
    code, _, err = run(capsys, "draft", str(toml), "--award", "golden_mouse")
    assert code == 1 and "deep.toml" in one_line(err)


def _explode(_args: object) -> int:
    raise RuntimeError("something nobody foresaw\non two lines")


def test_an_unexpected_error_is_one_line_and_debug_shows_the_traceback(capsys, monkeypatch):
    from analyzer.cli import library_cmds

    monkeypatch.setattr(library_cmds, "cmd_awards", _explode)
    code, out, err = run(capsys, "awards")
    assert code == 1 and out == ""
    line = one_line(err)
    assert "意外的内部错误" in line and "RuntimeError" in line and "--debug" in line
    code, _, err = run(capsys, "--debug", "awards")
    assert code == 1 and "Traceback" in err and "_explode" in err
    code, _, err = run(capsys, "awards", "--debug")  # after the subcommand too
    assert code == 1 and "Traceback" in err


def _logs_a_failure(_args: object) -> int:
    try:
        raise ValueError("page 3 has a broken font")
    except ValueError:
        logging.getLogger("analyzer.library.readers").warning(
            "report.pdf: text of page 3 could not be extracted", exc_info=True
        )
    return 0


def test_a_logged_warning_is_one_line_without_its_traceback(capsys, monkeypatch):
    from analyzer.cli import library_cmds

    monkeypatch.setattr(library_cmds, "cmd_awards", _logs_a_failure)
    code, _, err = run(capsys, "awards")
    assert code == 0
    assert "page 3 could not be extracted" in one_line(err)
    code, _, err = run(capsys, "--debug", "awards")
    assert "Traceback" in err and "broken font" in err


def test_a_damaged_library_in_a_subprocess_is_one_line_too(tmp_path):
    home = tmp_path / "lib"
    home.mkdir()
    (home / "library.sqlite3").write_bytes(b"not a database" * 1000)
    for command in (["list"], ["show", "1"], ["remove", "1"], ["ingest", str(tmp_path)]):
        result = cli(*command, home=home)
        assert result.code == 1
        assert "案例库已损坏" in one_line(result.err)


def test_check_still_checks_an_entry_when_the_library_is_damaged(tmp_path):
    home = tmp_path / "lib"
    home.mkdir()
    (home / "library.sqlite3").write_bytes(b"")
    entry = seed_folder(tmp_path / "src", 1)[0]
    result = cli("check", str(entry), "--json", home=home)
    assert result.code in (0, 1) and '"findings"' in result.out
    assert "案例库已损坏" in one_line(result.err) and "不与案例库比较" in result.err
