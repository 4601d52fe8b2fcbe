"""Checks on the answer to the legacy request: the 426 and what it carries.

The catalogue these implement is docs/checks.md; each rule's RFC section is in
its registration and shown next to every finding.
"""

from __future__ import annotations

import datetime as dt

from .._model import (
    Exchange,
    FailureKind,
    Observation,
    Response,
    Severity,
)
from ..grammar import (
    is_uri_reference,
    parse_cache_control,
    parse_connection,
    parse_http_date,
    parse_media_type,
    parse_problem_json,
    parse_upgrade,
)
from ..protocols import TOKENS, protocol_for, version_tuple
from .evidence import answer_shows, excerpt, failure_diagnosis, intermediary
from .registry import LEGACY, REFUSAL, Verdict
from .registry import check as _check

# -- helpers -------------------------------------------------------------------

# Every requirement is refused with a 426 (TLS ones on their cleartext URL).
ALL = TOKENS
TLS_REQUIREMENTS = ("TLS/1.2", "TLS/1.3")


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


def _the_426(observation: Observation) -> tuple[Response | None, str]:
    """The legacy response when it is a 426; otherwise None and the skip reason."""
    response, reason = _response(observation, LEGACY)
    if response is None:
        return None, reason
    if response.status != 426:
        return None, f"the legacy request was answered with {response.status}, not 426"
    return response, ""


def _show(response: Response, name: str) -> str:
    value = response.combined(name)
    return f"{name.title()}: {value}" if value is not None else f"no {name.title()} field"


# -- checks on the 426 response -------------------------------------------------

_STATUS_DIAGNOSES: dict[int, str] = {
    400: (
        "400 rejects the request without telling the client what to do; 426 with an Upgrade"
        " field names the protocol to switch to (RFC 9110 §15.5.22)."
    ),
    403: (
        "403 says the request is forbidden, not that another protocol would be served;"
        " clients will not retry with an upgrade."
    ),
    404: (
        "404 hides the route from this protocol (typical of a route registered only for the"
        " new protocol, such as a WebSocket-only endpoint seen by a plain GET); answer 426 so"
        " clients learn how to reach it."
    ),
    505: (
        "505 HTTP Version Not Supported refuses the version but cannot say which protocol to"
        " use instead; 426 carries that in its Upgrade field (RFC 9110 §15.5.22, §15.6.6)."
    ),
}


def _status_diagnosis(observation: Observation, response: Response) -> str:
    status = response.status
    protocol = observation.requirement.protocol
    after, as_of = observation.requirement.after, observation.as_of
    if 200 <= status < 300 and after is not None and as_of is not None and as_of >= after:
        days = (as_of - after).days
        return (
            f"The deadline {after.isoformat()} has passed"
            + (f" ({days} day(s) ago)" if days else " (it is today)")
            + " and the old protocol is still served: switch enforcement on (answer legacy"
            " requests with 426), or move the announced deadline."
        )
    if protocol == "websocket" and status in (200, 400, 403, 404, 405):
        return (
            f"A WebSocket endpoint received a plain GET and answered {status}: a client that"
            " does not know the route is a WebSocket cannot tell what to do. Answer plain"
            " requests on it with 426 and Upgrade: websocket."
        )
    if 200 <= status < 300:
        return (
            f"The legacy protocol is still served: the {protocol} requirement is not enforced."
            " Answer legacy requests on this path with 426, an Upgrade field and a problem body."
        )
    if status in (301, 308) and protocol in TLS_REQUIREMENTS:
        return "The redirect does not lead to an https URL, so clients stay on cleartext."
    if 300 <= status < 400 and protocol in TLS_REQUIREMENTS:
        return (
            "Only a permanent redirect (301 or 308) to the https URL stands in for a 426"
            " here; a temporary one lets clients keep coming back over cleartext."
        )
    if 300 <= status < 400:
        return (
            "A redirect cannot make a client switch protocol version (the URL does not change"
            " how HTTP is spoken); only a TLS requirement may redirect to https."
        )
    if protocol == "websocket" and status == 505:
        # The plain GET went out as HTTP/1.1 (RFC 9112 §2.3): a 505 to it shows
        # that the server received another version, as behind a proxy that
        # speaks HTTP/1.0 to its backend (nginx without proxy_http_version 1.1).
        return (
            "505 to an HTTP/1.1 request: whoever answered received another HTTP version than"
            f" the client sent, typically HTTP/1.0 from a reverse proxy ({answer_shows(response)})."
            " See upgrade-stripped for the proxy settings."
        )
    if status in _STATUS_DIAGNOSES:
        return _STATUS_DIAGNOSES[status]
    if status >= 500:
        return failure_diagnosis(observation, response, "the legacy request")
    return _STATUS_DIAGNOSES.get(status, "")


