"""Expected check outcomes, as an inner run's JSON report gives them (check id → outcome).

The server-matrix and third-party tests compare a requirement's whole table, so
that a check that appears, disappears or changes its outcome fails the test.
The tables here are the parts many servers share; each test adds the rows
that are its own server's (a later key wins: ``{**TEXT_426, "connection-upgrade":
"failed"}``).
"""

from __future__ import annotations

from support.observations import ON_THE_426

__all__ = [
    "H2_OVER_TLS",
    "H2_UPGRADED",
    "NO_426",
    "PROBLEM_426",
    "TEXT_426",
    "WEBSOCKET_UPGRADED",
]

# A 426 with everything RFC 9110 §15.5.22 and RFC 9457 ask of it.
PROBLEM_426 = {"status-426": "passed", **dict.fromkeys(ON_THE_426, "passed")}

# A correct 426 whose body is a server's own text, not application/problem+json:
# a should-level warning, and nothing to read as a problem document.
TEXT_426 = {
    **PROBLEM_426,
    "problem-media-type": "warned",
    "problem-body": "skipped",
    "problem-actionable": "skipped",
}

# No 426 to the legacy request: none of the checks that read one can run.
NO_426 = {"status-426": "failed", **dict.fromkeys(ON_THE_426, "skipped")}

# HTTP/2 answered, without connection-specific fields (RFC 9113 §8.2.2); only
# the 426 and an HTTP/2 answer, so no switchable answer to offer an Upgrade on.
H2_UPGRADED = {
    "upgrade-unswitchable": "skipped",
    "upgraded-succeeds": "passed",
    "upgraded-protocol": "passed",
    "h2-no-connection-headers": "passed",
}

# The same over TLS, chosen by ALPN (RFC 9113 §3.2), and TLS 1.0/1.1 refused.
H2_OVER_TLS = {**H2_UPGRADED, "tls-legacy-refused": "passed"}

# Both handshakes (wss:// and ws://) got 101 with the right accept value: the
# positive evidence that nothing stripped them; no subprotocol was offered and
# the 101s name none (RFC 6455 §4.2.2 step 5.4).
WEBSOCKET_UPGRADED = {
    "upgrade-stripped": "passed",
    "upgraded-succeeds": "passed",
    "upgraded-protocol": "passed",
    "websocket-accept": "passed",
    "websocket-subprotocol": "passed",
}
