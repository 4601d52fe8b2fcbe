"""The body of the 426: an RFC 9457 problem that says what to do."""

from __future__ import annotations

from .._evidence import content, excerpt
from .._model import (
    Observation,
    Response,
    Severity,
)
from .._verdict import Verdict
from ..grammar import (
    is_uri_reference,
    parse_media_type,
    parse_problem_json,
)
from ..protocols import REFUSED, protocol_for
from .preconditions import on_the_426
from .registry import Phase
from .registry import check as _check


def _problem(response: Response) -> tuple[dict[str, object] | None, str]:
    """The problem+json object of ``response``, or None and why not."""
    media_type = parse_media_type(response.combined("content-type") or "")
    if media_type is None or media_type.essence != "application/problem+json":
        return None, "the 426 is not application/problem+json (see problem-media-type)"
    if response.body_truncated:
        return None, "the 426 body is larger than the read limit and was not parsed"
    decoded = content(response)
    if decoded.error:
        return None, decoded.error
    document = parse_problem_json(decoded.body)
    if document.members is None:
        return None, document.error or "the body is not a JSON object"
    return document.members, ""


@_check(
    "problem-media-type",
    Severity.SHOULD,
    "RFC 9457 §3",
    "The 426 body is application/problem+json.",
    REFUSED,
    phase=Phase.REFUSAL,
)
@on_the_426()
def check_problem_media_type(observation: Observation, response: Response) -> Verdict:
    value = response.combined("content-type")
    expected = "Content-Type: application/problem+json"
    media_type = parse_media_type(value or "")
    if media_type is not None and media_type.essence == "application/problem+json":
        return Verdict.ok(
            "the 426 is a problem document", expected=expected, actual=f"Content-Type: {value}"
        )
    return Verdict.violated(
        "the 426 is not application/problem+json",
        expected=expected,
        actual=f"Content-Type: {value}" if value is not None else "no Content-Type field",
        diagnosis=(
            "A problem document (RFC 9457) lets clients read why the request was refused and"
            " what to do, without scraping text."
        ),
    )


_STRING_MEMBERS = ("title", "detail")
_URI_MEMBERS = ("type", "instance")


def _member_problems(members: dict[str, object], status_code: int) -> tuple[list[str], list[str]]:
    """What is wrong with a problem's members: (must-level, should-level) notes (RFC 9457 §3.1)."""
    must: list[str] = []
    should: list[str] = []
    status = members.get("status")
    if "status" in members:
        # JSON has one number type (RFC 8259 §6): 426.0 is the number 426.
        if isinstance(status, bool) or not isinstance(status, (int, float)):
            should.append(f"status is {_json_type(status)}, not a number (consumers ignore it)")
        elif status != status_code:
            must.append(f"status is {status} but the response status is {status_code}")
    for name in _STRING_MEMBERS:
        if name in members and not isinstance(members[name], str):
            should.append(f"{name} is {_json_type(members[name])}, not a string")
    for name in _URI_MEMBERS:
        if name in members:
            value = members[name]
            if not isinstance(value, str):
                should.append(f"{name} is {_json_type(value)}, not a URI reference")
            elif not is_uri_reference(value):
                should.append(f"{name} {value!r} is not a URI reference (RFC 3986)")
    problem_type = members.get("type", "about:blank")
    title = members.get("title")
    # RFC 9457 §4.2.1: with about:blank, title SHOULD be the status phrase.
    if (
        problem_type == "about:blank"
        and isinstance(title, str)
        and title.strip().lower() != "upgrade required"
    ):
        should.append(f"type is about:blank but title is {title!r}, not 'Upgrade Required'")
    return must, should


@_check(
    "problem-body",
    Severity.MUST,
    "RFC 9457 §3.1",
    "A problem+json body is a JSON object whose status, if present, equals the real status.",
    REFUSED,
    phase=Phase.REFUSAL,
)
@on_the_426()
def check_problem_body(observation: Observation, response: Response) -> Verdict:
    media_type = parse_media_type(response.combined("content-type") or "")
    if media_type is None or media_type.essence != "application/problem+json":
        return Verdict.skip("the 426 is not application/problem+json (see problem-media-type)")
    if response.body_truncated:
        # A refusal is a short document; one past the read limit (or one that
        # never ends) cannot be a usable problem, and is never passed.
        return Verdict.violated(
            f"the problem+json body is larger than the {len(response.body) // 1024} KiB read"
            " limit (or never ends)",
            expected="a short JSON object (RFC 9457 §3)",
            actual=f"more than {len(response.body)} bytes",
            diagnosis="Send a small problem document; clients read it to learn what to do.",
        )
    decoded = content(response)
    if decoded.error:
        return Verdict.violated(
            "the problem+json body cannot be decoded",
            expected="a JSON object (RFC 9457 §3) in the content coding the response names",
            actual=decoded.error,
            diagnosis="Clients undo the Content-Encoding before they parse the problem; send"
            " a coding they can undo (gzip, deflate, br) or none.",
        )
    document = parse_problem_json(decoded.body)
    if document.members is None:
        return Verdict.violated(
            "the problem+json body is not a JSON object",
            expected="a JSON object (RFC 9457 §3)",
            actual=document.error or "not an object",
        )
    must, should = _member_problems(document.members, response.status)
    actual = excerpt(decoded.body)
    if must:
        return Verdict.violated(
            "; ".join(must + should),
            expected=f"status member equal to {response.status} (RFC 9457 §3.1.2)",
            actual=actual,
        )
    if should:
        return Verdict.violated(
            "; ".join(should),
            expected="members of the types RFC 9457 §3.1 defines",
            actual=actual,
            severity=Severity.SHOULD,
        )
    return Verdict.ok("the problem document is well-formed", actual=actual)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


_STANDARD_MEMBERS = frozenset({"type", "title", "status", "detail", "instance"})


@_check(
    "problem-actionable",
    Severity.SHOULD,
    "RFC 9457 §3.1.4",
    "The problem names the required protocol, or links to a migration guide.",
    REFUSED,
    phase=Phase.REFUSAL,
)
@on_the_426()
def check_problem_actionable(observation: Observation, response: Response) -> Verdict:
    members, why = _problem(response)
    if members is None:
        return Verdict.skip(f"no problem document to read: {why}")
    info = protocol_for(observation.requirement.protocol)
    for name in ("detail", "title"):
        text = members.get(name)
        if isinstance(text, str) and info.mention.search(text):
            return Verdict.ok(f"{name} names the required protocol", actual=f"{name}: {text!r}")
    for name, value in members.items():
        if (
            name not in _STANDARD_MEMBERS
            and isinstance(value, str)
            and value.lower().startswith(("https://", "http://"))
            and is_uri_reference(value)
        ):
            return Verdict.ok(
                f"the extension member {name!r} links to guidance", actual=f"{name}: {value}"
            )
    return Verdict.violated(
        "the problem does not tell the client what to do",
        expected=f"detail or title naming {_names(info.token, info.aliases)}, or a link",
        actual=excerpt(content(response).body),
        diagnosis=(
            "Say in detail which protocol to use (for example 'This endpoint requires HTTP/2'),"
            " or add an extension member with the URL of a migration guide."
        ),
    )


def _names(token: str, aliases: tuple[str, ...]) -> str:
    """ "h2 (or HTTP/2)"; only the token when it has no alias."""
    return f"{token} (or {', '.join(aliases)})" if aliases else token