@_check(
    "status-426",
    Severity.MUST,
    "RFC 9110 §15.5.22",
    "The legacy request is answered with 426 Upgrade Required.",
    ALL,
    phase=REFUSAL,
)
def check_status_426(observation: Observation) -> Verdict:
    exchange = observation.exchange(LEGACY)
    if exchange is None:
        return Verdict.skip("no legacy probe was made")
    if exchange.response is None:
        failure = exchange.failure
        if failure is None:  # pragma: no cover - an exchange has one or the other
            return Verdict.skip("the legacy probe recorded nothing")
        if failure.kind in (FailureKind.UNSUPPORTED, FailureKind.NOT_APPLICABLE):
            return Verdict.skip(failure.message)
        if failure.kind is FailureKind.TLS_REFUSED:
            return Verdict.violated(
                "the legacy request was refused during the TLS handshake",
                expected="426 Upgrade Required",
                actual=failure.message,
                diagnosis=(
                    f"The server refuses {exchange.offered} at the TLS/ALPN layer, so old clients"
                    " see a handshake error instead of an actionable 426. Accept the legacy"
                    " protocol in ALPN and answer its requests with 426."
                ),
            )
        return Verdict.violated(
            "the legacy request got no HTTP response",
            expected="426 Upgrade Required",
            actual=failure.message,
            diagnosis="Old clients see a broken connection instead of an actionable 426.",
        )
    status = exchange.response.status
    if status == 426:
        return Verdict.ok(
            "the legacy request was answered with 426", actual=exchange.response.status_line
        )
    location = https_redirect(exchange.response)
    if observation.requirement.protocol in TLS_REQUIREMENTS and location is not None:
        return Verdict.ok(
            f"the cleartext request was redirected to https ({status}), which a TLS requirement"
            " allows",
            actual=f"{exchange.response.status_line}, Location: {location}",
        )
    return Verdict.violated(
        f"the legacy request was answered with {status}, not 426",
        expected="426 Upgrade Required",
        actual=exchange.response.status_line,
        diagnosis=_status_diagnosis(observation, exchange.response),
    )


def _proxy_note(observation: Observation, response: Response, note: str) -> str:
    """``note`` (about a proxy in between) for a live target, with the Server/Via it shows."""
    if observation.bundled:
        return ""  # the bundled server runs the app with nothing in between
    shown = intermediary(response)
    return note + (f" The answer names {shown}." if shown else "")


def _header_check_applies(response: Response) -> str:
    """Why a header check cannot apply to ``response`` ("" when it can)."""
    if response.http_version == "2":
        # RFC 9113 §8.2.2: connection-specific fields are malformed in HTTP/2.
        return (
            "the 426 came over HTTP/2, which cannot carry Upgrade or Connection (RFC 9113 §8.2.2)"
        )
    return ""


