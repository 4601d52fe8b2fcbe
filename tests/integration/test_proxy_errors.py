"""A failing egress proxy, end to end, against loopback stand-ins (no squid needed): the
test errors naming the proxy (never its credentials), within the probe timeout;
a bad proxy option is a usage error; the flag and the environment choose it."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from support.apps import INNER_INI
from support.connect_proxies import answer, closed_port, connect_proxy, silent, tunnel

_407 = (
    b"HTTP/1.1 407 Proxy Authentication Required\r\n"
    b'Proxy-Authenticate: Basic realm="x"\r\nContent-Length: 0\r\n\r\n'
)
_403 = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"


def _run(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict[str, Any]]:
    report = pytester.path / "report.json"
    result = pytester.runpytest(
        "-p",
        "no:cacheprovider",
        "--upgrade-target=https://127.0.0.1:9",  # never reached: the proxy fails first
        "--upgrade-require=h2 /v2/orders",
        f"--upgrade-report={report}",
        *args,
    )
    return result, json.loads(report.read_text()) if report.exists() else {}


@pytest.mark.parametrize(
    ("behaviour", "userinfo", "said"),
    [
        (answer(_403), "", "refused the tunnel to 127.0.0.1:9 (403 Forbidden): the proxy's policy"),
        (answer(_407), "", "(407 Proxy Authentication Required): the proxy requires credentials"),
        (answer(_407), "ci:hunter2@", "the proxy credentials given were refused"),
        (answer(b"SSH-2.0-OpenSSH\r\n\r\n"), "", "its answer to CONNECT is not HTTP"),
    ],
    ids=["403", "407-none", "407-refused", "garbage"],
)
def test_a_refusing_proxy_is_an_error_naming_it(
    pytester: pytest.Pytester, behaviour: Any, userinfo: str, said: str
) -> None:
    with connect_proxy(behaviour) as proxy:
        result, document = _run(
            pytester, f"--upgrade-proxy=http://{userinfo}127.0.0.1:{proxy.port}", "-rA"
        )
    result.assert_outcomes(errors=1)
    (entry,) = document["results"]
    assert entry["verdict"] == "error"
    assert f"proxy http://127.0.0.1:{proxy.port}: " in entry["error"]
    assert said in entry["error"]
    assert all(check["outcome"] == "skipped" for check in entry["checks"])
    for text in (result.stdout.str(), json.dumps(document)):
        assert "hunter2" not in text
    result.stdout.fnmatch_lines(
        [f"ERROR   h2 GET /v2/orders: *proxy http://127.0.0.1:{proxy.port}*"]
    )


def test_a_proxy_that_is_down_is_an_error_naming_it(pytester: pytest.Pytester) -> None:
    port = closed_port()
    result, document = _run(pytester, f"--upgrade-proxy=127.0.0.1:{port}")
    result.assert_outcomes(errors=1)
    assert f"proxy http://127.0.0.1:{port}: cannot connect: " in document["results"][0]["error"]


def test_a_proxy_that_hangs_costs_the_probe_timeout(pytester: pytest.Pytester) -> None:
    with connect_proxy(silent) as proxy:
        started = time.monotonic()
        result, document = _run(pytester, f"--upgrade-proxy={proxy.url}", "--upgrade-timeout=1")
        elapsed = time.monotonic() - started
    result.assert_outcomes(errors=1)
    assert f"proxy {proxy.url}: no answer to CONNECT within 1 s" in document["results"][0]["error"]
    # The h2 requirement's probes run at once: about one timeout, not one each.
    assert elapsed < 6, elapsed


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("https://127.0.0.1:3128", "--upgrade-proxy: 'https://127.0.0.1:3128': https:// proxies"),
        ("socks5://u:secret@127.0.0.1:1080", "--upgrade-proxy: 'socks5://***@127.0.0.1:1080'"),
        ("http://127.0.0.1:port", "--upgrade-proxy: 'http://127.0.0.1:port': not a proxy URL"),
    ],
)
def test_a_bad_proxy_option_is_a_usage_error(
    pytester: pytest.Pytester, value: str, message: str
) -> None:
    result, _ = _run(pytester, f"--upgrade-proxy={value}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {message}*"])
    assert "secret" not in result.stderr.str()


def test_a_bad_proxy_field_names_the_line_without_its_password(pytester: pytest.Pytester) -> None:
    targets = pytester.path / "targets.txt"
    targets.write_text("https://127.0.0.1:9 proxy=socks5://u:secret@127.0.0.1:1\n")
    result = pytester.runpytest(f"--upgrade-targets-file={targets}", "--upgrade-require=h2 /")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {targets}:1: *proxy=: *SOCKS proxies are not supported*"])
    assert "secret" not in result.stderr.str()


def test_the_ini_option_and_the_environment(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    with connect_proxy(answer(_403)) as from_ini, connect_proxy(answer(_403)) as from_env:
        pytester.makeini(INNER_INI + f"upgrade_proxy = {from_ini.url}\n")
        monkeypatch.setenv("HTTPS_PROXY", from_env.url)
        _, document = _run(pytester)
        assert f"proxy {from_ini.url}:" in document["results"][0]["error"]
        pytester.makeini(INNER_INI)
        _, document = _run(pytester)
        assert f"proxy {from_env.url}:" in document["results"][0]["error"]
        monkeypatch.setenv("ALL_PROXY", "socks5://127.0.0.1:1")  # not read: HTTPS_PROXY is set
        _, document = _run(pytester)
        assert f"proxy {from_env.url}:" in document["results"][0]["error"]
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        result, document = _run(pytester)
        # Direct: port 9 refuses, and the error is the target's, not a proxy's.
        assert "proxy" not in document["results"][0]["error"]
        assert "refused" in document["results"][0]["error"].lower()
        monkeypatch.delenv("NO_PROXY")
        monkeypatch.delenv("HTTPS_PROXY")
        result, _ = _run(pytester)
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines(["ERROR: *the environment's ALL_PROXY: *SOCKS proxies*"])


def test_a_tunnel_carries_the_probes_to_a_live_target(
    pytester: pytest.Pytester, live_server: Any
) -> None:
    from support.protocol_apps import protocol_app_source

    target = live_server(protocol_app_source())
    with connect_proxy(tunnel()) as proxy:
        result = pytester.runpytest(
            "-p",
            "no:cacheprovider",
            f"--upgrade-target={target.https_url}",
            f"--upgrade-ca={target.cafile}",
            f"--upgrade-proxy={proxy.url}",
            "--upgrade-require=h2 /both",
            "--upgrade-require=TLS/1.2 /secure",
        )
    result.assert_outcomes(passed=2)
    port = target.https_url.rsplit(":", 1)[1]
    assert set(proxy.request_lines) == {f"CONNECT 127.0.0.1:{port} HTTP/1.1"}
    result.stdout.fnmatch_lines(
        [f"upgrade: {target.https_url} through proxy 127.0.0.1:{proxy.port}"]
    )


def test_the_test_bodys_clients_go_through_the_proxy_too(
    pytester: pytest.Pytester, live_server: Any
) -> None:
    from support.protocol_apps import protocol_app_source

    target = live_server(protocol_app_source())
    options = (
        "-p",
        "no:cacheprovider",
        f"--upgrade-target={target.https_url}",
        f"--upgrade-ca={target.cafile}",
        "--upgrade-skip-checks=websocket-version",  # hypercorn's bare 400 (not the proxy's)
        # A tunnel per probe in both runs, however their requests were scheduled.
        "--upgrade-fresh-connections",
    )
    # No reserved characters: websockets before 17.4 does not percent-decode proxy userinfo.
    with connect_proxy(tunnel(user="ci", password="pass-ci")) as proxy:
        proxied = f"--upgrade-proxy=http://ci:pass-ci@127.0.0.1:{proxy.port}"
        # The same requirements declared (no test body): the probes' tunnels alone.
        declared = pytester.runpytest(
            *options,
            proxied,
            "--upgrade-require=h2 /both",
            "--upgrade-require=websocket /ws",
        )
        declared.assert_outcomes(passed=2)
        probes = len(proxy.heads)
        pytester.makepyfile(
            """
            import pytest

            @pytest.mark.requires_upgrade("h2", path="/both")
            def test_client(upgrade):
                assert upgrade.client.get("/both").http_version == "HTTP/2"

            @pytest.mark.requires_upgrade("websocket", path="/ws")
            def test_websocket(upgrade):
                assert upgrade.websocket.protocol.state.name == "OPEN"
            """
        )
        result = pytester.runpytest(*options, proxied)
    result.assert_outcomes(passed=2)
    port = target.https_url.rsplit(":", 1)[1]
    assert set(proxy.request_lines) == {f"CONNECT 127.0.0.1:{port} HTTP/1.1"}
    # The probes' tunnels again, and one for each client (httpx's and websockets').
    assert len(proxy.heads) == 2 * probes + 2
    assert any(b"python-httpx" in h or b"Accept: */*" in h for h in proxy.heads[probes:])
    assert "pass-ci" not in result.stdout.str()
