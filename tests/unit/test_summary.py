"""The terminal's upgrade compliance section, from one requirement to a fleet's 5,000."""

from __future__ import annotations

import pathlib
import time
from typing import Any

from pytest_upgrade.report.summary import summary_lines
from support.doc_blocks import UPDATE, read_block, write_block

FLEET_PAGE = pathlib.Path(__file__).parents[2] / "docs" / "how-to" / "fleet.md"


def entry(nodeid: str, verdict: str, target: str = "https://a.example") -> dict[str, Any]:
    return {
        "nodeid": nodeid,
        "verdict": verdict,
        "target": target,
        "summary": f"{verdict.upper():<7} h2 GET /x",
    }


def test_one_passing_requirement_is_counted_not_listed() -> None:
    lines = summary_lines([entry("t.py::test_a", "passed")], show_all=False)
    assert lines == ["1 requirement: 1 passed (1 passed not listed; -v or -rA lists them)"]
    assert summary_lines([entry("t.py::test_a", "passed")], show_all=True) == [
        "PASSED  h2 GET /x  t.py::test_a",
        "",
        "1 requirement: 1 passed",
    ]


def test_non_passing_requirements_are_listed_by_node_id() -> None:
    entries = [
        entry("t.py::test_c", "warned"),
        entry("t.py::test_a", "passed"),
        entry("t.py::test_b", "failed"),
        entry("t.py::test_d", "skipped"),
    ]
    assert summary_lines(entries, show_all=False) == [
        "FAILED  h2 GET /x  t.py::test_b",
        "WARNED  h2 GET /x  t.py::test_c",
        "SKIPPED h2 GET /x  t.py::test_d",
        "",
        "4 requirements: 1 passed, 1 failed, 1 warned, 1 skipped"
        " (1 passed not listed; -v or -rA lists them)",
    ]


def _fleet(targets: int, per_target: int) -> list[dict[str, Any]]:
    """``targets`` deployments: every 10th fails one requirement, every 25th is unreachable."""
    entries = []
    for t in range(targets):
        host = f"https://host{t:04}.example"
        for r in range(per_target):
            verdict = "passed"
            if t % 25 == 7:
                verdict = "error"
            elif t % 10 == 3 and r == 0:
                verdict = "failed"
            entries.append(entry(f"x::test_requirement[host{t:04} h2 GET /r{r}]", verdict, host))
    return entries


def test_a_fleet_of_5000_items_reads_in_a_screenful_per_problem() -> None:
    entries = _fleet(1000, 5)
    started = time.perf_counter()
    lines = summary_lines(entries, show_all=False, rollup=True)
    assert time.perf_counter() - started < 2.0  # generous: a shared 2-core machine
    errors = 40 * 5  # hosts 7, 32, 57, ...: 40 of 1000, 5 requirements each
    failed = 100  # every 10th host (3, 13, ...; never an unreachable one) fails one requirement
    assert lines[-1] == (
        f"5000 requirements: {5000 - errors - failed} passed, {failed} failed, {errors} error"
        f" ({5000 - errors - failed} passed not listed; -v or -rA lists them)"
    )
    listed = [line for line in lines if "::test_requirement[" in line]
    assert len(listed) == errors + failed
    assert not any(line.startswith("PASSED") for line in listed)
    # The roll-up: the header, a row per target with a problem (the worst first), one for the rest.
    header = next(i for i, line in enumerate(lines) if line.startswith("target "))
    assert lines[header].split() == ["target", "passed", "failed", "warned", "skipped", "error"]
    rows = lines[header + 1 : -2]
    assert len(rows) == 40 + 100 + 1
    assert rows[0].split() == ["https://host0007.example", "0", "0", "0", "0", "5"]
    assert rows[-1] == "(and 860 targets where every requirement passed)"


def test_show_all_lists_every_item_and_target() -> None:
    lines = summary_lines(_fleet(30, 2), show_all=True, rollup=True)
    assert sum("::test_requirement[" in line for line in lines) == 60
    assert sum(line.startswith("https://host") for line in lines) == 30
    assert not any(line.startswith("(and ") for line in lines)


def test_a_fleet_where_everything_passed_says_so() -> None:
    entries = [entry(f"x::t[{t}]", "passed", f"https://{t}.example") for t in "abc"]
    assert summary_lines(entries, show_all=False, rollup=True) == [
        "(every requirement passed on each of the 3 targets)",
        "",
        "3 requirements: 3 passed (3 passed not listed; -v or -rA lists them)",
    ]
    # Without a fleet (the bundled server of each xdist worker), no roll-up.
    assert summary_lines(entries, show_all=False) == [
        "3 requirements: 3 passed (3 passed not listed; -v or -rA lists them)"
    ]


def test_the_fleet_how_to_shows_what_the_section_prints() -> None:
    node = "upgrade-requirements::test_requirement[{}]"
    timed_out = (
        "ERROR   h2 GET /v2/orders: legacy probe (HTTP/1.1 over TLS, ALPN http/1.1):"
        " connect to staging.example.com:443: timed out"
    )
    cases = [
        ("api.example.com", "h2 GET /v2/orders", "passed", "PASSED  h2 GET /v2/orders"),
        ("api.example.com", "TLS/1.2 GET /", "passed", "PASSED  TLS/1.2 GET /"),
        ("staging", "h2 GET /v2/orders", "error", timed_out),
        (
            "staging",
            "TLS/1.2 GET /",
            "error",
            timed_out.replace("h2 GET /v2/orders", "TLS/1.2 GET /"),
        ),
        (
            "legacy.example.net/v1",
            "h2 GET /v2/orders",
            "failed",
            "FAILED  h2 GET /v2/orders [status-426]",
        ),
        ("legacy.example.net/v1", "TLS/1.2 GET /", "passed", "PASSED  TLS/1.2 GET /"),
    ]
    urls = {
        "api.example.com": "https://api.example.com and http://api.example.com:8080",
        "staging": "https://staging.example.com",
        "legacy.example.net/v1": "https://legacy.example.net/v1",
    }
    entries = [
        {
            "nodeid": node.format(f"{name} {requirement}"),
            "verdict": verdict,
            "target": urls[name],
            # As a run writes it for a live deployment (report.results): its name.
            "deployment": name,
            "summary": summary,
        }
        for name, requirement, verdict, summary in cases
    ]
    lines = [
        "============================== upgrade compliance ==============================",
        *summary_lines(entries, show_all=False, rollup=True),
    ]
    if UPDATE:
        write_block(FLEET_PAGE, "fleet-summary", lines)
    assert read_block(FLEET_PAGE, "fleet-summary") == lines, (
        "docs/how-to/fleet.md is stale: run with PYTEST_UPGRADE_UPDATE_DOCS=1"
    )


def test_the_rollup_names_a_fleets_deployments_as_their_test_ids_do() -> None:
    named = entry("f::test_requirement[staging h2 GET /x]", "failed", "https://10.0.0.7:8443")
    named["deployment"] = "staging"
    unnamed = entry("t.py::test_b", "error", "https://b.example")
    lines = summary_lines([named, unnamed], show_all=False, rollup=True)
    rows = [line.split()[0] for line in lines if line.startswith(("staging", "https://"))]
    assert sorted(rows) == ["https://b.example", "staging"]
    assert not any(line.startswith("https://10.0.0.7") for line in lines)
