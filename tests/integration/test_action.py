"""The CI kit: the workflows and action.yml against their published schemas, and the
action's shell steps run as GitHub runs them, with stand-ins for the GITHUB_* files.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
from typing import Any

import pytest

from support.processes import run_process

ROOT = pathlib.Path(__file__).parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
DEMO_APP = ROOT / "examples" / "demo" / "app.py"


def _check_jsonschema(schema: str, *files: pathlib.Path) -> subprocess.CompletedProcess[str]:
    pytest.importorskip("check_jsonschema", reason="check-jsonschema is not installed")
    argv = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *map(str, files)]
    return run_process(argv, cwd=ROOT)


def test_the_workflows_match_the_published_schema() -> None:
    assert {p.name for p in WORKFLOWS} >= {"ci.yml", "release.yml"}
    done = _check_jsonschema("vendor.github-workflows", *WORKFLOWS)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_action_matches_the_published_schema(tmp_path: pathlib.Path) -> None:
    done = _check_jsonschema("vendor.github-actions", ROOT / "action.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    # The check can fail: an action without its `runs` is refused.
    broken = tmp_path / "action.yml"
    broken.write_text((ROOT / "action.yml").read_text().replace("runs:", "walks:"))
    assert _check_jsonschema("vendor.github-actions", broken).returncode == 1


def _load(path: pathlib.Path) -> Any:
    yaml = pytest.importorskip("ruamel.yaml", reason="ruamel.yaml is not installed")
    return yaml.YAML(typ="safe").load(path.read_text())


_EXPRESSION = re.compile(r"\$\{\{\s*(inputs\.([\w-]+)|steps\.([\w-]+)\.outputs\.([\w-]+))\s*\}\}")


def _outputs(path: pathlib.Path) -> dict[str, str]:
    lines = path.read_text().splitlines() if path.exists() else []
    return dict(line.split("=", 1) for line in lines if "=" in line)


def run_action(workdir: pathlib.Path, **given: str) -> dict[str, Any]:
    """Run action.yml's shell steps in order as a GitHub runner would (bash -eo pipefail).

    Stand-ins: the steps that `uses:` another action (setup-python,
    upload-artifact) are recorded, not run; the install step is this
    environment's own installation, first on PATH.
    """
    action = _load(ROOT / "action.yml")
    inputs = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    assert set(given) <= set(inputs), set(given) - set(inputs)
    inputs.update(given)
    github = workdir / ".github-files"
    github.mkdir()
    summary = github / "step_summary.md"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "PYTEST_"))}
    env["PATH"] = f"{pathlib.Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env.update(GITHUB_STEP_SUMMARY=str(summary), GITHUB_ACTION_PATH=str(ROOT))
    steps: dict[str, dict[str, str]] = {}
    log: list[tuple[str, int | None, str]] = []

    def resolve(text: str) -> str:
        def value(match: re.Match[str]) -> str:
            if match.group(2):
                return inputs[match.group(2)]
            return steps.get(match.group(3), {}).get(match.group(4), "")

        return _EXPRESSION.sub(value, text)

    for index, step in enumerate(action["runs"]["steps"]):
        name = step.get("id", f"step{index}")
        if "uses" in step or name == "install":
            log.append((name, None, step.get("uses", "stand-in: this installation")))
            continue
        output = github / f"output-{name}"
        script = github / f"{name}.sh"
        script.write_text(step["run"])
        step_env = {**env, "GITHUB_OUTPUT": str(output)}
        step_env.update({k: resolve(str(v)) for k, v in step.get("env", {}).items()})
        bash = ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)]
        done = run_process(bash, cwd=workdir, env=step_env, timeout=180)
        steps[name] = _outputs(output)
        log.append((name, done.returncode, done.stdout + done.stderr))
    outputs = {name: resolve(str(spec["value"])) for name, spec in action["outputs"].items()}
    return {"outputs": outputs, "log": log, "summary": summary}


@pytest.fixture
def workdir(tmp_path: pathlib.Path) -> pathlib.Path:
    shutil.copy(DEMO_APP, tmp_path / "app.py")
    return tmp_path


def test_a_failing_gate_reports_counts_summary_and_fails_last(workdir: pathlib.Path) -> None:
    ran = run_action(
        workdir,
        require="h2 /v2/orders\n  h2 /reports\n\n",
        args="--app=app:app",
        **{"as-of": "2026-12-01", "python-version": ""},
    )
    codes = {name: code for name, code, _ in ran["log"]}
    assert codes["gate"] == 0, ran["log"]
    assert codes["counts"] == 0, ran["log"]
    assert codes["verdict"] == 1
    verdict_log = next(text for name, _, text in ran["log"] if name == "verdict")
    assert "::error title=pytest-upgrade::the gate failed (exit code 1" in verdict_log
    outputs = ran["outputs"]
    assert outputs["exit-code"] == "1"
    assert (outputs["total"], outputs["passed"], outputs["failed"]) == ("2", "1", "1")
    assert (outputs["warned"], outputs["skipped"], outputs["error"]) == ("0", "0", "0")
    reports = workdir / outputs["report-dir"]
    assert sorted(p.name for p in reports.iterdir()) == ["report.html", "report.json", "summary.md"]
    assert len(json.loads((reports / "report.json").read_text())["results"]) == 2
    # The plugin appended the same Markdown summary to the job's page.
    assert ran["summary"].read_text().strip() == (reports / "summary.md").read_text().strip()
    assert codes["install"] is None  # stand-in
    assert [n for n, c, _ in ran["log"] if c is None] == ["step0", "install", "step4"]


def test_a_passing_gate_passes(workdir: pathlib.Path) -> None:
    ran = run_action(
        workdir,
        require="h2 /v2/orders",
        headers="X-Gate: ${HOME}\nX-Other: two words",
        args="--app=app:app -v",
        strict="true",
    )
    codes = {name: code for name, code, _ in ran["log"]}
    assert codes["verdict"] == 0, ran["log"]
    assert ran["outputs"]["exit-code"] == "0"
    assert (ran["outputs"]["total"], ran["outputs"]["passed"]) == ("1", "1")
    report = json.loads((workdir / "pytest-upgrade-report" / "report.json").read_text())
    assert report["results"][0]["verdict"] == "passed"


def test_a_bad_input_is_a_usage_error_with_empty_counts(workdir: pathlib.Path) -> None:
    ran = run_action(workdir, targets="not-a-url", require="h2 /")
    codes = {name: code for name, code, _ in ran["log"]}
    assert ran["outputs"]["exit-code"] == "4"
    assert ran["outputs"]["total"] == "0"
    assert codes["verdict"] == 4
    gate_log = next(text for name, _, text in ran["log"] if name == "gate")
    assert "'not-a-url' is not an http:// or https:// URL" in gate_log
