"""The pure parts behind issue 31: content codings, both probes rejected, the app's own
HTTP/2 fields, the enforcer's probe bypass and its refusals outside a test."""

from __future__ import annotations

import dataclasses
import gzip
import logging
import threading
import zlib

import pytest
from test_checks import h2_response, legacy_response, make_observation

from pytest_upgrade._model import Observation, Outcome, Severity
from pytest_upgrade.checks.catalogue import REGISTRY
from pytest_upgrade.grammar.codings import DECODED_LIMIT, decode_content
from pytest_upgrade.server.body import DISCARD_LIMIT, discard_wsgi_input
from pytest_upgrade.server.enforce import Enforcer
from pytest_upgrade.server.logged import logged_exceptions
from pytest_upgrade.server.virtual_host import check_virtual_host

PROBLEM = b'{"title": "Upgrade Required", "status": 426, "detail": "requires HTTP/2"}'


# -- content codings (RFC 9110 §8.4) -------------------------------------------


@pytest.mark.parametrize(
    ("coding", "encoded"),
    [
        ("gzip", gzip.compress(PROBLEM, mtime=0)),
        ("x-gzip", gzip.compress(PROBLEM, mtime=0)),
        ("deflate", zlib.compress(PROBLEM)),
        ("deflate", zlib.compress(PROBLEM)[2:-4]),  # raw deflate, as some servers send
        ("identity", PROBLEM),
        (None, PROBLEM),
    ],
    ids=["gzip", "x-gzip", "deflate", "raw-deflate", "identity", "none"],
)
def test_codings_are_removed(coding: str | None, encoded: bytes) -> None:
    decoded = decode_content(coding, encoded)
    assert (decoded.body, decoded.error) == (PROBLEM, "")


def test_codings_are_removed_last_applied_first() -> None:
    twice = gzip.compress(zlib.compress(PROBLEM))
    assert decode_content("deflate, gzip", twice).body == PROBLEM


def test_a_body_that_cannot_be_decoded_names_its_coding() -> None:
    assert "Content-Encoding gzip" in decode_content("gzip", b"not gzip").error
    assert "Content-Encoding compress" in decode_content("compress", b"x").error
    cut = gzip.compress(PROBLEM, mtime=0)[:-12]
    assert "Content-Encoding gzip" in decode_content("gzip", cut).error


def test_decoding_is_bounded() -> None:
    bomb = gzip.compress(b"\0" * 10_000_000)
    decoded = decode_content("gzip", bomb)
    assert (len(decoded.body), decoded.error) == (DECODED_LIMIT, "")


def test_br_is_decoded_where_a_brotli_module_is_installed() -> None:
    try:
        import brotli
    except ImportError:
        assert "brotli" in decode_content("br", b"\x0b\x02\x80ok\x03").error
        return
    assert decode_content("br", brotli.compress(PROBLEM)).body == PROBLEM


def test_problem_body_judges_the_decoded_426() -> None:
    coded = legacy_response(body=gzip.compress(PROBLEM), extra=(("content-encoding", "gzip"),))
    finding = REGISTRY["problem-body"].run(make_observation(coded))
    assert finding.outcome is Outcome.PASSED
    broken = legacy_response(body=b"\x1f\x8bjunk", extra=(("content-encoding", "gzip"),))
    finding = REGISTRY["problem-body"].run(make_observation(broken))
    assert finding.outcome is Outcome.FAILED
    assert "Content-Encoding gzip" in finding.actual


# -- both probes rejected (RFC 9110 §15.5) -----------------------------------------


def _rejected(status: int, *, bundled: bool = True) -> Observation:
    legacy = legacy_response(status, upgrade=None, connection=(), body=b"Invalid host header")
    upgraded = dataclasses.replace(h2_response(status), body=b"Invalid host header")
    return dataclasses.replace(make_observation(legacy, upgraded), bundled=bundled)


@pytest.mark.parametrize(
    ("status", "says"),
    [
        (400, "TrustedHostMiddleware"),
        (401, "Authorization"),
        (403, "CSRF"),
        (404, "path="),
        (405, "method="),
        (418, "headers="),
    ],
)
def test_a_4xx_to_both_probes_is_a_warning_with_its_cause(status: int, says: str) -> None:
    finding = REGISTRY["upgraded-succeeds"].run(_rejected(status))
    assert finding.outcome is Outcome.WARNED
    assert finding.severity is Severity.SHOULD
    assert f"the request itself was rejected ({status})" in finding.message
    assert says in finding.diagnosis
    status_426 = REGISTRY["status-426"].run(_rejected(status))
    assert status_426.outcome is Outcome.FAILED
    assert status_426.diagnosis.startswith("Both probes were rejected")


