"""URL normalisation: the unique key of an article (lowercase host, no fragment, no tracking parameters)."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

# Parameters that only say where a click came from; they never change the article.
TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid", "_ga", "zarsrc", "gidzl", "ref", "source"}
)
DEFAULT_PORTS = {"http": 80, "https": 443}
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _is_tracking(name: str) -> bool:
    low = name.lower()
    return low.startswith("utm_") or low in TRACKING_PARAMS


def normalise_url(url: str, base: str | None = None) -> str:
    """The normalised form of a (possibly relative) URL: the dedup key stored in ``Article.url``."""
    if not url.isascii():
        url = _SURROGATE.sub("\ufffd", url)  # a lone surrogate cannot be percent-encoded
    if base:
        url = urljoin(base, url.strip())
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    port = parts.port
    netloc = host if port is None or DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    path = parts.path or "/"
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)))
    return urlunsplit((scheme, netloc, path, query, ""))


def host_of(url: str) -> str:
    """``host[:port]`` of a URL, lowercased (politeness and host-down bookkeeping are per host)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return f"{host}:{parts.port}" if parts.port else host


def same_site(a: str, b: str) -> bool:
    """True when two URLs are on the same host (a canonical link elsewhere means syndication)."""
    return host_of(a) == host_of(b)
