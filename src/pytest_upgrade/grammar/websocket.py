"""The fixed values of the WebSocket opening handshake (RFC 6455).

Pure: a field value or body in, a value out; nothing raises on malformed input.
"""

from __future__ import annotations

import base64
import hashlib

# RFC 6455 §1.3: the GUID appended to the key before hashing.
# The Sec-WebSocket-Version the version probe sends. RFC 6455 §4.4 lets a
# server support several versions, and the IANA "WebSocket Version Number"
# registry (RFC 6455 §11.6) assigns 0-8 to the hybi drafts, reserves 9-12 and
# gives 13 to RFC 6455; servers legitimately accept drafts 7 and 8 (aiohttp
# does). 99 is syntactically valid (§4.3 allows 0-255) and unassigned in that
# registry, so no implementation can claim to support it: a 101 to it is a
# fault, and a refusal listing the supported versions is the answer §4.2.2
# requires.
UNASSIGNED_WEBSOCKET_VERSION = "99"

WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def expected_accept(key: str) -> str:
    """Sec-WebSocket-Accept for ``key``: base64(SHA-1(key + GUID)) (RFC 6455 §4.2.2)."""
    # A valid key is base64 (ASCII); anything else still hashes, as UTF-8.
    digest = hashlib.sha1((key + WEBSOCKET_GUID).encode("utf-8", "replace"), usedforsecurity=False)
    return base64.b64encode(digest.digest()).decode("ascii")
