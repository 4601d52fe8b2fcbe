"""The package exports the fixture types, typed, without importing the heavy ones up front."""

from __future__ import annotations

import subprocess
import sys

import pytest

import pytest_upgrade
from pytest_upgrade.glue.outcome import UpgradeOutcome
from pytest_upgrade.judge import EvaluationPolicy, RequirementResult, RequirementVerdict, evaluate
from pytest_upgrade.server.bundled import BundledCA, UpgradeServer
from pytest_upgrade.server.policy import PolicyServer


def test_every_exported_name_resolves_to_its_defining_object() -> None:
    assert pytest_upgrade.UpgradeOutcome is UpgradeOutcome
    assert pytest_upgrade.UpgradeServer is UpgradeServer
    assert pytest_upgrade.BundledCA is BundledCA
    assert pytest_upgrade.PolicyServer is PolicyServer
    assert pytest_upgrade.RequirementResult is RequirementResult
    assert pytest_upgrade.RequirementVerdict is RequirementVerdict
    assert pytest_upgrade.EvaluationPolicy is EvaluationPolicy
    assert pytest_upgrade.evaluate is evaluate
    for name in pytest_upgrade.__all__:
        assert getattr(pytest_upgrade, name) is not None


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = pytest_upgrade.Nope  # type: ignore[attr-defined]


def test_importing_the_package_does_not_import_the_server() -> None:
    code = (
        "import sys, pytest_upgrade;"
        " heavy = [m for m in ('hypercorn', 'cryptography', 'httpx') if m in sys.modules];"
        " print(','.join(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == ""
