"""Nodes: every address behind a deployment's name is probed, each as a node of it.

A load-balanced pool is one name with several addresses; a gate that probes
only the first one passes while another node still serves the old protocol.
So by default the name of each deployment (its https URL's host, else its
http URL's) is resolved through the system resolver (``getaddrinfo``: A and
AAAA) and every address is a node: the probes connect to the address, while
SNI, ``Host``/``:authority`` and certificate verification keep the name
(``probes.target.Target.address``). Each (node, requirement) is its own test
item, its id naming the address (``h2 GET / @192.0.2.11``); a name with one
address keeps the ids it had.

Addresses can be given instead of looked up, to test a pool before DNS
points at it: ``--upgrade-resolve=HOST:PORT:ADDR[,ADDR...]`` (curl's
``--resolve``) and a targets line's ``resolve=ADDR[,ADDR...]``. An IP literal
target is its own one node.

A name resolving to more than ``--upgrade-max-nodes`` addresses (default
:data:`DEFAULT_MAX_NODES`) is a usage error, so that a name fronting a large
fleet does not silently become hundreds of tests: the user raises the limit or
names the nodes. Addresses given are not limited.

Parsing and expanding are pure; :func:`resolve_names` asks the resolver, every
name at once, within one timeout.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._targets import Deployment, parse_addresses

__all__ = [
    "DEFAULT_MAX_NODES",
    "Answer",
    "Name",
    "answers_from_json",
    "answers_to_json",
    "expand_nodes",
    "names_to_resolve",
    "parse_resolve",
    "resolve_names",
]

DEFAULT_MAX_NODES = 16

# A name and port as a deployment's primary URL has them (the name lower-cased).
Name = tuple[str, int]
# socket.getaddrinfo's shape: (host, port, ...) -> [(family, type, proto, canonname, sockaddr)].
Resolver = Callable[..., Sequence[tuple[Any, Any, Any, Any, tuple[Any, ...]]]]


def _literal(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def is_literal(host: str) -> bool:
    """Whether ``host`` is an IP address (a URL's host, brackets already taken off)."""
    return _literal(host) is not None


def parse_resolve(value: str) -> tuple[Name, tuple[str, ...]]:
    """One ``--upgrade-resolve=HOST:PORT:ADDR[,ADDR...]`` value (curl's ``--resolve``
    syntax); ValueError with the one-line cause."""
    host, _, rest = value.strip().partition(":")
    port_text, colon, addresses = rest.partition(":")
    if not host or not colon or not addresses:
        raise ValueError(f"expected HOST:PORT:ADDR[,ADDR...], got {value!r}")
    if host.startswith(("+", "-", "[")) or host == "*":
        raise ValueError(
            f"{value!r}: HOST is a name (curl's +, - and * forms are not supported here)"
        )
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"{value!r}: PORT must be a number from 1 to 65535, got {port_text!r}")
    try:
        return (host.lower(), int(port_text)), parse_addresses(addresses)
    except ValueError as exc:
        raise ValueError(f"{value!r}: {exc}") from None


def _order(address: str) -> tuple[int, int, str]:
    parsed = ipaddress.ip_address(address)
    return (parsed.version, int(parsed), address)


def _primary(deployment: Deployment) -> Name:
    endpoint = deployment.target.primary
    return (endpoint.host.lower(), endpoint.port)


def names_to_resolve(fleet: Iterable[Deployment]) -> list[Name]:
    """The names the resolver is asked for: each deployment's, unless it is an IP
    literal, its addresses were given, or it goes through an egress proxy."""
    names: list[Name] = []
    for deployment in fleet:
        name = _primary(deployment)
        # Through an egress proxy the name is the proxy's to resolve (as curl leaves it
        # to the proxy): one node, by name, unless its addresses were given.
        proxied = deployment.target.proxy is not None
        by_name = not deployment.addresses and not proxied and not is_literal(name[0])
        if by_name and name not in names:
            names.append(name)
    return names


