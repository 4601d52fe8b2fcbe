#!/usr/bin/env python3
"""Development entry point: works on a fresh machine with nothing but Python 3.11+.

    python3 dev.py demo     the example suite against the bundled example app
    python3 dev.py test     the project's own tests, with branch coverage
    python3 dev.py lint     ruff check and ruff format --check
    python3 dev.py types    mypy --strict on src/
    python3 dev.py test-min the tests against the lowest supported dependency versions
    python3 dev.py bench    the benchmark harness (benchmarks/; the full run installs SSLyze
                            into .venvs/sslyze for its side-by-side row)
    python3 dev.py examples each framework example's suite, in its own venv (.venvs/NAME)
    python3 dev.py docs     build the documentation site (mkdocs --strict) into site/
    python3 dev.py package  build sdist and wheel, twine check, install the wheel in a fresh
                            venv and run pytest-upgrade check and one example from there
                            (--keep DIR: keep the distributions in DIR)

Each command first makes sure ``.venv`` exists and holds the package
(editable) with its test and lint tools; it reinstalls only when
pyproject.toml changed. Set PYTEST_UPGRADE_VENV to use another directory.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import venv
import zipfile

ROOT = pathlib.Path(__file__).resolve().parent
VENV = pathlib.Path(os.environ.get("PYTEST_UPGRADE_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"


def _stamp() -> str:
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes())
    digest.update(sys.version.encode())
    return digest.hexdigest()


# The development venv has every extra; the "minimum" one leaves out h3
# (aioquic), so that the path without the extra is tested for real.
EXTRAS = "test,lint,types,h3"
MIN_EXTRAS = "test,lint,types"


def ensure_venv(
    venv_dir: pathlib.Path = VENV, *extra_args: str, extras: str = EXTRAS
) -> pathlib.Path:
    """Create or refresh ``venv_dir``; returns its python."""
    python = venv_dir / BIN.name / "python"
    stamp_file = venv_dir / ".pytest-upgrade-stamp"
    stamp = _stamp() + " ".join(extra_args) + extras
    if stamp_file.exists() and stamp_file.read_text() == stamp and python.exists():
        return python
    if not python.exists():
        print(f"dev.py: creating {venv_dir}", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(venv_dir)
    print("dev.py: installing pytest-upgrade and its development tools", flush=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[{extras}]", *extra_args], check=True)
    stamp_file.write_text(stamp)
    return python


def run(*args: str) -> int:
    print("$ " + " ".join(args), flush=True)
    return subprocess.run(args, cwd=ROOT, check=False).returncode


def demo() -> int:
    """Run the example suite; succeed when exactly the deliberate failure fails."""
    with tempfile.TemporaryDirectory() as scratch:
        report = pathlib.Path(scratch) / "report.json"
        code = run(
            str(PYTHON), "-m", "pytest", "examples/demo", "-p", "no:cacheprovider",
            # -v: the compliance section lists every requirement, not only failures
            "-v", f"--upgrade-report={report}",
        )  # fmt: skip
        if not report.exists():
            print("dev.py demo: the example suite did not produce its report", file=sys.stderr)
            return code or 1
        results = json.loads(report.read_text())["results"]
    failed = sorted({r["nodeid"] for r in results if r["outcome"] != "passed"})
    expected = ["test_demo.py::test_reports_require_http2"]
    if failed == expected:
        passed = len({r["nodeid"] for r in results}) - len(failed)
        print(
            f"\ndev.py demo: as expected, {passed} requirement test(s) passed and the deliberately"
            " broken one (/reports still serves HTTP/1.1) failed with the report above."
        )
        return 0
    print(
        f"\ndev.py demo: unexpected outcome: failed {failed}, expected {expected}", file=sys.stderr
    )
    return 1


EXAMPLES = ("starlette", "fastapi", "quart", "django", "flask", "client")
VENVS = ROOT / ".venvs"


def ensure_side_venv(
    name: str, *pip_args: str, inputs: tuple[pathlib.Path, ...] = ()
) -> pathlib.Path:
    """A venv under .venvs/NAME holding ``pip_args``; reinstalls only when an input changed."""
    venv_dir = VENVS / name
    python = venv_dir / BIN.name / "python"
    stamp_file = venv_dir / ".pytest-upgrade-stamp"
    digest = hashlib.sha256(_stamp().encode())
    for path in inputs:
        digest.update(path.read_bytes())
    digest.update(" ".join(pip_args).encode())
    stamp = digest.hexdigest()
    if stamp_file.exists() and stamp_file.read_text() == stamp and python.exists():
        return python
    if not python.exists():
        print(f"dev.py: creating {venv_dir}", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(venv_dir)
    print(f"dev.py: installing into {venv_dir}", flush=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, *pip_args], check=True)
    stamp_file.write_text(stamp)
    return python


def examples(names: list[str]) -> int:
    """Each framework example in its own venv and its own pytest invocation."""
    unknown = sorted(set(names) - set(EXAMPLES))
    if unknown:
        print(f"dev.py examples: unknown example(s) {unknown}; known: {EXAMPLES}", file=sys.stderr)
        return 2
    outcomes: dict[str, str] = {}
    for name in names or EXAMPLES:
        directory = ROOT / "examples" / name
        requirements = directory / "requirements.txt"
        try:
            python = ensure_side_venv(
                name, "-r", str(requirements), "-e", str(ROOT), inputs=(requirements,)
            )
        except subprocess.CalledProcessError as exc:
            outcomes[name] = f"FAILED (install: {exc})"
            continue
        print(f"$ cd examples/{name} && {python} -m pytest", flush=True)
        code = subprocess.run(
            [str(python), "-m", "pytest", "-p", "no:cacheprovider"], cwd=directory, check=False
        ).returncode
        outcomes[name] = "passed" if code == 0 else f"FAILED (pytest exit code {code})"
    print("\ndev.py examples:")
    for name, outcome in outcomes.items():
        print(f"  {name:<10} {outcome}")
    return 0 if all(o == "passed" for o in outcomes.values()) else 1


def docs() -> int:
    """Build the documentation site with warnings as errors."""
    python = ensure_side_venv("docs", "-e", f"{ROOT}[docs]")
    # Material for MkDocs' banner about its successor, at every build.
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    first = run(str(python), "docs/gen_checks.py", "--check")
    return run(str(python), "-m", "mkdocs", "build", "--strict", "--quiet") or first


# The wheel's smoke run: requirements the demo app meets and one it does not.
PACKAGE_CHECKS = (
    (0, ["--require", "h2 /v2/orders", "--require", "websocket /ws"]),
    (1, ["--require", "h2 /reports"]),
)


def package(extra: list[str]) -> int:
    """Build, check and install the distributions as a user would get them from PyPI.

    ``--keep DIR`` copies the checked sdist and wheel there (the release job publishes them).
    """
    keep = pathlib.Path(extra[1]) if extra[:1] == ["--keep"] and len(extra) == 2 else None
    if extra and keep is None:
        print("dev.py package: the only option is --keep DIR", file=sys.stderr)
        return 2
    tools = ensure_side_venv("package", "build>=1.2", "twine>=5.1")
    with tempfile.TemporaryDirectory(prefix="pytest-upgrade-package-") as scratch:
        dist = pathlib.Path(scratch) / "dist"
        if run(str(tools), "-m", "build", "--outdir", str(dist), str(ROOT)):
            return 1
        built = sorted(str(path) for path in dist.iterdir())
        if run(str(tools), "-m", "twine", "check", "--strict", *built):
            return 1
        (wheel,) = (path for path in built if path.endswith(".whl"))
        problem = _description_problem(pathlib.Path(wheel))
        if problem:
            print(f"dev.py package: {problem}", file=sys.stderr)
            return 1
        # A fresh venv, the wheel itself (not editable), no extras: what `pip install` gives.
        fresh = pathlib.Path(scratch) / "venv"
        venv.EnvBuilder(with_pip=True).create(fresh)
        python = str(fresh / BIN.name / "python")
        flask = ROOT / "examples" / "flask" / "requirements.txt"
        pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        if run(*pip, wheel, "-r", str(flask)):
            return 1
        code = _package_smoke(fresh)
        if keep is not None and code == 0:
            keep.mkdir(parents=True, exist_ok=True)
            for path in built:
                shutil.copy(path, keep)
        return code


def _description_problem(wheel: pathlib.Path) -> str | None:
    """Why the wheel's long description would not stand alone on PyPI, if it would not."""
    with zipfile.ZipFile(wheel) as archive:
        (name,) = (n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = archive.read(name).decode("utf-8")
    relative = re.findall(r"\]\((?!https?://|#|mailto:)([^)\s]+)\)", metadata)
    if relative:
        return f"the wheel's description has relative links: {sorted(set(relative))[:5]}"
    required = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    if any("pytest-asyncio" in line and "extra ==" not in line for line in required):
        return "pytest-asyncio is a dependency of the wheel (it is the asyncio extra)"
    return None


def _package_smoke(fresh: pathlib.Path) -> int:
    """pytest-upgrade check on the demo app, and the Flask example, from the fresh venv."""
    command = str(fresh / BIN.name / "pytest-upgrade")
    unset = {"PYTEST_ADDOPTS", "GITHUB_STEP_SUMMARY"}
    env = {k: v for k, v in os.environ.items() if k not in unset}
    for expected, requirements in PACKAGE_CHECKS:
        args = [command, "check", "--app", "app:app", *requirements]
        print("$ cd examples/demo && " + " ".join(args), flush=True)
        done = subprocess.run(
            args,
            cwd=ROOT / "examples" / "demo",
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        print(done.stdout + done.stderr, flush=True)
        if done.returncode != expected or "Warning" in done.stdout + done.stderr:
            print(
                f"dev.py package: exit code {done.returncode} (expected {expected}),"
                " or a warning was printed",
                file=sys.stderr,
            )
            return 1
    python = str(fresh / BIN.name / "python")
    print("$ cd examples/flask && python -m pytest", flush=True)
    code = subprocess.run(
        [python, "-m", "pytest", "-p", "no:cacheprovider"],
        cwd=ROOT / "examples" / "flask",
        env=env,
        check=False,
    ).returncode
    if code:
        print(f"dev.py package: the Flask example failed (exit code {code})", file=sys.stderr)
        return 1
    print("\ndev.py package: the wheel installs, checks and runs an example from a fresh venv")
    return 0


def test(extra: list[str]) -> int:
    for stale in ROOT.glob(".coverage*"):
        stale.unlink()
    # -m "": the slow tests too (pyproject.toml's addopts leave them out).
    code = run(str(PYTHON), "-m", "coverage", "run", "-m", "pytest", "-n", "2", "-m", "", *extra)
    run(str(PYTHON), "-m", "coverage", "combine", "--quiet")
    run(str(PYTHON), "-m", "coverage", "report")
    return code


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {
        "demo",
        "test",
        "test-min",
        "lint",
        "types",
        "bench",
        "examples",
        "docs",
        "package",
    }:
        print(__doc__)
        return 2
    command, extra = argv[0], argv[1:]
    if command == "test-min":
        minimum = ROOT / "requirements" / "minimum.txt"
        python = ensure_venv(
            VENV.with_name(VENV.name + "-min"), "-c", str(minimum), extras=MIN_EXTRAS
        )
        return run(str(python), "-m", "pytest", "-n", "2", "-p", "no:cacheprovider", *extra)
    if command == "examples":
        return examples(extra)
    if command == "docs":
        return docs()
    if command == "package":
        return package(extra)
    ensure_venv()
    if command == "demo":
        return demo()
    if command == "test":
        return test(extra)
    if command == "lint":
        first = run(str(BIN / "ruff"), "check", ".")
        return run(str(BIN / "ruff"), "format", "--check", ".") or first
    if command == "types":
        return run(str(BIN / "mypy"))
    if "--quick" not in extra:
        sslyze_venv()
    return run(str(PYTHON), "benchmarks/bench.py", *extra)


# SSLyze, for the benchmark's side-by-side row only (benchmarks/sslyze_side.py), in a
# venv of its own: it pins its own cryptography and nassl.
SSLYZE_VERSION = "sslyze==6.3.1"


def sslyze_venv() -> None:
    """Create ``.venvs/sslyze`` with SSLyze; a failure only costs the benchmark that row."""
    where = ROOT / ".venvs" / "sslyze"
    python = where / BIN.name / "python"
    if python.exists():
        return
    print(f"dev.py: installing {SSLYZE_VERSION} into {where}", flush=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(where)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    if subprocess.run([*pip, SSLYZE_VERSION], check=False).returncode != 0:
        print("dev.py: could not install SSLyze: the benchmark leaves its row out", flush=True)
        shutil.rmtree(where, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
