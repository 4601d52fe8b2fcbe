"""What a protocol's probe plan is made of: the requirement's request as the probes
send it, and a stand-in probe where the target has no URL of the scheme needed.

The probes (``probes/``) take a connection spec and a request and know nothing
of requirements; these turn a :class:`~pytest_upgrade._model.Requirement` into
what they take.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from .._credentials import expand, merge
from .._model import Exchange, FailureKind, ProbeFailure, Requirement
from ..probes.spec import Request
from ..probes.target import Probe, Target

__all__ = ["Plan", "declared_headers", "missing", "request_headers", "requirement_request"]

# What a protocol sends for a requirement: (requirement, target, timeout) -> probes.
Plan = Callable[[Requirement, Target, float], list[Probe]]


def missing(role: str, requirement: Requirement, needs: str) -> Probe:
    """A probe that records why it could not be made: the target lacks a URL."""

    def probe() -> Exchange:
        return Exchange(
            role=role,
            url="",
            method=requirement.method,
            offered="",
            failure=ProbeFailure(
                FailureKind.NOT_APPLICABLE,
                f"the target has no {needs} URL, which the {requirement.protocol} requirement"
                " is tested over",
            ),
        )

    return probe


def declared_headers(requirement: Requirement, target: Target) -> tuple[tuple[str, str], ...]:
    """The headers the requirement's request carries, as declared (``${NAME}`` unexpanded).

    With an ``origin``, the request is a browser application's: it carries
    ``Origin`` (Fetch §3.1); without one, no ``Origin`` is sent unasked.
    """
    origin = (("Origin", requirement.origin),) if requirement.origin else ()
    return merge(target.headers, requirement.headers, origin)


def request_headers(requirement: Requirement, target: Target) -> tuple[tuple[str, str], ...]:
    """The headers the requirement's request carries, ``${NAME}`` taken from the environment.

    The glue checked, when the run started, that every variable named is set.
    """
    return expand(declared_headers(requirement, target), os.environ)


def requirement_request(requirement: Requirement, target: Target) -> Request:
    """The request the requirement declares, as the probes send it to ``target``."""
    return Request(requirement.method, requirement.path, request_headers(requirement, target))