@_check(
    "upgrade-present",
    Severity.MUST,
    "RFC 9110 §15.5.22, §7.8",
    "The 426 carries an Upgrade header field.",
    ALL,
    phase=REFUSAL,
)
def check_upgrade_present(observation: Observation) -> Verdict:
    response, reason = _the_426(observation)
    if response is None:
        return Verdict.skip(reason)
    if why := _header_check_applies(response):
        return Verdict.skip(why)
    if response.combined("upgrade") is None:
        return Verdict.violated(
            "the 426 has no Upgrade field",
            expected="Upgrade: <the required protocol>",
            actual="no Upgrade field",
            diagnosis=(
                "A 426 must tell the client which protocol to switch to: the server MUST send an"
                " Upgrade field in a 426 response (RFC 9110 §15.5.22)."
                + _proxy_note(
                    observation,
                    response,
                    " If the app sends it, a proxy in between removed it (RFC 9110 §7.6.1 lets"
                    " proxies remove Upgrade; Caddy's reverse_proxy does): set it on 426 answers"
                    " at the proxy.",
                )
            ),
        )
    return Verdict.ok("the 426 has an Upgrade field", actual=_show(response, "upgrade"))


def _upgrade_of_the_426(observation: Observation) -> tuple[Response, str] | Verdict:
    """The 426 and its combined Upgrade value, or the skip verdict saying why not."""
    response, reason = _the_426(observation)
    if response is None:
        return Verdict.skip(reason)
    if why := _header_check_applies(response):
        return Verdict.skip(why)
    value = response.combined("upgrade")
    if value is None:
        return Verdict.skip("there is no Upgrade field (see upgrade-present)")
    return response, value


@_check(
    "upgrade-syntax",
    Severity.MUST,
    "RFC 9110 §7.8",
    'Upgrade parses as 1#protocol, protocol = protocol-name ["/" protocol-version].',
    ALL,
    phase=REFUSAL,
)
def check_upgrade_syntax(observation: Observation) -> Verdict:
    found = _upgrade_of_the_426(observation)
    if isinstance(found, Verdict):
        return found
    _, value = found
    parsed = parse_upgrade(value)
    if not parsed.valid:
        return Verdict.violated(
            "the Upgrade field is malformed: " + "; ".join(parsed.errors),
            expected='1#protocol, protocol = token ["/" token]',
            actual=f"Upgrade: {value}",
        )
    return Verdict.ok("the Upgrade field is well-formed", actual=f"Upgrade: {value}")


@_check(
    "upgrade-names-required",
    Severity.MUST,
    "RFC 9110 §7.8",
    "Upgrade lists a protocol that satisfies the requirement.",
    ALL,
    phase=REFUSAL,
)
def check_upgrade_names_required(observation: Observation) -> Verdict:
    found = _upgrade_of_the_426(observation)
    if isinstance(found, Verdict):
        return found
    response, value = found
    return protocol_for(observation.requirement.protocol).judge_upgrade_field(
        observation, response, value
    )


@_check(
    "connection-upgrade",
    Severity.MUST,
    "RFC 9110 §7.8",
    "On an HTTP/1.x 426, Connection contains the upgrade option.",
    ALL,
    phase=REFUSAL,
)
def check_connection_upgrade(observation: Observation) -> Verdict:
    response, reason = _the_426(observation)
    if response is None:
        return Verdict.skip(reason)
    if why := _header_check_applies(response):
        return Verdict.skip(why)
    value = response.combined("connection")
    options = parse_connection(value).options if value is not None else ()
    expected = "Connection: upgrade"
    if "upgrade" in options:
        return Verdict.ok(
            "Connection contains upgrade", expected=expected, actual=_show(response, "connection")
        )
    return Verdict.violated(
        "Connection does not contain the upgrade option",
        expected=expected,
        actual=_show(response, "connection"),
        diagnosis=(
            "A sender of Upgrade MUST also send the upgrade connection option (RFC 9110 §7.8);"
            " without it, intermediaries may forward Upgrade as an end-to-end field or drop it."
            + _proxy_note(
                observation,
                response,
                " A proxy in between replaces the app's Connection field with its own (nginx sends"
                " keep-alive, HAProxy removes it): add the option at the proxy (nginx: add_header"
                ' Connection "upgrade" always; HAProxy: http-response set-header Connection'
                " upgrade if { status 426 }).",
            )
        ),
    )


