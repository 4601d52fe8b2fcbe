"""Waivers, fingerprints, the baseline's decision and the diff of two runs: pure, no sockets."""

from __future__ import annotations

import datetime as dt
import json
import pathlib
from fnmatch import fnmatch
from typing import Any

import pytest

from pytest_upgrade._waivers import header_lines, parse_waivers
from pytest_upgrade.cli import main
from pytest_upgrade.cli import main as command
from pytest_upgrade.report.baseline import (
    Fingerprint,
    compare,
    decide,
    deployment_key,
    expiring,
    failing_check_ids,
    fingerprints,
    fixed_since,
    read_baseline,
)
from pytest_upgrade.report.diff import render_diff_html, render_diff_markdown, render_diff_text
from pytest_upgrade.report.html import render_html
from pytest_upgrade.report.markdown import render_markdown
from pytest_upgrade.report.summary import summary_lines
from pytest_upgrade.report.waived import expiries, html_expiries

TODAY = dt.date(2026, 12, 1)

WAIVERS = '''\
# exceptions
[[waiver]]
deployment = "payments-eu"
requirement = "TLS/1.2 /"
checks = ["tls-legacy-refused"]
until = 2027-03-31
reason = """OPS-1234
[[waiver]] in a multi-line string is no header"""

  [[ waiver ]]  # spaces and a comment
deployment = "https://api.example:8443/"
requirement = "h2 /v2/orders method=POST"
until = 2026-11-30
reason = "OPS-2"
'''


def entry(
    deployment: str | None = "payments-eu",
    target: str = "https://10.0.0.1:8443",
    protocol: str = "TLS/1.2",
    path: str = "/",
    method: str = "GET",
    verdict: str = "failed",
    checks: dict[str, str] | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "nodeid": f"x::t[{deployment} {protocol} {path}]",
        "requirement": {"protocol": protocol, "path": path, "method": method},
        "target": target,
        "verdict": verdict,
        "checks": [{"id": k, "outcome": v} for k, v in (checks or {}).items()],
    }
    if deployment is not None:
        data["deployment"] = deployment
    return data


def test_header_lines_skip_multiline_strings() -> None:
    assert header_lines(WAIVERS) == [2, 10]


def test_parse_waivers() -> None:
    first, second = parse_waivers(WAIVERS, "w.toml")
    assert first.where == "w.toml:2"
    assert (first.protocol, first.path, first.method) == ("TLS/1.2", "/", None)
    assert first.checks == frozenset({"tls-legacy-refused"})
    assert first.until == dt.date(2027, 3, 31)
    assert second.where == "w.toml:10"
    assert (second.protocol, second.method) == ("h2", "POST")
    assert second.checks is None
    assert second.expired(TODAY)
    assert not first.expired(dt.date(2027, 3, 31))  # until itself still applies
    assert parse_waivers("", "w.toml") == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("waiver = 3\n", "w.toml:1: 'waiver' must be an array of tables*"),
        ('[[waiver]]\ndeployment = ""\n', "w.toml:1: the waiver has no requirement"),
        (
            '[[waiver]]\ndeployment = "a"\nrequirement = "h2"\nuntil = 2027-01-01T00:00:00\n'
            'reason = "r"\n',
            "w.toml:1: until must be a date*",
        ),
        (
            '[[waiver]]\ndeployment = "a"\nrequirement = "h2"\nuntil = 2027-01-01\nreason = " "\n',
            "w.toml:1: reason must be a non-empty string*",
        ),
        (
            '[[waiver]]\ndeployment = "a"\nrequirement = "h2"\nuntil = 2027-01-01\nreason = "r"\n'
            "checks = []\n",
            "w.toml:1: checks must be a non-empty list of check ids",
        ),
    ],
)
def test_bad_waivers(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=r".") as info:
        parse_waivers(text, "w.toml")
    assert fnmatch(str(info.value), message), str(info.value)


def test_matching_by_name_url_protocol_path_and_method() -> None:
    first, second = parse_waivers(WAIVERS, "w.toml")
    assert first.covers(entry(), "tls-legacy-refused")
    assert not first.covers(entry(), "status-426")  # only its checks
    assert not first.covers(entry(deployment="payments-us"), "tls-legacy-refused")
    assert not first.covers(entry(path="/x"), "tls-legacy-refused")
    orders = entry(deployment="api", target="https://API.example:8443 and http://api.example")
    assert not second.covers_requirement({**orders, "requirement": {"protocol": "h2",
                                          "path": "/v2/orders", "method": "GET"}})  # fmt: skip
    post = {**orders, "requirement": {"protocol": "h2", "path": "/v2/orders", "method": "POST"}}
    assert second.covers(post, "status-426")  # by URL, case and trailing slash aside


