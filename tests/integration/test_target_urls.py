"""Target URLs as users write them (issue 35): refused with a usage error, or sent as HTTP
carries them; a targets file with a byte order mark and an upper-case scheme."""

from __future__ import annotations

import json

import pytest

from support.apps import app_source


def test_a_base_path_http_cannot_carry_is_percent_encoded(
    pytester: pytest.Pytester, live_server
) -> None:
    # Issue 35: "/über" and "/a b" crashed the probes (UnicodeEncodeError, h11's
    # "Illegal target characters") and the requirement vanished from the reports.
    server = live_server(app_source())
    report = pytester.path / "report.json"
    result = pytester.runpytest(
        "-p",
        "no:cacheprovider",
        f"--upgrade-target={server.https_url}/über",
        f"--upgrade-target={server.http_url}/a b",
        f"--upgrade-ca={server.cafile}",
        "--upgrade-require=h2 /v2/orders",
        f"--upgrade-report={report}",
    )
    document = json.loads(report.read_text())
    assert len(document["results"]) == 1
    (entry,) = document["results"]
    urls = [exchange["url"] for exchange in entry["exchanges"]]
    assert any("/%C3%BCber/v2/orders" in url for url in urls), urls
    assert "UnicodeEncodeError" not in result.stdout.str()
    assert "Illegal target characters" not in result.stdout.str()


def test_a_targets_file_with_a_bom_and_an_upper_case_scheme(
    pytester: pytest.Pytester, live_server
) -> None:
    server = live_server(app_source())
    targets = pytester.path / "targets.txt"
    line = f"{server.https_url.replace('https', 'HTTPS')} ca={server.cafile} name=one\n"
    targets.write_text("\ufeff# written on Windows\n" + line, encoding="utf-8")
    result = pytester.runpytest(
        "-p",
        "no:cacheprovider",
        f"--upgrade-targets-file={targets}",
        "--upgrade-require=h2 /v2/orders",
        "-v",
    )
    assert result.ret != pytest.ExitCode.USAGE_ERROR, result.stderr.str()
    result.stdout.fnmatch_lines(["*test_requirement[[]h2 GET /v2/orders[]] PASSED*"])
