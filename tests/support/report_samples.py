"""A hand-made report document (the JSON report's dict) for the renderers' unit tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

AS_OF = "2027-01-15"


def entry(
    nodeid: str,
    verdict: str,
    checks: list[tuple[str, str]],
    *,
    protocol: str = "h2",
    path: str = "/v2/orders",
    after: str | None = None,
    days_left: int | None = None,
    target: str = "https://staging.example:443",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "nodeid": nodeid,
        "requirement": {
            "protocol": protocol,
            "path": path,
            "method": "GET",
            "headers": {},
            "after": after,
        },
        "target": target,
        "as_of": AS_OF,
        "days_left": days_left,
        "verdict": verdict,
        "checks": [
            {
                "id": check_id,
                "severity": "must",
                "outcome": outcome,
                "message": f"{check_id} {outcome}",
                "rfc": "RFC 9110 §15.5.22",
                **({"expected": "426", "actual": "200"} if outcome == "failed" else {}),
            }
            for check_id, outcome in checks
        ],
        "exchanges": [
            {
                "role": "legacy",
                "method": "GET",
                "url": f"{target}{path}",
                "offered": "HTTP/1.1 over TLS, ALPN http/1.1",
                "tls_version": "TLSv1.3",
                "alpn": "http/1.1",
                "response": {
                    "status_line": "HTTP/1.1 426",
                    "status": 426,
                    "headers": [["upgrade", "HTTP/2.0"]],
                },
                "failure": None,
            }
        ],
        "handshakes": [{"version": "TLSv1", "outcome": "refused", "detail": "alert"}],
        "reproduce": [f"curl -sv --http1.1 -o /dev/null {target}{path}"],
        "outcome": "failed" if verdict == "failed" else "passed",
        **extra,
    }


def deadline(after: str) -> dict[str, Any]:
    """An entry's ``after`` and its ``days_left``, counted from ``AS_OF``."""
    return {
        "after": after,
        "days_left": (dt.date.fromisoformat(after) - dt.date.fromisoformat(AS_OF)).days,
    }


DOCUMENT: dict[str, Any] = {
    "version": 1,
    "as_of": AS_OF,
    "results": [
        entry("test_a.py::test_orders", "passed", [("status-426", "passed")]),
        entry(
            "test_a.py::test_reports",
            "failed",
            [("status-426", "failed"), ("upgrade-present", "skipped")],
            path="/reports",
            **deadline("2027-03-01"),  # 45 days left
        ),
        entry(
            "test_b.py::test_ws",
            "warned",
            [("websocket-accept", "passed"), ("deprecation-header", "warned")],
            protocol="websocket",
            path="/ws",
            **deadline("2026-12-01"),  # passed 45 days ago
            target="https://prod.example:443",
        ),
    ],
    "refused": [],
}


# The checks of a passing h2 requirement, as the demo's JSON report gives them.
H2_CHECKS = [
    ("status-426", "passed"),
    ("upgrade-present", "passed"),
    ("upgrade-syntax", "passed"),
    ("upgrade-names-required", "passed"),
    ("connection-upgrade", "passed"),
    ("problem-media-type", "passed"),
    ("problem-fields", "passed"),
    ("cache-control", "passed"),
    ("upgraded-succeeds", "passed"),
    ("upgraded-protocol", "passed"),
    ("tls-legacy-refused", "skipped"),
]


def fleet_document(deployments: int, *, failing_every: int = 500) -> dict[str, Any]:
    """A fleet's document: ``deployments`` × 3 requirements, one in ``failing_every`` failing."""
    results = []
    for n in range(deployments):
        target = f"https://10.{n // 250}.{n % 250}.1:8443 and http://10.{n // 250}.{n % 250}.1:8080"
        for path in ("/v2/orders", "/v2/users", "/v2/reports"):
            failing = n % failing_every == 7 % failing_every and path == "/v2/orders"
            checks = [("status-426", "failed"), *H2_CHECKS[1:]] if failing else H2_CHECKS
            results.append(
                entry(
                    f"upgrade-requirements::test_requirement[n{n} h2 GET {path}]",
                    "failed" if failing else "passed",
                    checks,
                    path=path,
                    target=target,
                    deployment=f"n{n}",
                )
            )
    return {"version": 2, "as_of": AS_OF, "results": results, "refused": []}
