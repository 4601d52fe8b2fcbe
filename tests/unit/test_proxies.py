"""Which proxy a deployment uses: proxy URLs, the option and proxy= field, the environment
as curl reads it, NO_PROXY (``_proxies``, pure: the environment is a mapping)."""

from __future__ import annotations

import pytest

from pytest_upgrade._proxies import (
    choose_proxy,
    environment_proxy,
    no_proxy_matches,
    parse_proxy_option,
)
from pytest_upgrade._targets import build_fleet, parse_target_line
from pytest_upgrade.probes.endpoint import Endpoint
from pytest_upgrade.probes.proxy import Proxy, parse_proxy_url

HTTPS = Endpoint.from_url("https://api.example.com")
HTTP = Endpoint.from_url("http://api.example.com:8080")


def test_a_proxy_url_gives_host_port_and_percent_decoded_credentials() -> None:
    proxy = parse_proxy_url("http://ci%40corp:p%3Ass%20w@proxy.corp.example:3128")
    assert (proxy.host, proxy.port, proxy.user, proxy.password) == (
        "proxy.corp.example",
        3128,
        "ci@corp",
        "p:ss w",
    )
    assert proxy.url == "http://proxy.corp.example:3128"
    # RFC 7617 §2: base64 of user-id ":" password, UTF-8.
    assert proxy.authorization() == "Basic Y2lAY29ycDpwOnNzIHc="


def test_credentials_are_in_no_repr() -> None:
    proxy = parse_proxy_url("http://user:hunter2@proxy:3128")
    from pytest_upgrade.probes.proxy import TunnelDialer

    for text in (repr(proxy), repr(TunnelDialer(proxy)), proxy.url, proxy.authority):
        assert "hunter2" not in text
        assert "user" not in text


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("proxy.corp:3128", "proxy.corp", 3128),  # no scheme: http, as curl
        ("http://proxy.corp", "proxy.corp", 1080),  # no port: curl's 1080
        ("HTTP://Proxy.Corp:8080/", "proxy.corp", 8080),
        ("http://[::1]:3128", "::1", 3128),
    ],
)
def test_proxy_url_forms(text: str, host: str, port: int) -> None:
    proxy = parse_proxy_url(text)
    assert (proxy.host, proxy.port, proxy.user) == (host, port, None)