def test_fingerprints_name_deployments_without_ports() -> None:
    named = entry(checks={"status-426": "failed", "upgrade-present": "skipped"})
    assert fingerprints(named) == [Fingerprint("payments-eu", "", "TLS/1.2 GET /", "status-426")]
    default = entry(deployment="10.0.0.1:8443/api", target="https://10.0.0.1:8443/api")
    assert deployment_key(default) == "https://10.0.0.1/api"
    assert deployment_key(entry(deployment=None, target="https://[::1]:4443")) == "https://[::1]"
    assert fingerprints(entry(verdict="passed", checks={"status-426": "passed"})) == []
    # --upgrade-strict: the warned checks of a failed entry are its failures.
    strict = entry(checks={"not-cacheable": "warned", "status-426": "passed"})
    assert failing_check_ids(strict) == ["not-cacheable"]
    assert failing_check_ids(entry(verdict="warned", checks={"not-cacheable": "warned"})) == []
    error = entry(verdict="error")
    assert fingerprints(error) == []
    assert [f.check for f in fingerprints(error, errors=True)] == ["(error)"]


def test_decide() -> None:
    waivers = parse_waivers(WAIVERS, "w.toml")
    failing = entry(checks={"tls-legacy-refused": "failed"})
    waived = decide(failing, ["tls-legacy-refused"], waivers, None, TODAY)
    assert waived.verdict == "waived"
    assert "waived until 2027-03-31: OPS-1234" in waived.reason(None)
    after = decide(failing, ["tls-legacy-refused"], waivers, None, dt.date(2027, 4, 1))
    assert (after.verdict, after.new, [w.where for w in after.expired]) == (
        None,
        ("tls-legacy-refused",),
        ["w.toml:2"],
    )
    baseline = read_baseline({"as_of": "2026-10-01", "results": [failing]}, "b.json")
    # An expired waiver outranks the baseline: its date was the owner's promise.
    assert decide(failing, ["tls-legacy-refused"], waivers, baseline, dt.date(2027, 4, 1)).new
    two = entry(checks={"tls-legacy-refused": "failed", "status-426": "failed"})
    mixed = decide(two, ["tls-legacy-refused", "status-426"], waivers, baseline, TODAY)
    assert (mixed.verdict, mixed.new) == (None, ("status-426",))
    known_base = read_baseline({"as_of": "2026-10-01", "results": [two]}, "b.json")
    known = decide(two, ["tls-legacy-refused", "status-426"], waivers, known_base, TODAY)
    assert (known.verdict, known.known) == ("known", ("status-426",))
    assert "failing since the baseline of 2026-10-01 (status-426)" in known.reason(known_base)
    passing = entry(verdict="passed", checks={"tls-legacy-refused": "passed"})
    assert [w.where for w in decide(passing, [], waivers, None, TODAY).unneeded] == ["w.toml:2"]
    skipped = entry(verdict="skipped", checks={"tls-legacy-refused": "skipped"})
    assert decide(skipped, [], waivers, None, TODAY).unneeded == ()  # no evidence it passes
    assert fixed_since(known_base, [passing]) == [
        Fingerprint("payments-eu", "", "TLS/1.2 GET /", c)
        for c in ("status-426", "tls-legacy-refused")
    ]
    assert [(w.where, d) for w, d in expiring(waivers, dt.date(2027, 3, 20))] == [("w.toml:2", 11)]


def _doc(*entries: dict[str, Any], as_of: str = "2026-12-01") -> dict[str, Any]:
    return {"version": 1, "as_of": as_of, "results": list(entries), "refused": []}


