"""Whether the 426 may be cached (RFC 9111)."""

from __future__ import annotations

from .._model import (
    Observation,
    Response,
    Severity,
)
from .._verdict import Verdict
from ..grammar import (
    parse_cache_control,
    parse_http_date,
)
from ..protocols import REFUSED
from .preconditions import on_the_426
from .registry import Phase
from .registry import check as _check


@_check(
    "not-cacheable",
    Severity.SHOULD,
    "RFC 9111 §4.2.2, RFC 9110 §15.1",
    "The 426 carries no explicit freshness (max-age, s-maxage, public, a future Expires).",
    REFUSED,
    phase=Phase.REFUSAL,
)
@on_the_426()
def check_not_cacheable(observation: Observation, response: Response) -> Verdict:
    found: list[str] = []
    cache_control = response.combined("cache-control")
    directives = parse_cache_control(cache_control) if cache_control else {}
    if "no-store" not in directives:
        for name in ("max-age", "s-maxage"):
            argument = directives.get(name)
            if name in directives and (
                argument is None or not argument.isdigit() or int(argument) > 0
            ):
                found.append(f"{name}={argument}")
        expires = response.combined("expires")
        explicit = "max-age" in directives or "s-maxage" in directives or expires is not None
        if "public" in directives and not explicit:
            # public permits heuristic freshness, but only where no explicit
            # expiration time is given (RFC 9111 §4.2.2).
            found.append("public")
        if expires is not None and "max-age" not in directives and "s-maxage" not in directives:
            observed = observation.observed_at  # never the clock
            if observed is None:
                return Verdict.skip("no evaluation time to compare Expires with")
            # RFC 9111 §5.3: an invalid Expires means "already expired".
            when = parse_http_date(expires, now=observed)
            # RFC 9111 §4.2.1: freshness counts from the response's own Date.
            now = parse_http_date(response.combined("date") or "", now=observed) or observed
            if when is not None and when > now:
                found.append(f"Expires: {expires} (in the future)")
    actual = ", ".join(
        f"{name.title()}: {response.combined(name)}"
        for name in ("cache-control", "expires")
        if response.combined(name) is not None
    )
    if found:
        return Verdict.violated(
            "the 426 is explicitly cacheable: " + ", ".join(found),
            expected="no explicit freshness on a 426",
            actual=actual,
            diagnosis=(
                "A cache may serve this refusal to clients that already upgraded; a 426 is not"
                " heuristically cacheable, so leave freshness out (or send"
                " Cache-Control: no-store)."
            ),
        )
    return Verdict.ok("the 426 has no explicit freshness", actual=actual or "no cache fields")
