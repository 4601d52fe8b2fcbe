"""Redirects to https standing in for the 426, and HSTS (TLS requirements).

A cleartext request answered with a redirect to the https URL of the same
resource refuses cleartext as well as a 426 does (``status-426`` and
``cleartext-refused`` accept it); the checks here judge what such a redirect
does to clients: whether it is permanent, whether it keeps the method, and
whether the https answers then keep clients off cleartext (HSTS, RFC 6797).
"""

from __future__ import annotations

from .._model import Observation, Response, Severity
from .._verdict import Verdict
from ..grammar.hsts import parse_sts
from ..protocols.roles import LEGACY, UPGRADED
from .preconditions import TLS_REQUIREMENTS, HttpsRedirect, https_redirect
from .registry import Phase
from .registry import check as _check

PERMANENT = frozenset({301, 308})  # §15.4.2, §15.4.9
KEEPS_METHOD = frozenset({307, 308})  # §15.4.8, §15.4.9: "MUST NOT change the request method"
# RFC 6797 does not fix a minimum (§11.2 weighs the choice); 180 days is the
# shortest max-age the common HSTS recommendations accept.
HSTS_MIN_MAX_AGE = 180 * 24 * 3600

_FIXES = (
    " nginx: `return 308 https://$host$request_uri;`; Apache httpd: `Redirect permanent /"
    " https://HOST/` (or `RewriteRule ^ https://%{HTTP_HOST}%{REQUEST_URI} [R=308,L]`); Caddy:"
    " `redir https://{host}{uri} permanent`; HAProxy: `http-request redirect scheme https"
    " code 308`; frameworks: Django `SECURE_SSL_REDIRECT`, Starlette/FastAPI"
    " `HTTPSRedirectMiddleware` (307), Spring `requiresSecure()` (302)."
)


def _redirect(observation: Observation) -> tuple[HttpsRedirect | None, Verdict | None]:
    """The legacy exchange's redirect that stands in for the 426, or the verdict without one."""
    exchange = observation.exchange(LEGACY)
    if exchange is None or exchange.response is None:
        return None, Verdict.skip("no cleartext answer to judge")
    redirect = https_redirect(exchange)
    if redirect is None:
        # A 426 (or another answer): there is no redirect whose kind to judge.
        status = exchange.response.status
        return None, Verdict.not_applicable(f"the cleartext request was answered with {status}")
    if not redirect.stands_in:
        return None, Verdict.not_applicable(
            f"the redirect does not lead to the same resource over https ({redirect.problem})"
        )
    return redirect, None


@_check(
    "redirect-permanent",
    Severity.SHOULD,
    "RFC 9110 §15.4",
    "A redirect to https standing in for the 426 is permanent (301 or 308).",
    TLS_REQUIREMENTS,
    phase=Phase.ENFORCED,
)
def check_redirect_permanent(observation: Observation) -> Verdict:
    redirect, without = _redirect(observation)
    if redirect is None:
        assert without is not None
        return without
    actual = f"{redirect.status}, Location: {redirect.location}"
    if redirect.status in PERMANENT:
        return Verdict.ok(f"the redirect is permanent ({redirect.status})", actual=actual)
    return Verdict.violated(
        f"the redirect is temporary ({redirect.status})",
        expected="308 (or 301 for a GET-only resource)",
        actual=actual,
        diagnosis=(
            "302, 303 and 307 are temporary (RFC 9110 §15.4.3, §15.4.4, §15.4.8): clients and"
            " caches keep the http URL and come back over cleartext. Answer with 308." + _FIXES
        ),
    )