def test_an_ipv6_proxy_is_named_in_brackets() -> None:
    assert parse_proxy_url("http://[::1]:3128").url == "http://[::1]:3128"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("https://proxy:3128", "https:// proxies are not supported; give an http:// proxy URL"),
        ("socks5://proxy:1080", "SOCKS proxies are not supported"),
        ("socks5h://u:secret@proxy:1080", "SOCKS proxies are not supported"),
        ("http://proxy:port", "not a proxy URL"),
        ("http://u:secret@proxy:99999", "not a proxy URL"),
        ("http://:3128", "no host"),
        ("http://proxy:3128/path", "without a path"),
        ("http://a%3Ab:secret@proxy:1", "may not contain ':'"),
    ],
)
def test_unusable_proxy_urls_say_why_without_the_password(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        parse_proxy_url(text)
    assert "secret" not in str(caught.value)


def test_none_is_direct_and_empty_is_an_error() -> None:
    assert parse_proxy_option("none") is None
    assert parse_proxy_option("NONE") is None
    with pytest.raises(ValueError, match="empty proxy URL"):
        parse_proxy_option("  ")


# -- the environment, as curl reads it ------------------------------------------------


def _proxy(env: dict[str, str], endpoint: Endpoint = HTTPS) -> str | None:
    chosen = environment_proxy(endpoint, env)
    return chosen.url if chosen is not None else None


def test_https_urls_read_https_proxy_lowercase_first() -> None:
    assert _proxy({"HTTPS_PROXY": "http://upper:1"}) == "http://upper:1"
    assert _proxy({"https_proxy": "http://lower:1", "HTTPS_PROXY": "http://upper:1"}) == (
        "http://lower:1"
    )


def test_http_urls_read_only_the_lowercase_http_proxy() -> None:
    # curl ignores HTTP_PROXY: in a CGI program it is the client's "Proxy:" header.
    assert _proxy({"HTTP_PROXY": "http://upper:1"}, HTTP) is None
    assert _proxy({"http_proxy": "http://lower:1"}, HTTP) == "http://lower:1"
    assert _proxy({"https_proxy": "http://tls:1"}, HTTP) is None


def test_all_proxy_is_for_both_schemes_after_their_own() -> None:
    env = {"ALL_PROXY": "http://all:1"}
    assert _proxy(env) == "http://all:1"
    assert _proxy(env, HTTP) == "http://all:1"
    assert _proxy({"all_proxy": "http://a:1", "ALL_PROXY": "http://b:1"}) == "http://a:1"
    assert _proxy({**env, "https_proxy": "http://own:1"}) == "http://own:1"


def test_a_variable_set_empty_means_no_proxy_as_curl() -> None:
    assert _proxy({"https_proxy": "", "ALL_PROXY": "http://all:1"}) is None
    assert _proxy({}) is None


def test_no_proxy_leaves_a_host_out() -> None:
    env = {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "other.example, example.com"}
    assert _proxy(env) is None
    assert _proxy({**env, "no_proxy": "nothing.example"}) == "http://p:1"  # lowercase first


def test_a_bad_variable_is_named() -> None:
    with pytest.raises(ValueError, match=r"the environment's ALL_PROXY: .*SOCKS proxies"):
        environment_proxy(HTTPS, {"ALL_PROXY": "socks5://p:1080"})


@pytest.mark.parametrize(
    ("host", "no_proxy", "matches"),
    [
        ("api.example.com", "*", True),
        ("api.example.com", "example.com", True),  # a subdomain
        ("api.example.com", ".example.com", True),  # a leading dot allowed
        ("example.com", ".example.com", True),  # itself, with the dot too
        ("API.Example.COM", "example.com", True),  # case-insensitive
        ("api.example.com.", "example.com", True),  # a trailing dot
        ("badexample.com", "example.com", False),  # not a suffix of labels
        ("example.com", "api.example.com", False),
        ("a.example", "b.example,a.example", True),
        ("a.example", "b.example a.example", True),  # blanks separate too
        ("a.example", "", False),
        ("a.example", "*.example", False),  # "*" only alone
        ("localhost", "a.example", False),  # loopback is not left out by itself
        ("127.0.0.1", "127.0.0.1", True),
        ("127.0.0.2", "127.0.0.0/8", True),  # a CIDR range
        ("10.1.2.3", "127.0.0.0/8", False),
        ("::1", "::1", True),
        ("[::1]", "[::1]", True),
        ("fd00::5", "fd00::/8", True),
        ("::1", "127.0.0.0/8", False),  # another family
        ("127.0.0.1", "localhost", False),  # a name does not match an address
    ],
)
def test_no_proxy_matching(host: str, no_proxy: str, matches: bool) -> None:
    assert no_proxy_matches(host, no_proxy) is matches


# -- the order: the line's proxy=, the run's --upgrade-proxy, the environment ---------


def test_the_line_wins_then_the_run_then_the_environment() -> None:
    env = {"HTTPS_PROXY": "http://env:1"}

    def chosen(line: str | None, run: str | None) -> Proxy | None:
        return choose_proxy(HTTPS, line=line, run=run, environ=env)

    assert chosen("http://line:1", "http://run:1") == Proxy("line", 1)
    assert chosen(None, "http://run:1") == Proxy("run", 1)
    assert chosen(None, None) == Proxy("env", 1)
    assert chosen("none", "http://run:1") is None
    assert chosen(None, "none") is None  # the environment is not read


def test_no_proxy_does_not_override_a_proxy_named_explicitly() -> None:
    env = {"NO_PROXY": "*"}
    assert choose_proxy(HTTPS, line=None, run="http://run:1", environ=env) == Proxy("run", 1)


def test_a_bad_option_is_named() -> None:
    with pytest.raises(ValueError, match=r"--upgrade-proxy: .*https:// proxies"):
        choose_proxy(HTTPS, line=None, run="https://p:1", environ={})


def test_a_target_line_takes_proxy() -> None:
    line = parse_target_line("https://a.example proxy=http://u:pw@p:3128", where="t:1")
    assert line is not None
    assert line.proxy == "http://u:pw@p:3128"
    assert "pw" not in repr(line)
    assert parse_target_line("https://a.example proxy=none", where="t:1").proxy == "none"  # type: ignore[union-attr]


def test_a_bad_proxy_field_says_why_without_the_password() -> None:
    with pytest.raises(ValueError, match="proxy=: 'socks5://\\*\\*\\*@p:1'") as caught:
        parse_target_line("https://a.example proxy=socks5://u:secret@p:1", where="t:1")
    assert "secret" not in str(caught.value)


def test_an_unexpected_url_token_hides_its_userinfo() -> None:
    with pytest.raises(ValueError, match="unexpected 'ftp://\\*\\*\\*@x'") as caught:
        parse_target_line("https://a.example ftp://u:secret@x", where="t:1")
    assert "secret" not in str(caught.value)


def test_a_fleet_gets_each_deployment_its_proxy() -> None:
    lines = [
        parse_target_line("https://a.example http://a.example", where="t:1"),
        parse_target_line("https://b.internal proxy=none", where="t:2"),
        parse_target_line("http://c.example", where="t:3"),
        parse_target_line("https://d.example proxy=http://line:2", where="t:4"),
    ]
    env = {"https_proxy": "http://u:pw@env:1", "NO_PROXY": "internal"}
    fleet = build_fleet([line for line in lines if line], cafile=None, environ=env)
    routes = [d.target.route.proxy for d in fleet]
    # a.example: chosen for its https URL, and its http URL goes the same way;
    # c.example: http_proxy is unset.
    assert routes == ["http://env:1", None, None, "http://line:2"]
    assert fleet[0].target.route.proxy_auth
    assert not fleet[3].target.route.proxy_auth
    spec = fleet[0].target.spec_for(fleet[0].target.http, 1.0)  # type: ignore[arg-type]
    assert spec.dialer is fleet[0].target.proxy


def test_without_a_proxy_the_spec_connects_directly() -> None:
    (deployment,) = build_fleet(
        [parse_target_line("https://a.example", where="t:1")],  # type: ignore[list-item]
        cafile=None,
    )
    assert deployment.target.proxy is None
    assert deployment.target.route.proxy is None


def test_a_proxied_deployment_is_not_resolved_here() -> None:
    from pytest_upgrade._nodes import names_to_resolve

    lines = [
        parse_target_line("https://direct.example proxy=none", where="t:1"),
        parse_target_line("https://proxied.example", where="t:2"),
        parse_target_line("https://given.example resolve=192.0.2.7", where="t:3"),
    ]
    env = {"HTTPS_PROXY": "http://p:1"}
    fleet = build_fleet([line for line in lines if line], cafile=None, environ=env)
    # The proxy resolves proxied.example; given.example's address is asked for by CONNECT.
    assert names_to_resolve(fleet) == [("direct.example", 443)]
    spec = fleet[2].target.spec_for(fleet[2].target.primary, 1.0)
    assert fleet[2].addresses == ("192.0.2.7",)
    assert spec.dialer is fleet[2].target.proxy
