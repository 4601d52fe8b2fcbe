"""Merging the JSON reports of a fleet's shards: ``python -m pytest_upgrade merge``."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
from typing import Any

import pytest

from pytest_upgrade.cli import main
from pytest_upgrade.report.document import MergeError, build_document, merge_documents


def result(nodeid: str, verdict: str = "passed") -> dict[str, Any]:
    return {
        "nodeid": nodeid,
        "requirement": {"protocol": "h2", "method": "GET", "path": "/", "after": None},
        "verdict": verdict,
        "target": "https://a",
        "outcome": verdict,
        "checks": [],
    }


def refusal(test: str) -> dict[str, str]:
    return {"method": "GET", "path": "/x", "spoken": "HTTP/1.1", "required": "h2", "test": test}


def document(*results: dict[str, Any], as_of: str = "2026-11-22", **extra: Any) -> dict[str, Any]:
    return {**build_document(as_of, results, extra.pop("refused", [])), **extra}


def test_shards_merge_into_the_document_of_one_run() -> None:
    one = document(result("t::b[2]"), result("t::d", "failed"), refused=[refusal("t::d")])
    two = document(result("t::a"), result("t::c", "error"), refused=[refusal("t::a")])
    merged = merge_documents([("one.json", one), ("two.json", two)])
    whole = document(
        result("t::a"),
        result("t::b[2]"),
        result("t::c", "error"),
        result("t::d", "failed"),
        refused=[refusal("t::d"), refusal("t::a")],
    )
    assert merged == whole
    assert [r["nodeid"] for r in merged["results"]] == ["t::a", "t::b[2]", "t::c", "t::d"]
    assert [r["test"] for r in merged["refused"]] == ["t::a", "t::d"]


def test_a_test_with_two_requirements_keeps_both_in_order() -> None:
    first, second = {**result("t::x"), "n": 1}, {**result("t::x"), "n": 2}
    merged = merge_documents([("a", document(second, first)), ("b", document())])
    assert [r["n"] for r in merged["results"]] == [2, 1]


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ([], "no report to merge"),
        ([("a.json", [])], "a.json: not a pytest-upgrade report"),
        ([("a.json", {"version": 3})], "a.json: report format version 3;.*versions 1, 2"),
        ([("a.json", {"version": 1, "results": []})], "a.json: no as_of date"),
        (
            [("a.json", {"version": 1, "as_of": "2026-11-22", "results": {}, "refused": []})],
            "a.json: 'results' is not a list",
        ),
        (
            [("a.json", {"version": 1, "as_of": "2026-11-22", "results": [{}], "refused": []})],
            r"a.json: results\[0\] has no nodeid",
        ),
        (
            [("a.json", {"version": 1, "as_of": "2026-11-22", "results": [], "refused": [{}]})],
            r"a.json: refused\[0\] lacks test, path or method",
        ),
        ([("a.json", {"version": True})], "a.json: report format version True"),
        (
            [("a.json", document(as_of="20261122"))],
            "a.json: no as_of date .YYYY-MM-DD., got '20261122'",
        ),
        (
            [("a.json", document({**result("t::x"), "days_left": "soon"}))],
            r"a.json: results\[0\] \(t::x\): 'days_left' is 'soon', not a whole number or null",
        ),
        (
            [("a.json", document({**result("t::x"), "days_left": True}))],
            r"a.json: results\[0\] \(t::x\): 'days_left' is True, not a whole number",
        ),
        (
            [("a.json", document({k: v for k, v in result("t::x").items() if k != "verdict"}))],
            r"a.json: results\[0\] \(t::x\): 'verdict' is missing",
        ),
        (
            [("a.json", document({**result("t::x"), "requirement": {"protocol": "h2"}}))],
            r"results\[0\] \(t::x\): requirement.'method' is missing",
        ),
        (
            [("a.json", document({**result("t::x"), "checks": [{"id": "x", "outcome": "ok"}]}))],
            r"results\[0\] \(t::x\): checks\[0\].'outcome' is 'ok', not one of passed",
        ),
        (
            [("a.json", document({**result("t::x"), "as_of": "2026-12-02"}))],
            r"results\[0\] \(t::x\): judged as of 2026-12-02, the report as of 2026-11-22",
        ),
        (
            [("a.json", document()), ("b.json", document(as_of="2026-11-23"))],
            "b.json: evaluated as of 2026-11-23, a.json as of 2026-11-22: run every shard"
            " with the same --upgrade-as-of",
        ),
        (
            [("a.json", document(result("t::x"))), ("b.json", document(result("t::x")))],
            "b.json: t::x is also in a.json: the shards overlap",
        ),
    ],
)
def test_what_cannot_be_merged_is_named(inputs: list[tuple[str, object]], message: str) -> None:
    with pytest.raises(MergeError, match=message):
        merge_documents(inputs)


def test_a_broken_entry_is_one_line_before_anything_is_rendered(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.json").write_text(json.dumps(document({**result("t::a"), "days_left": "soon"})))
    html = tmp_path / "r.html"
    code = main(["merge", str(tmp_path / "out.json"), str(tmp_path / "a.json"), f"--html={html}"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "results[0] (t::a): 'days_left' is 'soon', not a whole number or null" in err
    assert not html.exists()


def test_an_unwritable_output_says_not_a_directory(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.json").write_text(json.dumps(document(result("t::a"))))
    (tmp_path / "file").write_text("")
    assert main(["merge", str(tmp_path / "file" / "out.json"), str(tmp_path / "a.json")]) == 2
    err = capsys.readouterr().err
    assert (
        f"cannot write {tmp_path}/file/out.json: Not a directory ({tmp_path}/file is a file)" in err
    )


def test_the_command_writes_the_merged_report_and_renders_it(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.json").write_text(json.dumps(document(result("t::b", "failed"))))
    (tmp_path / "b.json").write_text(json.dumps(document(result("t::a"))))
    out, html, markdown = tmp_path / "out" / "all.json", tmp_path / "r.html", tmp_path / "r.md"
    code = main(
        [
            "merge",
            str(out),
            str(tmp_path / "a.json"),
            str(tmp_path / "b.json"),
            f"--html={html}",
            f"--markdown={markdown}",
        ]
    )
    assert code == 0
    assert capsys.readouterr().out == f"merged 2 result(s) from 2 report(s) into {out}\n"
    merged = json.loads(out.read_text())
    assert [r["nodeid"] for r in merged["results"]] == ["t::a", "t::b"]
    page = html.read_text()
    assert "<html" in page
    assert "t::b" in page
    assert markdown.read_text().startswith("## Upgrade compliance")


def test_the_command_names_a_bad_input_in_one_line(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.json").write_text("{not json")
    out = tmp_path / "out.json"
    assert main(["merge", str(out), str(tmp_path / "a.json")]) == 2
    error = capsys.readouterr().err
    assert (
        error == f"python -m pytest_upgrade merge: {tmp_path / 'a.json'}: not JSON (line 1:"
        " Expecting property name enclosed in double quotes)\n"
    )
    assert main(["merge", str(out), str(tmp_path / "missing.json")]) == 2
    assert "missing.json: cannot read: No such file or directory" in capsys.readouterr().err
    assert not out.exists()


def test_python_m_runs_it() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "pytest_upgrade", "merge", "--help"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert "OUT.json IN.json [IN.json ...]" in completed.stdout


def counted(document_: dict[str, Any], collected: int, selected: int) -> dict[str, Any]:
    """The document as a run that collected and selected so many requirements wrote it."""
    reported = len(document_["results"])
    return {
        **document_,
        "interrupted": reported < selected,
        "requirements": {"collected": collected, "selected": selected, "reported": reported},
    }


def refused_unless_incomplete_allowed(
    inputs: list[tuple[str, dict[str, Any]]], error: str
) -> dict[str, Any]:
    """Merging inputs raises error; allowing it, the merge is marked interrupted.

    Returns the merged requirement counts.
    """
    with pytest.raises(MergeError, match=error):
        merge_documents(inputs)
    merged = merge_documents(inputs, allow_incomplete=True)
    assert merged["interrupted"] is True
    return merged["requirements"]


def test_an_interrupted_shard_is_refused_by_name() -> None:
    whole = counted(document(result("t::a"), result("t::b")), 2, 2)
    short = counted(document(result("t::c")), 3, 3)
    requirements = refused_unless_incomplete_allowed(
        [("a.json", whole), ("b.json", short)], r"^b.json: an interrupted run \(1 of 3 selected"
    )
    assert requirements == {"collected": 5, "selected": 5, "reported": 3}


def test_a_missing_shard_is_refused() -> None:
    # pytest-shard: every shard collects the fleet's 6 and selects 2 of them.
    one = counted(document(result("t::a"), result("t::b")), 6, 2)
    two = counted(document(result("t::c"), result("t::d")), 6, 2)
    three = counted(document(result("t::e"), result("t::f")), 6, 2)
    merged = merge_documents([("1", one), ("2", two), ("3", three)])
    assert merged["interrupted"] is False
    assert merged["requirements"] == {"collected": 6, "selected": 6, "reported": 6}
    requirements = refused_unless_incomplete_allowed(
        [("1", one), ("3", three)], r"the 2 input\(s\) selected 4 of the 6 requirements"
    )
    assert requirements == {"collected": 6, "selected": 6, "reported": 4}


def test_version_1_reports_still_merge() -> None:
    old = {"version": 1, "as_of": "2026-11-22", "results": [result("t::a")], "refused": []}
    merged = merge_documents([("old.json", old), ("new.json", document(result("t::b")))])
    assert merged["version"] == 2
    assert merged["requirements"] == {"collected": 2, "selected": 2, "reported": 2}


def test_the_command_refuses_an_interrupted_input(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    short = counted(document(result("t::a")), 31, 31)
    (tmp_path / "a.json").write_text(json.dumps(short))
    out = tmp_path / "out.json"
    assert main(["merge", str(out), str(tmp_path / "a.json")]) == 2
    assert "a.json: an interrupted run (1 of 31 selected" in capsys.readouterr().err
    assert main(["merge", str(out), str(tmp_path / "a.json"), "--allow-incomplete"]) == 0
    assert "(incomplete: 1 of 31 requirements)" in capsys.readouterr().out
    assert json.loads(out.read_text())["interrupted"] is True
