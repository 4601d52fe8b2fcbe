"""When both probes are rejected with a 4xx: the request itself, not its protocol.

A 4xx (other than 426) to the legacy request *and* to the upgraded one says
the app refuses the request whatever protocol carries it (RFC 9110 §15.5):
the Host it names is not among the app's allowed hosts, a CSRF check or an
authentication requirement refuses it, the route or the method does not
exist. Neither the 426 design nor the upgraded protocol is then shown to
work or not to work; the diagnosis says what usually causes each status and
how to give the probes what the app needs. Pure functions, no I/O.
"""

from __future__ import annotations

from .._evidence import answer_shows
from .._model import Exchange, Observation
from ..protocols.roles import LEGACY
from .preconditions import upgraded_exchanges

__all__ = ["both_rejected", "rejection_diagnosis"]

_BUNDLED_HOST = (
    " The bundled server's probes send Host: 127.0.0.1:PORT: allow it (Starlette/FastAPI"
    " TrustedHostMiddleware allowed_hosts, Django ALLOWED_HOSTS, Flask TRUSTED_HOSTS) or have"
    ' the bundled server present your host name with upgrade_server_options={"virtual_host":'
    ' "api.example.com"}.'
)

_CAUSES: dict[int, str] = {
    400: (
        "A 400 to every protocol usually means the Host is not one the app allows"
        ' ("Invalid host header"), or the request lacks something the route requires'
        " (send it with headers=)."
    ),
    401: (
        "The route requires authentication: give the probes credentials with"
        ' headers={"Authorization": "..."}, or require the upgrade on a route that needs none.'
    ),
    403: (
        "The request is forbidden whatever its protocol: a CSRF check (Django refuses POST,"
        " PUT, PATCH and DELETE without a CSRF token: exempt the route with csrf_exempt, or"
        " send the token and its cookie with headers=), or missing permissions or credentials"
        " (headers=)."
    ),
    404: (
        "The route does not exist on either protocol: check path= (and any mount prefix or"
        " root_path the app is served under)."
    ),
    405: "The method is not allowed on this route: check method= against the route.",
}


def _answered(exchange: Exchange | None) -> int | None:
    if exchange is None or exchange.response is None:
        return None
    status = exchange.response.status
    return status if 400 <= status < 500 and status != 426 else None


def both_rejected(observation: Observation) -> tuple[Exchange, Exchange] | None:
    """The legacy and the upgraded exchange when both were answered with a 4xx (not 426)."""
    legacy = observation.exchange(LEGACY)
    if _answered(legacy) is None:
        return None
    assert legacy is not None
    for exchange in upgraded_exchanges(observation):
        if _answered(exchange) is not None:
            return legacy, exchange
    return None


def rejection_diagnosis(observation: Observation, legacy: Exchange, upgraded: Exchange) -> str:
    """Why both probes were rejected, and what to give them."""
    assert legacy.response is not None
    assert upgraded.response is not None
    status = upgraded.response.status
    text = (
        f"Both probes were rejected ({legacy.response.status} to the legacy request,"
        f" {status} to the upgraded one): the request itself is refused whatever protocol"
        " carries it, so neither the 426 nor the upgraded protocol could be judged."
        f" The upgraded answer: {answer_shows(upgraded.response)}. "
    )
    text += _CAUSES.get(status, "Give the probes what the route requires (headers=, method=).")
    if status == 400 and observation.bundled:
        text += _BUNDLED_HOST
    return text
