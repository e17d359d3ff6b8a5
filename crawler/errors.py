"""Map download failures (Scrapy/Twisted exceptions) and HTTP answers to one FetchStatus and a message."""

from __future__ import annotations

import re
from email.utils import parsedate_to_datetime
from datetime import UTC, datetime
from http import HTTPStatus

from scrapy.exceptions import IgnoreRequest

from store.models import FetchStatus


class HostDownError(IgnoreRequest):
    """A request skipped because its host failed to connect recently (politeness, retried next run)."""

    def __init__(self, message: str, status: FetchStatus = FetchStatus.connection_error) -> None:
        super().__init__(message)
        self.status = status


class BadLinkError(IgnoreRequest):
    """A request refused by the link policy (crawler/links.py) before any connection."""


class RetryLaterError(IgnoreRequest):
    """A request skipped because its host asked us to wait (429/503 Retry-After)."""


def classify_failure(exc: BaseException, max_bytes: int) -> tuple[FetchStatus, str]:
    """The status and a readable message for a download exception."""
    name = type(exc).__name__
    text = str(exc)
    module = type(exc).__module__
    if isinstance(exc, HostDownError):
        return exc.status, text
    if isinstance(exc, RetryLaterError):
        return FetchStatus.http_error, f"deferred: {text}"
    if isinstance(exc, BadLinkError):
        return FetchStatus.bad_link, text
    if isinstance(exc, IgnoreRequest):
        low = text.lower()
        if "download_maxsize" in low and "decompress" in low:
            # a gzip bomb: a small body that inflates past the page limit (HttpCompressionMiddleware)
            return FetchStatus.too_large, f"larger than the {max_bytes // (1024 * 1024)} MB page limit once decompressed: {text}"
        if "robots" in low:
            return FetchStatus.robots_denied, "forbidden by robots.txt"
        if "redirect" in low:
            return FetchStatus.http_error, "redirect loop: too many redirections"
        return FetchStatus.http_error, f"request dropped: {text or name}"
    if name in {"CannotResolveHostError", "DNSLookupError", "NoResolverError"} or "dns" in name.lower():
        return FetchStatus.dns_error, text if text.lower().startswith("dns lookup failed") else f"DNS lookup failed: {text or name}"
    if name in {"DownloadTimeoutError", "TimeoutError", "TCPTimedOutError", "UserTimeout"} or "timed out" in text.lower():
        return FetchStatus.timeout, f"timed out: {text or name}"
    if name in {"DownloadCancelledError", "CancelledError"}:
        # Scrapy cancels a download only when it outgrows DOWNLOAD_MAXSIZE (or at shutdown, which we never see).
        return FetchStatus.too_large, f"larger than the {max_bytes // (1024 * 1024)} MB page limit: download cancelled"
    if "ssl" in module.lower() or "SSL" in text or "tls" in text.lower() or name in {"SSLError", "Error"} and "OpenSSL" in module:
        return FetchStatus.tls_error, f"TLS handshake failed: {_ssl_detail(text) or name}"
    if name in {"DownloadConnectionRefusedError", "ConnectionRefusedError", "ConnectError", "ConnectionLost", "ConnectionDone", "NoRouteError", "DownloadFailedError", "ResponseNeverReceived", "ResponseFailed", "ConnectionResetError"}:
        # Twisted wraps TLS failures inside ResponseNeverReceived; look at the reasons it carries.
        reasons = " ".join(str(r.value) for r in getattr(exc, "reasons", []) if hasattr(r, "value"))
        if "SSL" in reasons or "ssl" in reasons or "tls" in reasons.lower():
            return FetchStatus.tls_error, f"TLS handshake failed: {_ssl_detail(reasons)}"
        return FetchStatus.connection_error, f"connection failed: {text[:200] or name}"
    return FetchStatus.connection_error, f"{name}: {text[:200]}"


def _ssl_detail(raw: str) -> str:
    """'wrong version number' out of OpenSSL's nested error tuples."""
    found = re.findall(r"'([^']+)'\)\]", raw)
    return found[-1] if found else raw[:200]


def is_connection_failure(status: FetchStatus) -> bool:
    """Failures after which the host is treated as down for a while."""
    return status in {FetchStatus.connection_error, FetchStatus.dns_error}


def http_message(code: int) -> str:
    """'HTTP 500 Internal Server Error'."""
    try:
        phrase = HTTPStatus(code).phrase
    except ValueError:
        phrase = ""
    return f"HTTP {code} {phrase}".strip()


def retry_after_seconds(value: str | bytes | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date)."""
    if not value:
        return None
    raw = value.decode("latin-1") if isinstance(value, bytes) else value
    raw = raw.strip()
    if raw.isdigit():
        return float(raw)
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
