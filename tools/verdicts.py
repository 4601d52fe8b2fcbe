"""Capture the verdicts a refactor must not change, normalised for ports, times and paths.

    python tools/verdicts.py OUT_DIR     # run and write OUT_DIR/*.txt and demo.json
    diff -r BEFORE_DIR AFTER_DIR         # nothing may differ

It runs, serially and in written order:

* the demo suite with ``-rA`` and its JSON report (``demo.txt``, ``demo.json``);
* the server-matrix, TLS-policy-matrix and fleet tests with ``-rA``: the outer
  outcomes (``matrix.txt``) and every inner pytester run's ``-rA`` output, one
  file per outer test (``inner/``), written by tests/integration/conftest.py
  when ``PYTEST_UPGRADE_VERDICTS`` names a directory.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SUITES = (
    "tests/integration/test_server_matrix_native.py",
    "tests/integration/test_server_matrix_python.py",
    "tests/integration/test_tls_policy_matrix.py",
    "tests/integration/test_fleet.py",
)
_RULES = (
    (re.compile(r"(127\.0\.0\.\d+|localhost|\[::1\]|::1)(:|\s|port )\d{2,5}"), r"\1\2PORT"),
    (re.compile(r"(port[ =:]+)\d{2,5}"), r"\1PORT"),
    (re.compile(r"/tmp/[^\s'\"),\]]+"), "TMP"),
    (re.compile(r"\b\d+(\.\d+)?\s?(s|ms|µs)\b"), "T"),
    (re.compile(r"\(\d+:\d\d:\d\d\)"), "(T)"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?"), "TIMESTAMP"),
    (re.compile(r"\bpid \d+"), "pid N"),
    (re.compile(re.escape(str(pathlib.Path(__file__).resolve().parent.parent)) + "/"), "ROOT/"),
    (re.compile(r"\.py:\d+"), ".py:N"),
    (re.compile(r"((?i:date|last-modified|expires): )[A-Z][a-z]{2}, [^\n'\"]+GMT"), r"\1DATE"),
    (re.compile(r"((?i:sec-websocket-(key|accept))['\"]?[:,] ['\"]?)[\w+/=]{20,}"), r"\1KEY"),
)


def normalise(text: str) -> str:
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


def _json_normalised(value: object) -> object:
    if isinstance(value, dict):
        return {
            k: _json_normalised(v)
            for k, v in value.items()
            if k not in {"duration", "elapsed", "started", "finished", "observed_at", "created"}
        }
    if isinstance(value, list):
        return [_json_normalised(v) for v in value]
    if isinstance(value, str):
        return normalise(value)
    return value


def _pytest(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return normalise(done.stdout + done.stderr)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    out = pathlib.Path(argv[0]).resolve()
    (out / "inner").mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in {"PYTEST_ADDOPTS", "CI"}}
    report = out / "demo-raw.json"
    (out / "demo.txt").write_text(
        _pytest(["examples/demo", "-rA", "-v", f"--upgrade-report={report}"], env)
    )
    document = json.loads(report.read_text())
    report.unlink()
    (out / "demo.json").write_text(json.dumps(_json_normalised(document), indent=1, sort_keys=True))
    env["PYTEST_UPGRADE_VERDICTS"] = str(out / "inner")
    matrix = _pytest([*SUITES, "-rA", "-q"], env)
    (out / "matrix.txt").write_text(matrix)
    print(f"verdicts: written to {out}; last line: {matrix.strip().splitlines()[-1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
