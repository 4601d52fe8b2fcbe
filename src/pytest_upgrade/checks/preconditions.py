"""What the checks share: the requirements they apply to, which exchange is the
426, and how a field of it is shown.
"""

from __future__ import annotations

from .._model import (
    Exchange,
    Observation,
    Response,
)
from ..protocols import REFUSED, version_tuple
from ..protocols.tls import TLS12, TLS13
from .registry import LEGACY

# Every requirement refused with a 426 (TLS ones on their cleartext URL): all but
# h3, which is advertised (Alt-Svc), never asked for by a 426.
ALL = REFUSED
TLS_REQUIREMENTS = (TLS12.token, TLS13.token)


def required_tls(observation: Observation) -> tuple[int, ...]:
    """(1, 3) for a TLS/1.3 requirement."""
    version = version_tuple(observation.requirement.protocol.split("/", 1)[1])
    assert version is not None
    return version


def https_redirect(response: Response) -> str | None:
    """The https Location of a permanent redirect (301/308), or None."""
    location = response.combined("location")
    if response.status in (301, 308) and location and location.lower().startswith("https://"):
        return location
    return None


def _describe_failure(exchange: Exchange) -> str:
    assert exchange.failure is not None
    return exchange.failure.message


def _response(observation: Observation, role: str) -> tuple[Response | None, str]:
    """The response of ``role``, or None and why there is none."""
    exchange = observation.exchange(role)
    if exchange is None:
        return None, f"no {role} probe was made"
    if exchange.response is None:
        reason = _describe_failure(exchange) if exchange.failure else "no response"
        return None, f"the {role} probe got no response: {reason}"
    return exchange.response, ""


def the_426(observation: Observation) -> tuple[Response | None, str]:
    """The legacy response when it is a 426; otherwise None and the skip reason."""
    response, reason = _response(observation, LEGACY)
    if response is None:
        return None, reason
    if response.status != 426:
        return None, f"the legacy request was answered with {response.status}, not 426"
    return response, ""


def show_field(response: Response, name: str) -> str:
    value = response.combined(name)
    return f"{name.title()}: {value}" if value is not None else f"no {name.title()} field"
