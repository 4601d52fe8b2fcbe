"""nginx, Apache httpd, HAProxy, Caddy and lighttpd at three TLS policies, on loopback.

For tests/integration/test_tls_policy_matrix.py. Each server runs once per
module with one TLS listener per policy, each answering every request 200:

- ``legacy``: TLS 1.0 and later (with OpenSSL 3, only at ``@SECLEVEL=0``);
- ``default``: the server's own default, nothing configured;
- ``tls13``: TLS 1.3 only.

Caddy cannot serve TLS 1.0 or 1.1 at all (its ``protocols`` start at
``tls1.2``), so it has no ``legacy`` listener. A missing binary skips the
server's cases with its name (``matrix_servers.binary``).
"""

from __future__ import annotations

import pathlib
from collections.abc import Iterator, Sequence

from support.matrix_servers import Certificates, Running, binary, free_ports, start

__all__ = ["POLICIES", "serve_policies"]

POLICIES = ("legacy", "default", "tls13")
LEGACY_CIPHERS = "DEFAULT:@SECLEVEL=0"

NGINX_SERVER = """
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        {settings}
        location / {{ return 200 "ok"; }}
    }}"""
NGINX = {
    "legacy": f"ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3; ssl_ciphers {LEGACY_CIPHERS};",
    "default": "",
    "tls13": "ssl_protocols TLSv1.3;",
}

APACHE_VHOST = """
Listen 127.0.0.1:{port}
<VirtualHost 127.0.0.1:{port}>
  SSLEngine on
  SSLCertificateFile {cert}
  SSLCertificateKeyFile {key}
  {settings}
</VirtualHost>"""
APACHE = {
    "legacy": f"SSLProtocol all\n  SSLCipherSuite {LEGACY_CIPHERS}",
    "default": "",
    "tls13": "SSLProtocol -all +TLSv1.3",
}

HAPROXY_FRONTEND = """
frontend {policy}
    bind 127.0.0.1:{port} ssl crt {chain} {settings}
    http-request return status 200 content-type text/plain string ok"""
HAPROXY = {
    "legacy": f"ssl-min-ver TLSv1.0 ciphers {LEGACY_CIPHERS}",
    "default": "",
    "tls13": "ssl-min-ver TLSv1.3",
}

CADDY_SITE = """
https://127.0.0.1:{port} {{
	bind 127.0.0.1
	tls {cert} {key} {{
		{settings}
	}}
	respond "ok" 200
}}"""
CADDY = {"default": "", "tls13": "protocols tls1.3"}

LIGHTTPD_SOCKET = """
$SERVER["socket"] == "127.0.0.1:{port}" {{
    ssl.engine = "enable"
    ssl.pemfile = "{chain}"
    {settings}
}}"""
LIGHTTPD = {
    "legacy": 'ssl.openssl.ssl-conf-cmd = ("MinProtocol" => "TLSv1",'
    f' "CipherString" => "{LEGACY_CIPHERS}")',
    "default": "",
    "tls13": 'ssl.openssl.ssl-conf-cmd = ("MinProtocol" => "TLSv1.3")',
}


def _urls(running: Running, policies: dict[str, str]) -> dict[str, str]:
    """The https URL of each policy's listener (the first ports, in the policies' order)."""
    return {
        p: f"https://127.0.0.1:{port}" for p, port in zip(policies, running.ports, strict=False)
    }


def _blocks(template: str, policies: dict[str, str], ports: Sequence[int], **files: str) -> str:
    """``template`` once per policy, in order: its name, its port, its settings, ``files``."""
    return "".join(
        template.format(policy=policy, port=port, settings=settings, **files)
        for (policy, settings), port in zip(policies.items(), ports, strict=True)
    )


def _nginx(workdir: pathlib.Path, certificates: Certificates) -> Running:
    executable = binary("nginx")
    ports = free_ports(len(NGINX))
    servers = _blocks(NGINX_SERVER, NGINX, ports, cert=certificates.cert, key=certificates.key)
    temp = " ".join(f"{kind}_temp_path {workdir};" for kind in ("client_body", "proxy"))
    temp += "".join(f" {kind}_temp_path {workdir};" for kind in ("fastcgi", "uwsgi", "scgi"))
    conf = (
        f"daemon off; worker_processes 1; pid {workdir}/nginx.pid;"
        f" error_log {workdir}/error.log;\nevents {{}}\nhttp {{ access_log off; {temp}"
        f"{servers}\n}}\n"
    )
    (workdir / "nginx.conf").write_text(conf)
    argv = [executable, "-p", str(workdir), "-c", str(workdir / "nginx.conf")]
    return start("nginx", [*argv, "-e", str(workdir / "error.log")], workdir, ports)