def test_compare_and_render() -> None:
    old = _doc(
        entry("a", checks={"status-426": "failed"}),
        entry("b", checks={"status-426": "failed"}),
        entry("c", verdict="passed", checks={"status-426": "passed"}),
        entry("gone", checks={"status-426": "failed"}),
    )
    new = _doc(
        entry("a", verdict="waived", checks={"status-426": "failed"}),
        entry("b", verdict="passed", checks={"status-426": "passed"}),
        entry("c", checks={"status-426": "failed"}),
        entry("added", path="/n", verdict="passed"),
    )
    diff = compare(old, new, old_name="old", new_name="new")
    assert [f.deployment for f in diff.new] == ["c"]
    assert [f.deployment for f in diff.fixed] == ["b"]
    assert [f.deployment for f in diff.still] == ["a"]
    assert [d for d, _, _ in diff.added] == ["added"]
    assert [d for d, _, _ in diff.gone] == ["gone"]
    text = render_diff_text(diff)
    assert text.startswith("1 new failure(s), 1 fixed, 1 still failing;")
    assert "still failing (1):\n  a\n    TLS/1.2 GET / [status-426] (waived)" in text
    assert "### New failures\n\n- **c**" in render_diff_markdown(diff)
    assert "<h3>c</h3>" in render_diff_html(diff)
    with pytest.raises(ValueError, match="old: not a pytest-upgrade report"):
        compare([], new, old_name="old", new_name="new")


def test_the_diff_command(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps(_doc(entry("a", verdict="passed"))))
    new.write_text(json.dumps(_doc(entry("a", checks={"status-426": "failed"}))))
    md, page = tmp_path / "out" / "diff.md", tmp_path / "diff.html"
    assert main(["diff", str(old), str(new), f"--markdown={md}", f"--html={page}"]) == 1
    assert "new failures (1):\n  a\n" in capsys.readouterr().out
    assert "✘" in md.read_text()
    assert "<h1>1 new failure(s)" in page.read_text()
    assert main(["diff", str(new), str(new)]) == 0
    assert command(["diff", str(old), str(new)]) == 1  # the pytest-upgrade command
    assert main(["diff", str(old), str(tmp_path / "absent.json")]) == 2
    assert "absent.json: cannot read: No such file or directory" in capsys.readouterr().err
    old.write_text("{")
    assert main(["diff", str(old), str(new)]) == 2
    assert "old.json: not JSON (line 1" in capsys.readouterr().err
    old.write_text('{"results": 3}')
    assert main(["diff", str(old), str(new)]) == 2
    assert "not a pytest-upgrade report" in capsys.readouterr().err


def _gated() -> list[dict[str, Any]]:
    waiver = {"where": "w.toml:2", "until": "2026-12-10", "reason": "OPS-1"}
    return [
        {**entry("a"), "verdict": "waived", "waived": {"reason": "r", "waivers": [waiver]}},
        {**entry("b"), "verdict": "known", "known": {"reason": "r", "since": "2026-10-01"}},
        {**entry("c"), "waiver_expired": [{**waiver, "where": "w.toml:9", "until": "2026-11-01"}]},
        {**entry("d"), "verdict": "passed"},
    ]


def test_reports_show_waived_and_known() -> None:
    entries = _gated()
    lines = summary_lines(
        [{**e, "summary": e["verdict"].upper()} for e in entries], show_all=True, rollup=True
    )
    assert lines[-1] == "4 requirements: 1 passed, 1 failed, 1 waived, 1 known"
    assert any(line.split()[-2:] == ["waived", "known"] for line in lines)  # roll-up columns
    document = _doc(*entries)
    markdown = render_markdown(document)
    assert "| ✘ failed | ‼ error | ⚠ warned | ○ skipped | ✔ passed | ◐ known | ◌ waived |" in (
        markdown
    )
    assert "### Waivers expiring within 14 days" in markdown
    assert "- 2026-12-10 (9 day(s) left): OPS-1 (w.toml:2, 1 requirement(s))" in markdown
    page = render_html(document)
    assert '<input type="checkbox" name="verdict" value="waived" checked>' in page
    assert "1 waiver expires in the next 30 days" in page
    assert "expired 30 day(s) ago" in page
    waivers = page.split('<section id="waivers"', 1)[1].split("</section>", 1)[0]
    assert "◌ 2026-12-10 OPS-1 (w.toml:2)</text>" in waivers  # on the section's time axis
    assert '<p class="waived"><b>waived:</b> r</p>' in page
    assert "waiver expired on 2026-11-01: OPS-1 (w.toml:9); the failure stands" in page
    assert "<summary>2 waived or known failure(s)</summary>" in markdown
    assert "### Expired waivers: the failures stand\n\n- failed: x::t\\[c TLS/1.2 /\\]: waiver" in (
        markdown
    )
    assert [w.where for w in expiries(entries)] == ["w.toml:9", "w.toml:2"]
    assert html_expiries([entry("x")], "2026-12-01") == ""
    # Without waived or known entries the reports are as before.
    assert "known" not in render_markdown(_doc(entry("d", verdict="passed")))