@dataclass(frozen=True)
class Answer:
    """What the resolver said of one name: its addresses, sorted, or why there are none."""

    addresses: tuple[str, ...] = ()
    error: str | None = None


def _ask(name: Name, resolver: Resolver) -> Answer:
    host, port = name
    try:
        found = resolver(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return Answer(error=f"cannot resolve {host!r}: {exc.strerror or exc}")
    except (OSError, UnicodeError) as exc:
        return Answer(error=f"cannot resolve {host!r}: {exc}")
    addresses = {str(sockaddr[0]) for *_, sockaddr in found if _literal(str(sockaddr[0]))}
    if not addresses:
        return Answer(error=f"cannot resolve {host!r}: no A or AAAA address")
    return Answer(tuple(sorted(addresses, key=_order)))


def resolve_names(
    names: Sequence[Name], *, timeout: float, resolver: Resolver = socket.getaddrinfo
) -> dict[Name, Answer]:
    """Every name's :class:`Answer`, all asked at once; a name the resolver has not
    answered within ``timeout`` seconds is an error (its thread is abandoned: a daemon
    thread, which does not hold up the exit)."""
    answers: dict[Name, Answer] = {}
    done = threading.Condition()

    def ask(name: Name) -> None:
        answer = _ask(name, resolver)
        with done:
            answers[name] = answer
            done.notify_all()

    for name in names:
        threading.Thread(target=ask, args=(name,), daemon=True, name="pytest-upgrade-dns").start()
    end = time.monotonic() + timeout
    with done:
        while len(answers) < len(names) and (left := end - time.monotonic()) > 0:
            done.wait(left)
        return {
            name: answers.get(name)
            or Answer(error=f"cannot resolve {name[0]!r}: no answer within {timeout:g} s")
            for name in names
        }


def expand_nodes(
    fleet: Sequence[Deployment], answers: Mapping[Name, Answer], *, max_nodes: int
) -> tuple[Deployment, ...]:
    """Each deployment as its nodes, in order: one per address (given, else the
    resolver's), the deployment's name kept; ``node`` set where there are several
    (the test ids then name the address). An IP literal, or a name the resolver was
    not asked about, stays as it is; a name with no address is one deployment whose
    ``unresolved`` says why. ValueError: a name with more than ``max_nodes`` addresses.
    """
    nodes: list[Deployment] = []
    for deployment in fleet:
        name = _primary(deployment)
        addresses = deployment.addresses
        if not addresses:
            answer = answers.get(name)
            if answer is None:
                nodes.append(deployment)
                continue
            if answer.error is not None:
                nodes.append(dataclasses.replace(deployment, unresolved=answer.error))
                continue
            addresses = answer.addresses
            if len(addresses) > max_nodes:
                raise ValueError(
                    f"{deployment.where}: {name[0]} resolves to {len(addresses)} addresses,"
                    f" more than --upgrade-max-nodes ({max_nodes}): test them all with"
                    f" --upgrade-max-nodes={len(addresses)}, or name the nodes to test with"
                    f" --upgrade-resolve={name[0]}:{name[1]}:ADDR[,ADDR...]"
                )
        several = len(addresses) > 1
        for address in addresses:
            target = dataclasses.replace(deployment.target, address=address)
            node = address if several else None
            nodes.append(dataclasses.replace(deployment, target=target, node=node))
    return tuple(nodes)


def answers_to_json(answers: Mapping[Name, Answer]) -> list[list[Any]]:
    """The answers as plain lists (an xdist worker's ``workerinput`` carries them)."""
    return [[host, port, list(a.addresses), a.error] for (host, port), a in answers.items()]


def answers_from_json(data: object) -> dict[Name, Answer] | None:
    """The answers :func:`answers_to_json` wrote; None for anything else."""
    if not isinstance(data, list):
        return None
    answers: dict[Name, Answer] = {}
    for row in data:
        if not (isinstance(row, list) and len(row) == 4):
            return None
        host, port, addresses, error = row
        answers[(str(host), int(port))] = Answer(
            tuple(str(a) for a in addresses), None if error is None else str(error)
        )
    return answers
