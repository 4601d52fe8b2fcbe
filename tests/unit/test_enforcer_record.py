"""The enforcer's record: a refusal is recorded, whole, before its 426 is sent (issue 27)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from pytest_upgrade.server import enforce
from pytest_upgrade.server.enforce import Enforcer, Refused


def test_a_refusal_is_recorded_when_decided() -> None:
    enforcer = Enforcer(session=("h2",))
    enforcer.begin_test("test_a.py::test_orders")
    refusal = enforcer.decide("GET", "/orders", "https", "1.1")
    # The caller sends the 426 only now; the record already holds it.
    assert refusal is not None
    assert enforcer.end_test() == [
        Refused(
            "GET", "/orders", "HTTP/1.1 over https", "HTTP/2 over TLS", "test_a.py::test_orders"
        )
    ]


def test_a_test_ending_while_a_refusal_is_decided_does_not_lose_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The test ends (end_test on the test's thread) while the server's thread
    # is deciding: the refusal is either the ending test's or the next one's,
    # never recorded under a test that has already collected its refusals.
    enforcer = Enforcer(session=("h2",))
    enforcer.begin_test("test_a.py::test_orders")
    real = enforce.refusal_for
    ended: list[list[Refused]] = []
    ender = threading.Thread(target=lambda: ended.append(enforcer.end_test()))

    def slow_refusal_for(*args: Any, **kwargs: Any) -> Any:
        ender.start()
        ender.join(0.3)  # it is done by now unless decide() holds the record
        return real(*args, **kwargs)

    monkeypatch.setattr(enforce, "refusal_for", slow_refusal_for)
    assert enforcer.decide("GET", "/orders", "https", "1.1") is not None
    ender.join(5)
    assert [[r.test for r in mine] for mine in ended] == [["test_a.py::test_orders"]]
    assert enforcer.end_test() == []
