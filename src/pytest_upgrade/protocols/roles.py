"""The roles every protocol's plan records: the legacy request and the upgraded one.

An exchange's ``role`` says which request of a plan it records. These are
common to every protocol (a protocol's own roles are declared in its module);
the checks find the exchanges they judge by these names.
"""

from __future__ import annotations

__all__ = ["CORS_PREFLIGHT", "LEGACY", "UPGRADED"]

# The request a client without the protocol makes: refused with 426 (RFC 9110 §15.5.22).
LEGACY = "legacy"
# The same request over the protocol the requirement declares: it must succeed.
UPGRADED = "upgraded"
# The CORS preflight a browser application's request would cause, made over the
# legacy protocol (Fetch §4.8).
CORS_PREFLIGHT = "cors-preflight"
