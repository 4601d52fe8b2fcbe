"""Waivers files as users write them (docs/reference/waivers.md), for the gate's tests."""

from __future__ import annotations

__all__ = ["ONE_WAIVER"]

# One waiver, every deployment, valid until the end of January 2027.
ONE_WAIVER = """\
[[waiver]]
deployment = "*"
requirement = "h2 /v2/orders"
until = 2027-01-31
reason = "OPS-9"
"""
