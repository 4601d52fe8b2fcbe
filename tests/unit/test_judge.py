"""The judge: an observation in, a requirement's result out, no sockets."""

from __future__ import annotations

from pytest_upgrade._model import (
    Exchange,
    FailureKind,
    Observation,
    ProbeFailure,
    Requirement,
    Response,
)
from pytest_upgrade.judge import EvaluationPolicy, RequirementVerdict, evaluate, target_error
from support.observations import exchange as build_exchange
from support.observations import observation as build
from support.observations import response

H2 = Requirement("h2", path="/v2/orders")
URL = "https://127.0.0.1:8443/v2/orders"


def exchange(role: str, answer: Response | ProbeFailure) -> Exchange:
    return build_exchange(role, answer, url=URL, offered="HTTP/1.1 over TLS")


def observation(*exchanges: Exchange) -> Observation:
    return build(H2, *exchanges)


def test_an_unreachable_target_cannot_be_evaluated() -> None:
    refused = ProbeFailure(FailureKind.UNREACHABLE, "connection refused")
    ok = response(200, http_version="2")
    error = target_error(observation(exchange("legacy", refused), exchange("upgraded", ok)))
    assert error == "legacy probe (HTTP/1.1 over TLS): connection refused"


def test_a_target_that_answers_nothing_did_not_answer() -> None:
    timeout = ProbeFailure(FailureKind.TIMEOUT, "no answer within 1 s")
    error = target_error(observation(exchange("legacy", timeout), exchange("upgraded", timeout)))
    assert error == "the target did not answer (legacy and upgraded: no answer within 1 s)"


def test_a_target_that_speaks_no_http_is_named_so() -> None:
    garbage = ProbeFailure(FailureKind.PROTOCOL, "not HTTP")
    closed = ProbeFailure(FailureKind.CLOSED, "closed")
    error = target_error(observation(exchange("legacy", garbage), exchange("upgraded", closed)))
    assert error is not None
    assert error.startswith("the target gave no HTTP answer to any probe (")


def test_one_answered_probe_makes_the_rest_findings() -> None:
    closed = ProbeFailure(FailureKind.CLOSED, "the server closed the connection without answering")
    answered = response(426)
    assert (
        target_error(observation(exchange("legacy", answered), exchange("upgraded", closed)))
        is None
    )


def test_a_timeout_is_never_a_finding() -> None:
    timeout = ProbeFailure(FailureKind.TIMEOUT, "no answer within 1 s")
    answered = response(426)
    error = target_error(observation(exchange("legacy", answered), exchange("upgraded", timeout)))
    assert error is not None
    assert error.startswith("upgraded probe (HTTP/1.1 over TLS): no answer within 1 s (no answer")


def test_strict_turns_warnings_into_failures() -> None:
    # A 426 with no body: upgrade checks fail (must), problem checks warn (should).
    refused = response(426, ("upgrade", "HTTP/2.0"), ("connection", "upgrade"))
    ok = response(200, http_version="2")
    observed = observation(exchange("legacy", refused), exchange("upgraded", ok))
    lenient = evaluate(observed, EvaluationPolicy(selected=["problem-media-type"]))
    assert lenient.verdict is RequirementVerdict.WARNED
    assert [f.check_id for f in lenient.warnings] == ["problem-media-type"]
    strict = evaluate(observed, EvaluationPolicy(selected=["problem-media-type"], strict=True))
    assert strict.verdict is RequirementVerdict.FAILED
    assert [f.check_id for f in strict.failed] == ["problem-media-type"]
    assert strict.warnings == ()


def test_nothing_judged_is_skipped_never_passed() -> None:
    assert (
        evaluate(observation(), EvaluationPolicy(selected=["upgrade-present"])).verdict
        is RequirementVerdict.SKIPPED
    )


def test_a_target_that_cannot_be_evaluated_is_an_error_whatever_the_checks_say() -> None:
    refused = ProbeFailure(FailureKind.UNREACHABLE, "connection refused")
    ok = Response(200, "2", ())
    result = evaluate(observation(exchange("legacy", refused), exchange("upgraded", ok)))
    assert result.verdict is RequirementVerdict.ERROR
    assert result.error == "legacy probe (HTTP/1.1 over TLS): connection refused"


def test_require_all_checks_is_an_input_of_the_evaluation() -> None:
    # Nothing to read the problem fields from: problem-body cannot run (a must-check not run).
    refused = Response(426, "1.1", (("upgrade", "HTTP/2.0"), ("connection", "upgrade")))
    ok = Response(200, "2", ())
    observed = observation(exchange("legacy", refused), exchange("upgraded", ok))
    selected = ["upgrade-present", "upgraded-succeeds", "problem-body"]
    lenient = evaluate(observed, EvaluationPolicy(selected=selected))
    required = evaluate(observed, EvaluationPolicy(selected=selected, require_all=True))
    assert [f.check_id for f in lenient.not_run] == ["problem-body"]
    assert (lenient.verdict, required.verdict) == (
        RequirementVerdict.PASSED,
        RequirementVerdict.FAILED,
    )
    assert [f.check_id for f in required.failed] == ["problem-body"]
