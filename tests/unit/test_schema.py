"""The JSON report's types (report.schema) are what its writers write."""

from __future__ import annotations

import datetime as dt

from pytest_upgrade import evaluate
from pytest_upgrade._model import FailureKind, Requirement
from pytest_upgrade.report.results import requirement_to_json, result_to_json, unevaluated_result
from pytest_upgrade.report.schema import Check, ExchangeJSON, RequirementJSON, Result
from support.observations import exchange, failure, observation, response


def _keys(kind: type) -> frozenset[str]:
    return kind.__required_keys__ | kind.__optional_keys__


def _shaped(value: dict[str, object], kind: type) -> bool:
    """Every required key of ``kind`` is there, and no key ``kind`` lacks."""
    return kind.__required_keys__ <= set(value) <= _keys(kind)


def test_a_result_has_the_keys_of_its_types() -> None:
    requirement = Requirement("h2", path="/v2/orders", after=dt.date(2027, 3, 1))
    legacy = exchange("legacy", response(200))
    upgraded = exchange("upgraded", failure(FailureKind.TIMEOUT, "no answer"))
    result = evaluate(observation(requirement, legacy, upgraded, as_of=dt.date(2027, 1, 1)))
    data = result_to_json(result)
    assert _shaped(dict(data), Result)
    assert _shaped(dict(data["requirement"]), RequirementJSON)
    assert data["checks"]
    assert all(_shaped(dict(check), Check) for check in data["checks"])
    assert [set(e) for e in data["exchanges"]] == [set(_keys(ExchangeJSON))] * 2
    assert data["days_left"] == 59


def test_a_requirement_no_check_ran_for_is_described_as_any_other() -> None:
    requirement = Requirement(
        "h2", headers=(("Authorization", "Bearer s3cret"),), origin="https://app.example"
    )
    entry = unevaluated_result(requirement, "the bundled server", "error", "Timeout >2.0s")
    assert _shaped(dict(entry), Result)
    assert entry["requirement"] == requirement_to_json(requirement)
    assert entry["requirement"]["origin"] == "https://app.example"
    assert "s3cret" not in str(entry)
    assert (entry["verdict"], entry["error"]) == ("error", "Timeout >2.0s")
