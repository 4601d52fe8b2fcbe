"""Capture the verdicts a refactor must not change, normalised for ports, times and paths.

    python tools/verdicts.py OUT_DIR                  # run and write OUT_DIR
    python tools/verdicts.py OUT_DIR -- OPTION...     # the same, every run given OPTION...
    python tools/verdicts.py --compare BEFORE AFTER   # exit 1 when a verdict moved

Options after ``--`` (``-- --upgrade-fresh-connections``, say) go to the demo
run and, through ``PYTEST_UPGRADE_VERDICTS_OPTIONS``, to every inner pytester
run of the suites below (tests/integration/conftest.py appends them to the
inner runs' ``PYTEST_ADDOPTS``): the same verdicts with and without an option.

``--compare`` normalises both directories again with today's rules (so a
directory captured in another checkout, or before a rule was added, compares
too) and compares each file's lines as a sorted list: the order in which
pytest-xdist's workers finish, and rows sorted by a port that normalising
hides, are not verdicts. It prints a unified diff of what differs.

It runs, serially and in written order:

* the demo suite with ``-rA`` and its JSON report (``demo.txt``, ``demo.json``);
* the server-matrix, TLS-policy-matrix and fleet tests with ``-rA``: the outer
  outcomes (``matrix.txt``) and every inner pytester run's ``-rA`` output, one
  file per outer test (``inner/``), written by tests/integration/conftest.py
  when ``PYTEST_UPGRADE_VERDICTS`` names a directory.
"""

from __future__ import annotations

import difflib
import json
import os
import pathlib
import re
import shlex
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
    (re.compile(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT"), "DATE"),
    (re.compile(r'h3=\\?":\d+\\?"'), 'h3=":PORT"'),
    (re.compile(r'"[A-Za-z0-9+/]{22}==?"|"[A-Za-z0-9+/]{27}="'), '"KEY"'),
    (re.compile(r"0x[0-9a-f]+"), "0xADDR"),
    (re.compile(r"\[gw\d+\]"), "[gwN]"),
    # A progress line's outcomes, in the order xdist's workers finished them.
    (re.compile(r"^([.FEsxX]+)(\s+\[\s*\d+%\])$", re.M), lambda m: "".join(sorted(m[1])) + m[2]),
    # pytest centres its section titles on the terminal width: paths change the padding.
    (re.compile(r"^[-=_]{2,} (.+?) [-=_]{2,}$", re.M), r"== \1 =="),
    (re.compile(r" in T \(T\)"), " in T"),
    # A checkout's own directories, wherever it is (another worktree, a CI clone).
    (re.compile(r"(?<![\w.])/[\w.+/-]+?/(src|tests|examples|\.venv)/"), r"ROOT/\1/"),
)


def normalise(text: str) -> str:
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


# Report keys that are not verdicts: times, and which connection a request went over.
_VOLATILE_KEYS = frozenset(
    {"duration", "elapsed", "started", "finished", "observed_at", "created", "reused"}
)


def _json_normalised(value: object) -> object:
    if isinstance(value, dict):
        return {k: _json_normalised(v) for k, v in value.items() if k not in _VOLATILE_KEYS}
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


def compare(before: pathlib.Path, after: pathlib.Path) -> int:
    """0 when every file of both directories has the same normalised lines; else 1."""
    names = sorted({p.relative_to(d) for d in (before, after) for p in d.rglob("*") if p.is_file()})
    moved = 0
    for name in names:
        sides = [sorted(_lines(d / name)) for d in (before, after)]
        if sides[0] != sides[1]:
            moved += 1
            sys.stdout.writelines(
                difflib.unified_diff(
                    [f"{line}\n" for line in sides[0]],
                    [f"{line}\n" for line in sides[1]],
                    f"{before.name}/{name}",
                    f"{after.name}/{name}",
                    n=0,
                )
            )
    print(f"verdicts: {len(names)} file(s) compared, {moved} differ")
    return 1 if moved else 0


def _lines(path: pathlib.Path) -> list[str]:
    text = path.read_text(errors="replace") if path.exists() else "(no such file)"
    return normalise(text).splitlines()


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "--compare":
        return compare(pathlib.Path(argv[1]), pathlib.Path(argv[2]))
    options: list[str] = []
    if len(argv) > 1 and argv[1] == "--":
        argv, options = argv[:1], argv[2:]
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    out = pathlib.Path(argv[0]).resolve()
    (out / "inner").mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in {"PYTEST_ADDOPTS", "CI"}}
    report = out / "demo-raw.json"
    (out / "demo.txt").write_text(
        _pytest(["examples/demo", "-rA", "-v", f"--upgrade-report={report}", *options], env)
    )
    document = json.loads(report.read_text())
    report.unlink()
    (out / "demo.json").write_text(json.dumps(_json_normalised(document), indent=1, sort_keys=True))
    env["PYTEST_UPGRADE_VERDICTS"] = str(out / "inner")
    env["PYTEST_UPGRADE_VERDICTS_OPTIONS"] = shlex.join(options)
    matrix = _pytest([*SUITES, "-rA", "-q"], env)
    (out / "matrix.txt").write_text(matrix)
    print(f"verdicts: written to {out}; last line: {matrix.strip().splitlines()[-1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
