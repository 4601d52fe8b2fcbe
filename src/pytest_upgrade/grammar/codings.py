"""Content codings: the body as the representation's media type sees it (RFC 9110 §8.4).

A response with ``Content-Encoding: gzip`` carries a gzip stream, not the
problem document its ``Content-Type`` names; the codings are undone, last
applied first (§8.4), before the body is judged. ``gzip`` and ``x-gzip``
(§8.4.1.3), ``deflate`` (§8.4.1.2: a zlib stream, though some servers send
raw deflate), ``identity`` and, when a brotli module is installed, ``br``
(RFC 7932) are undone; the decoded size is bounded, so a small compressed
body cannot expand without limit. Pure: bytes in, bytes or the reason out.
"""

from __future__ import annotations

import importlib
import zlib
from dataclasses import dataclass
from types import ModuleType

__all__ = ["DECODED_LIMIT", "Decoded", "decode_content"]

# Bytes of decoded content kept: as much as the probes keep of a raw body.
DECODED_LIMIT = 1024 * 1024


@dataclass(frozen=True)
class Decoded:
    """The body with its codings removed, or why it could not be."""

    body: bytes
    error: str = ""  # names the coding that failed; "" when decoded


def _brotli() -> ModuleType | None:
    for name in ("brotli", "brotlicffi"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


def _inflate(body: bytes, wbits: int) -> bytes:
    decompressor = zlib.decompressobj(wbits)
    data = decompressor.decompress(body, DECODED_LIMIT + 1)
    if len(data) > DECODED_LIMIT:
        return data[:DECODED_LIMIT]
    if not decompressor.eof:
        raise zlib.error("the stream ends before its end marker")
    return data


def _undo(coding: str, body: bytes) -> bytes:
    if coding in ("gzip", "x-gzip"):
        return _inflate(body, 16 + zlib.MAX_WBITS)
    if coding == "deflate":
        try:
            return _inflate(body, zlib.MAX_WBITS)
        except zlib.error:
            return _inflate(body, -zlib.MAX_WBITS)  # raw deflate, as some servers send
    if coding == "br":
        brotli = _brotli()
        if brotli is None:
            raise LookupError("no brotli module is installed to decode it (pip install brotli)")
        data: bytes = brotli.decompress(body)  # the bindings offer no bound; the input is bounded
        return data[:DECODED_LIMIT]
    raise LookupError("an unknown content coding")


def decode_content(content_encoding: str | None, body: bytes) -> Decoded:
    """``body`` with the codings of ``content_encoding`` (a combined field value) undone.

    At most DECODED_LIMIT bytes of it are kept.
    """
    if not content_encoding:
        return Decoded(body)
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
    for coding in reversed(codings):
        if coding == "identity":
            continue
        try:
            body = _undo(coding, body)
        except Exception as exc:  # zlib.error, LookupError, brotli's own error type
            reason = str(exc) or type(exc).__name__
            return Decoded(
                body, f"the body cannot be decoded as Content-Encoding {coding}: {reason}"
            )
    return Decoded(body)