def test_the_virtual_host_advice_is_for_the_bundled_server_only() -> None:
    live = REGISTRY["upgraded-succeeds"].run(_rejected(400, bundled=False))
    assert "virtual_host" not in live.diagnosis
    assert "virtual_host" in REGISTRY["upgraded-succeeds"].run(_rejected(400)).diagnosis


def test_a_4xx_to_the_upgraded_probe_alone_is_within_the_rule_but_not_called_success() -> None:
    finding = REGISTRY["upgraded-succeeds"].run(make_observation(upgraded=h2_response(404)))
    assert finding.outcome is Outcome.PASSED
    assert finding.message == "the upgraded request was answered with 404: neither 426 nor 5xx"


# -- h2-no-connection-headers on the bundled server (RFC 9113 §8.2.2) -------------


def _bundled(app_headers: tuple[tuple[str, str], ...] | None) -> Observation:
    observation = make_observation()
    exchanges = tuple(
        dataclasses.replace(e, app_headers=app_headers) if e.role == "upgraded" else e
        for e in observation.exchanges
    )
    return dataclasses.replace(observation, bundled=True, exchanges=exchanges)


def test_the_apps_own_fields_are_judged_on_the_bundled_server() -> None:
    check = REGISTRY["h2-no-connection-headers"]
    finding = check.run(_bundled((("upgrade", "HTTP/2.0"), ("content-type", "text/plain"))))
    assert finding.outcome is Outcome.FAILED
    assert "upgrade: HTTP/2.0 (upgraded)" in finding.actual
    assert "hypercorn drops them" in finding.diagnosis
    assert check.run(_bundled((("content-type", "text/plain"),))).outcome is Outcome.PASSED


def test_without_the_apps_answer_the_bundled_server_cannot_pass_it() -> None:
    finding = REGISTRY["h2-no-connection-headers"].run(_bundled(None))
    assert finding.outcome is Outcome.SKIPPED
    assert "hypercorn" in finding.message


# -- the enforcer ------------------------------------------------------------------


def test_the_enforcer_never_answers_while_probes_run() -> None:
    enforcer = Enforcer(session=("h2",))
    enforcer.begin_test("test_a.py::test_x")
    with enforcer.probing():
        assert enforcer.decide("GET", "/", "https", "1.1") is None
    assert enforcer.decide("GET", "/", "https", "1.1") is not None
    assert [r.path for r in enforcer.end_test()] == ["/"]


def test_refusals_outside_a_test_are_kept_until_taken() -> None:
    enforcer = Enforcer(session=("h2",))
    assert enforcer.decide("POST", "/login", "https", "1.1") is not None  # a session fixture
    enforcer.begin_test("test_a.py::test_x")
    assert enforcer.decide("GET", "/orders", "https", "1.1") is not None
    assert [r.path for r in enforcer.end_test()] == ["/orders"]
    outside = enforcer.outside_tests()
    assert [(r.path, r.test) for r in outside] == [("/login", "")]
    assert enforcer.outside_tests() == []


def test_a_wsgi_body_is_read_up_to_its_length_and_the_bound() -> None:
    import io

    environ = {"wsgi.input": io.BytesIO(b"x" * 1000), "CONTENT_LENGTH": "1000"}
    assert discard_wsgi_input(environ) == 1000

    class Endless:
        def read(self, size: int) -> bytes:
            return b"x" * size

    environ = {"wsgi.input": Endless(), "CONTENT_LENGTH": str(DISCARD_LIMIT + 1000)}
    assert discard_wsgi_input(environ) == DISCARD_LIMIT
    assert discard_wsgi_input({"CONTENT_LENGTH": "bogus"}) == 0


# -- the virtual host and logged exceptions ---------------------------------------


@pytest.mark.parametrize("bad", ["", "a b", "http://x", "x/y", 42])
def test_a_bad_virtual_host_is_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="virtual_host"):
        check_virtual_host(bad)


def test_logged_exceptions_are_collected_from_any_thread() -> None:
    def view() -> None:
        try:
            raise KeyError("report_template")
        except KeyError:
            logging.getLogger("flask.app").exception("Exception on /v2/report [GET]")
        logging.getLogger("flask.app").error("no traceback, not kept")

    with logged_exceptions() as logged:
        worker = threading.Thread(target=view)
        worker.start()
        worker.join()
    (record,) = logged.drain()
    assert record.startswith("logged by flask.app: Exception on /v2/report [GET]")
    assert "KeyError: 'report_template'" in record


def test_a_host_header_on_the_marker_points_at_the_virtual_host() -> None:
    from pytest_upgrade._requirements import parse_requirement

    with pytest.raises(ValueError, match=r"virtual_host"):
        parse_requirement(("h2",), {"headers": {"Host": "api.example.com"}})