@_check(
    "redirect-keeps-method",
    Severity.SHOULD,
    "RFC 9110 §15.4.2-15.4.4, §15.4.8-15.4.9",
    "A redirect to https for a request other than GET or HEAD is a 307 or 308.",
    TLS_REQUIREMENTS,
    phase=Phase.ENFORCED,
)
def check_redirect_keeps_method(observation: Observation) -> Verdict:
    redirect, without = _redirect(observation)
    if redirect is None:
        assert without is not None
        return without
    method = observation.requirement.method.upper()
    if method in ("GET", "HEAD"):
        return Verdict.not_applicable(
            f"the requirement's method is {method}, which every redirect keeps"
        )
    actual = f"{redirect.status} to a {method}, Location: {redirect.location}"
    if redirect.status in KEEPS_METHOD:
        return Verdict.ok(f"the {redirect.status} keeps the {method}", actual=actual)
    return Verdict.violated(
        f"a {redirect.status} makes most clients repeat the {method} as a GET",
        expected=f"307 or 308 for a {method}",
        actual=actual,
        diagnosis=(
            f"After a 301 or 302 user agents may, and after a 303 must, change a {method} to"
            " GET (RFC 9110 §15.4.2-15.4.4), losing the body: the request no longer works once"
            " redirected. 307 and 308 keep the method and body (§15.4.8-15.4.9)." + _FIXES
        ),
    )


def _sts_on_cleartext(observation: Observation) -> str:
    exchange = observation.exchange(LEGACY)
    if exchange is None or exchange.response is None:
        return ""
    if exchange.response.values("strict-transport-security"):
        return (
            "; the cleartext answer's Strict-Transport-Security is ignored by clients"
            " (RFC 6797 §8.1: only a secure transport sets the policy)"
        )
    return ""


def _sts_verdict(response: Response, cleartext_note: str) -> Verdict:
    values = response.values("strict-transport-security")
    expected = f"Strict-Transport-Security: max-age={HSTS_MIN_MAX_AGE} or more"
    diagnosis = (
        "Without HSTS a client keeps making its first request to the host over cleartext, where"
        " an attacker can answer it (RFC 6797 §2.3). Send it on every https answer, e.g. nginx"
        ' `add_header Strict-Transport-Security "max-age=31536000" always;`, Apache httpd'
        ' `Header always set Strict-Transport-Security "max-age=31536000"`, Caddy'
        ' `header Strict-Transport-Security "max-age=31536000"`, HAProxy `http-response'
        ' set-header Strict-Transport-Security "max-age=31536000"`, Django'
        " `SECURE_HSTS_SECONDS`."
    )
    if not values:
        return Verdict.violated(
            "the https answer carries no Strict-Transport-Security" + cleartext_note,
            expected=expected,
            actual="no Strict-Transport-Security field",
            diagnosis=diagnosis,
        )
    # RFC 6797 §8.1: a UA processes only the first of several fields.
    sts = parse_sts(values[0])
    actual = "Strict-Transport-Security: " + values[0]
    if sts.error:
        return Verdict.violated(
            f"clients ignore the Strict-Transport-Security field: {sts.error}" + cleartext_note,
            expected=expected,
            actual=actual,
            diagnosis="A field that does not conform is ignored (RFC 6797 §8.1). " + diagnosis,
        )
    assert sts.max_age is not None
    if sts.max_age < HSTS_MIN_MAX_AGE:
        days = sts.max_age / 86400
        return Verdict.violated(
            f"max-age={sts.max_age} ({days:.3g} days) is shorter than 180 days" + cleartext_note,
            expected=expected,
            actual=actual,
            diagnosis=(
                "A short max-age lets the policy lapse between visits, and clients are back on"
                " cleartext (RFC 6797 §11.2); max-age=0 removes it (§6.1.1). " + diagnosis
            ),
        )
    extras = [
        n
        for n, on in (("includeSubDomains", sts.include_subdomains), ("preload", sts.preload))
        if on
    ]
    message = f"the https answer carries HSTS (max-age={sts.max_age}"
    message += "".join(f", {extra}" for extra in extras) + ")"
    if cleartext_note:
        return Verdict.violated(message + cleartext_note, actual=actual, severity=Severity.INFO)
    return Verdict.ok(message, expected=expected, actual=actual)


@_check(
    "hsts",
    Severity.SHOULD,
    "RFC 6797 §6.1, §8.1",
    "The https answers carry Strict-Transport-Security with a max-age of at least 180 days.",
    TLS_REQUIREMENTS,
    phase=Phase.ENFORCED,
)
def check_hsts(observation: Observation) -> Verdict:
    exchange = observation.exchange(UPGRADED)
    if exchange is None or exchange.response is None:
        failure = exchange.failure.message if exchange and exchange.failure else "no https answer"
        return Verdict.skip(f"no https answer to judge: {failure}")
    return _sts_verdict(exchange.response, _sts_on_cleartext(observation))
