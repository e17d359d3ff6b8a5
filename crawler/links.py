"""The link policy: the crawler follows http(s) links to public addresses, or to an origin sources.toml configures.

Anything else (``file:``, ``data:``, ``javascript:``, a private or loopback address such as Redis on
127.0.0.1:6379, a public-looking name that resolves to one) is refused before any connection. Names are
resolved here, once per host and crawl; a name that does not resolve is let through, since the download
then fails as a DNS error on its own.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from crawler.urls import DEFAULT_PORTS

Origin = tuple[str, str, int]
Resolver = Callable[[str], list[str]]
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def origin_of(url: str) -> Origin | None:
    """(scheme, host, port) of an http(s) URL, the default port filled in; None for anything else."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if scheme not in DEFAULT_PORTS or not host:
        return None
    return scheme, host, port or DEFAULT_PORTS[scheme]


def resolve(host: str) -> list[str]:
    """Every address a host name resolves to (empty when it does not resolve)."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        return []
    return sorted({str(info[4][0]) for info in infos})


def _private(address: str) -> bool:
    """True for an address that is not on the public internet (loopback, private, link-local, reserved ...)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return True
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


class LinkPolicy:
    """Decides, before any connection, whether the crawler may fetch a URL."""

    def __init__(self, configured: Iterable[str], resolver: Resolver = resolve) -> None:
        self.origins = {o for o in map(origin_of, configured) if o is not None}
        self.resolver = resolver
        self._hosts: dict[str, str | None] = {}  # host -> refusal reason (None: public), per crawl

    def refusal(self, url: str) -> str | None:
        """Why the crawler may not fetch this URL (one short English phrase), or None when it may."""
        if _CONTROL.search(url.strip()):
            return "control character in the link"
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme not in DEFAULT_PORTS:
            return f"scheme {scheme + ':' if scheme else '(none)'} is not http(s)"
        origin = origin_of(url)
        if origin is None:
            return "no host or a malformed port"
        if origin in self.origins:
            return None  # a feed or homepage of sources.toml: the RSS bridge, the demo's local outlets
        host = origin[1]
        if host not in self._hosts:
            self._hosts[host] = self._host_refusal(host)
        return self._hosts[host]

    def _host_refusal(self, host: str) -> str | None:
        literal = host.strip("[]")
        try:
            ipaddress.ip_address(literal)
            addresses = [literal]
        except ValueError:
            addresses = self.resolver(host)
        bad = [a for a in addresses if _private(a)]
        if not bad:
            return None
        return f"{host} is a private address" if addresses == [literal] else f"{host} resolves to private address {bad[0]}"