def _apache(workdir: pathlib.Path, certificates: Certificates) -> Running:
    executable = binary("apache2", "httpd")
    modules_dir = pathlib.Path("/usr/lib/apache2/modules")
    ports = free_ports(len(APACHE))
    modules = "\n".join(
        f"LoadModule {name}_module {modules_dir}/mod_{name}.so"
        for name in ("mpm_event", "authz_core", "ssl", "alias")
    )
    hosts = _blocks(APACHE_VHOST, APACHE, ports, cert=certificates.cert, key=certificates.key)
    docs = workdir / "docs"
    docs.mkdir()
    conf = (
        f"ServerRoot {workdir}\nServerName 127.0.0.1\nPidFile {workdir}/httpd.pid\n"
        f"ErrorLog {workdir}/error.log\nLogLevel warn\n{modules}\n"
        f"DocumentRoot {docs}\n{hosts}\n"
    )
    (workdir / "httpd.conf").write_text(conf)
    argv = [executable, "-f", str(workdir / "httpd.conf"), "-DFOREGROUND"]
    return start("Apache httpd", argv, workdir, ports)


def _haproxy(workdir: pathlib.Path, certificates: Certificates) -> Running:
    executable = binary("haproxy")
    ports = free_ports(len(HAPROXY))
    frontends = _blocks(HAPROXY_FRONTEND, HAPROXY, ports, chain=certificates.chain)
    conf = (
        "global\n    maxconn 100\ndefaults\n    mode http\n    timeout connect 5s\n"
        f"    timeout client 10s\n    timeout server 10s\n{frontends}\n"
    )
    (workdir / "haproxy.cfg").write_text(conf)
    argv = [executable, "-db", "-f", str(workdir / "haproxy.cfg")]
    return start("HAProxy", argv, workdir, ports)


def _caddy(workdir: pathlib.Path, certificates: Certificates) -> Running:
    executable = binary("caddy")
    ports = free_ports(len(CADDY))
    sites = _blocks(CADDY_SITE, CADDY, ports, cert=certificates.cert, key=certificates.key)
    (workdir / "Caddyfile").write_text("{\n\tauto_https off\n\tadmin off\n}\n" + sites + "\n")
    env = {"HOME": str(workdir), "XDG_DATA_HOME": str(workdir), "XDG_CONFIG_HOME": str(workdir)}
    argv = [executable, "run", "--config", str(workdir / "Caddyfile"), "--adapter", "caddyfile"]
    return start("Caddy", argv, workdir, ports, env=env)


def _lighttpd(workdir: pathlib.Path, certificates: Certificates) -> Running:
    executable = binary("lighttpd")
    *ports, plain = free_ports(len(LIGHTTPD) + 1)  # the main socket: cleartext, unused
    # Run as root, lighttpd serves from a directory anyone can read.
    docs = workdir / "docs"
    docs.mkdir()
    (docs / "index.html").write_text("ok\n")
    for path in (workdir, docs, docs / "index.html"):
        path.chmod(0o755)
    sockets = _blocks(LIGHTTPD_SOCKET, LIGHTTPD, ports, chain=certificates.chain)
    conf = (
        f'server.document-root = "{docs}"\nserver.bind = "127.0.0.1"\nserver.port = {plain}\n'
        f'server.pid-file = "{workdir}/lighttpd.pid"\nserver.errorlog = "{workdir}/error.log"\n'
        f'server.modules = ("mod_openssl")\nindex-file.names = ("index.html")\n{sockets}\n'
    )
    (workdir / "lighttpd.conf").write_text(conf)
    argv = [executable, "-D", "-f", str(workdir / "lighttpd.conf")]
    return start("lighttpd", argv, workdir, [*ports, plain])


STARTERS = {
    "nginx": (_nginx, NGINX),
    "apache": (_apache, APACHE),
    "haproxy": (_haproxy, HAPROXY),
    "caddy": (_caddy, CADDY),
    "lighttpd": (_lighttpd, LIGHTTPD),
}


def serve_policies(
    name: str, workdir: pathlib.Path, certificates: Certificates
) -> Iterator[dict[str, str]]:
    """Start server ``name``: its https URL by policy, while it runs."""
    starter, policies = STARTERS[name]
    running = starter(workdir, certificates)
    try:
        yield _urls(running, policies)
    finally:
        running.stop()
