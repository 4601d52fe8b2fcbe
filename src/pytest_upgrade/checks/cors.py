"""A 426 a browser application can read: CORS on the refusal (Fetch standard §3.2).

A page calling an API from another origin sees a response only if the
response passes the CORS check (Fetch §4.10): without
``Access-Control-Allow-Origin`` the page gets a network error, "TypeError:
Failed to fetch", and none of the 426's status, Upgrade field or problem
detail (RFC 9110 §15.5.22: the 426 is there to tell the client what to do).
These checks run only for a requirement with an ``origin``: the probes then
send ``Origin`` (and the preflight a non-simple request needs); without one,
no ``Origin`` is ever sent unasked, and these checks are neither run nor
listed.
"""

from __future__ import annotations

from .._model import Observation, Requirement, Response, Severity
from .._verdict import Verdict
from ..grammar.cors import allows_origin, preflight_allows
from ..protocols import PROTOCOLS
from ..protocols.roles import CORS_PREFLIGHT, UPGRADED
from .preconditions import the_426
from .registry import Phase
from .registry import check as _check

# Every refusable protocol whose request a browser makes as a CORS request.
CORS_PROTOCOLS = tuple(p.token for p in PROTOCOLS.values() if p.cors and p.legacy_refused)

_NO_ORIGIN = "no origin given (origin=, --upgrade-origin): no Origin is sent unasked"


def _with_origin(requirement: Requirement) -> bool:
    # Without an origin the checks are not run at all: a report of a requirement
    # that names no browser application is the same as before they existed.
    return requirement.origin is not None


_FIXES = (
    " Order the CORS middleware before (outside) the protocol check, so that it decorates"
    " every answer: Starlette/FastAPI `app.add_middleware(CORSMiddleware, …)` after adding the"
    " 426 middleware (the last added runs first), Django `corsheaders.middleware.CorsMiddleware`"
    " first in MIDDLEWARE, Express `app.use(cors())` before the check; nginx"
    " `add_header Access-Control-Allow-Origin … always;` (without `always`, nginx adds it to"
    " 2xx and 3xx answers only)."
)


def _asked_headers(sent: tuple[tuple[str, str], ...]) -> list[str]:
    """The names the preflight listed in Access-Control-Request-Headers."""
    values = [value for name, value in sent if name.lower() == "access-control-request-headers"]
    return [n.strip().lower() for value in values for n in value.split(",") if n.strip()]


def _allows(response: Response, origin: str, *, credentialed: bool) -> tuple[bool, str]:
    answer = allows_origin(
        response.values("access-control-allow-origin"),
        response.values("access-control-allow-credentials"),
        origin,
        credentialed=credentialed,
    )
    return answer.allowed, answer.why


def _upgraded_allows(observation: Observation, origin: str) -> tuple[bool, bool, str]:
    """(the upgraded answer allows ``origin``, with credentials, what it carries)."""
    exchange = observation.exchange(UPGRADED)
    if exchange is None or exchange.response is None:
        return False, False, "no upgraded answer"
    response = exchange.response
    credentialed = response.values("access-control-allow-credentials") == ["true"]
    allowed, why = _allows(response, origin, credentialed=credentialed)
    return allowed, credentialed, why


@_check(
    "cors-on-refusal",
    Severity.SHOULD,
    "Fetch §3.2, RFC 9110 §15.5.22",
    "When the upgraded answer lets the requirement's origin read it, the 426 does too.",
    CORS_PROTOCOLS,
    phase=Phase.REFUSAL,
    applies=_with_origin,
)
def check_cors_on_refusal(observation: Observation) -> Verdict:
    origin = observation.requirement.origin
    if origin is None:
        return Verdict.skip(_NO_ORIGIN)
    refusal, reason = the_426(observation)
    if refusal is None:
        return Verdict.not_applicable(reason)
    upgraded, credentialed, upgraded_shows = _upgraded_allows(observation, origin)
    allowed, shows = _allows(refusal, origin, credentialed=credentialed)
    actual = f"426: {shows}; upgraded answer: {upgraded_shows}"
    if not upgraded:
        # Nothing to compare with: the API does not serve this origin at all.
        return Verdict.violated(
            f"the upgraded answer does not let {origin} read it either, so neither does a"
            " 426 need to",
            actual=actual,
            severity=Severity.INFO,
        )
    expected = (
        f"Access-Control-Allow-Origin: {origin} and Access-Control-Allow-Credentials: true"
        if credentialed
        else f"Access-Control-Allow-Origin: * or {origin}"
    )
    if allowed:
        return Verdict.ok(f"the 426 lets {origin} read it", expected=expected, actual=actual)
    return Verdict.violated(
        f"the 426 does not let {origin} read it, while the upgraded answer does",
        expected=expected,
        actual=actual,
        diagnosis=(
            "A page on that origin gets a network error (TypeError: Failed to fetch) instead of"
            " the 426, so it cannot tell its users to upgrade (Fetch §4.10)." + _FIXES
        ),
    )


@_check(
    "cors-preflight-not-refused",
    Severity.SHOULD,
    "Fetch §4.8, RFC 9110 §15.5.22",
    "A CORS preflight over the legacy protocol succeeds, so the page sees the 426 of its request.",
    CORS_PROTOCOLS,
    phase=Phase.REFUSAL,
    applies=_with_origin,
)
def check_cors_preflight(observation: Observation) -> Verdict:
    requirement = observation.requirement
    origin = requirement.origin
    if origin is None:
        return Verdict.skip(_NO_ORIGIN)
    exchange = observation.exchange(CORS_PREFLIGHT)
    if exchange is None:
        return Verdict.not_applicable(
            f"a {requirement.method} with only CORS-safelisted headers needs no preflight"
            " (Fetch §4.1)"
        )
    if exchange.response is None:
        failure = exchange.failure.message if exchange.failure else "nothing recorded"
        return Verdict.skip(f"the preflight got no answer: {failure}")
    upgraded, credentialed, upgraded_shows = _upgraded_allows(observation, origin)
    response = exchange.response
    fields: dict[str, list[str]] = {}
    for name, value in response.headers:
        fields.setdefault(name, []).append(value)
    answer = preflight_allows(
        response.status,
        fields,
        method=requirement.method,
        request_headers=_asked_headers(exchange.request_headers),
        origin=origin,
        credentialed=credentialed,
    )
    actual = f"OPTIONS → {response.status_line}: {answer.why}"
    if answer.allowed:
        return Verdict.ok("the preflight over the legacy protocol succeeds", actual=actual)
    if not upgraded:
        return Verdict.violated(
            f"the preflight fails ({answer.why}), but the upgraded answer does not let {origin}"
            " read it either",
            actual=f"{actual}; upgraded answer: {upgraded_shows}",
            severity=Severity.INFO,
        )
    return Verdict.violated(
        f"the preflight over the legacy protocol fails: {answer.why}",
        expected=f"2xx with CORS fields allowing {origin} and {requirement.method}",
        actual=actual,
        diagnosis=(
            "A failed preflight is a network error to the page: it never sends its request, so"
            " it never sees the 426 (Fetch §4.8). Answer OPTIONS preflights (they carry"
            " Access-Control-Request-Method) before the protocol check, whatever the protocol:"
            " a preflight is answered with 2xx, never 426." + _FIXES
        ),
    )
