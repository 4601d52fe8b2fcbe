"""Inner runs that enforce a protocol (``--upgrade-enforce``) and read back what the
bundled server refused, from the run's JSON report."""

from __future__ import annotations

import json
from typing import Any

import pytest

__all__ = ["run_enforcing"]


def run_enforcing(
    pytester: pytest.Pytester, protocol: str
) -> tuple[pytest.RunResult, list[dict[str, Any]]]:
    """Run the suite in ``pytester`` enforcing ``protocol``; the result, and the
    report's ``refused`` entries (method, path, test, ...)."""
    report = pytester.path / "report.json"
    result = pytester.runpytest(
        "-p", "no:cacheprovider", f"--upgrade-enforce={protocol}", f"--upgrade-report={report}"
    )
    refused: list[dict[str, Any]] = json.loads(report.read_text())["refused"]
    return result, refused