def _problem(response: Response) -> tuple[dict[str, object] | None, str]:
    """The problem+json object of ``response``, or None and why not."""
    media_type = parse_media_type(response.combined("content-type") or "")
    if media_type is None or media_type.essence != "application/problem+json":
        return None, "the 426 is not application/problem+json (see problem-media-type)"
    if response.body_truncated:
        return None, "the 426 body is larger than the read limit and was not parsed"
    document = parse_problem_json(response.body)
    if document.members is None:
        return None, document.error or "the body is not a JSON object"
    return document.members, ""


@_check(
    "problem-media-type",
    Severity.SHOULD,
    "RFC 9457 §3",
    "The 426 body is application/problem+json.",
    ALL,
    phase=REFUSAL,
)
def check_problem_media_type(observation: Observation) -> Verdict:
    response, reason = _the_426(observation)
    if response is None:
        return Verdict.skip(reason)
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


@_check(
    "problem-body",
    Severity.MUST,
    "RFC 9457 §3.1",
    "A problem+json body is a JSON object whose status, if present, equals the real status.",
    ALL,
    phase=REFUSAL,
)
def check_problem_body(observation: Observation) -> Verdict:
    response, reason = _the_426(observation)
    if response is None:
        return Verdict.skip(reason)
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
    document = parse_problem_json(response.body)
    if document.members is None:
        return Verdict.violated(
            "the problem+json body is not a JSON object",
            expected="a JSON object (RFC 9457 §3)",
            actual=document.error or "not an object",
        )
    members = document.members
    must: list[str] = []
    should: list[str] = []
    status = members.get("status")
    if "status" in members:
        # JSON has one number type (RFC 8259 §6): 426.0 is the number 426.
        if isinstance(status, bool) or not isinstance(status, (int, float)):
            should.append(f"status is {_json_type(status)}, not a number (consumers ignore it)")
        elif status != response.status:
            must.append(f"status is {status} but the response status is {response.status}")
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
    actual = _excerpt(response.body)
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


def _excerpt(body: bytes, limit: int = 200) -> str:
    return excerpt(body, limit)


_STANDARD_MEMBERS = frozenset({"type", "title", "status", "detail", "instance"})


@_check(
    "problem-actionable",
    Severity.SHOULD,
    "RFC 9457 §3.1.4",
    "The problem names the required protocol, or links to a migration guide.",
    ALL,
    phase=REFUSAL,
)
def check_problem_actionable(observation: Observation) -> Verdict:
    response, reason = _the_426(observation)
    if response is None:
        return Verdict.skip(reason)
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
        expected=f"detail or title naming {info.token} ({', '.join(info.aliases)}), or a link",
        actual=_excerpt(response.body),
        diagnosis=(
            "Say in detail which protocol to use (for example 'This endpoint requires HTTP/2'),"
            " or add an extension member with the URL of a migration guide."
        ),
    )


@_check(
    "not-cacheable",
    Severity.SHOULD,
    "RFC 9111 §4.2.2, RFC 9110 §15.1",
    "The 426 carries no explicit freshness (max-age, s-maxage, public, a future Expires).",
    ALL,
    phase=REFUSAL,
)
def check_not_cacheable(observation: Observation) -> Verdict:
    response, reason = _the_426(observation)
    if response is None:
        return Verdict.skip(reason)
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
            when = parse_http_date(expires)
            # RFC 9111 §5.3: an invalid Expires means "already expired".
            now = parse_http_date(response.combined("date") or "") or dt.datetime.now(dt.UTC)
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
