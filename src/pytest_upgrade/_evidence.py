"""What an answer shows about who produced it, for diagnoses that fit the target.

A diagnosis may send people to the app's traceback only when the bundled
server ran the app and recorded one; against a live target (or when nothing
was recorded) it says what the answer itself shows: its status line, the
fields naming the software that produced it (``Server``, RFC 9110 §10.2.4)
or passed it on (``Via``, RFC 9110 §7.6.3), and the start of its body.
Pure functions of recorded values, no I/O.
"""

from __future__ import annotations

from ._model import Observation, Response
from .grammar.codings import Decoded, decode_content

__all__ = ["answer_shows", "content", "excerpt", "failure_diagnosis", "intermediary"]


def content(response: Response) -> Decoded:
    """The body of ``response`` with its content codings removed (RFC 9110 §8.4), bounded."""
    return decode_content(response.combined("content-encoding"), response.body)


def excerpt(body: bytes, limit: int = 200) -> str:
    """The body as one line of text, at most ``limit`` characters."""
    text = " ".join(body.decode("utf-8", "replace").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def intermediary(response: Response) -> str:
    """The Server and Via fields, as "Server: nginx/1.22.1, Via: 1.1 proxy" ("" if neither)."""
    shown = [
        f"{name}: {response.combined(name.lower())}"
        for name in ("Server", "Via")
        if response.combined(name.lower()) is not None
    ]
    return ", ".join(shown)


def answer_shows(response: Response) -> str:
    """The status line, the Server/Via fields and a body excerpt of ``response``."""
    parts = [response.status_line]
    if fields := intermediary(response):
        parts.append(fields)
    decoded = content(response)
    if text := excerpt(response.body if decoded.error else decoded.body, 120):
        parts.append(f"body {text!r}")
    return ", ".join(parts)


def failure_diagnosis(observation: Observation, response: Response, what: str) -> str:
    """A diagnosis for a 5xx answer to ``what`` ("the legacy request", ...)."""
    if observation.app_errors:
        return (
            f"The server failed while handling {what}; the traceback is shown below (the app"
            " raised while serving the probes, or its framework caught the exception, answered"
            " 500 and logged it)."
        )
    shows = answer_shows(response)
    if observation.bundled:
        return (
            f"The bundled server answered {what} with {shows}. No exception reached the server"
            " and none was logged while the probes ran: the app chose this status (or its"
            " framework's error handling did, which may log only a message: see the captured"
            " log), or the server answered before calling it."
        )
    return (
        f"The target failed on {what}: it answered {shows}. Its log (or the log of the proxy"
        " named by Server/Via) says why; a 5xx from a proxy usually means its backend is"
        " unreachable or answered something it could not forward."
    )
