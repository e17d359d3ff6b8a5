"""Downloader middlewares: the link policy, and host guard (after a connection failure a host is down for a while)."""

from __future__ import annotations

import logging
import time
from typing import Any

from urllib.parse import urljoin

from scrapy import Request
from scrapy.http import Response
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred
from scrapy.crawler import Crawler

from crawler.errors import BadLinkError, HostDownError, classify_failure, is_connection_failure
from crawler.links import LinkPolicy
from crawler.urls import host_of
from store.models import FetchStatus

log = logging.getLogger(__name__)
# Only failures to reach the host at all (not a dropped keep-alive connection or a slow answer).
HOST_DOWN_ERRORS = frozenset(
    {"DownloadConnectionRefusedError", "ConnectionRefusedError", "CannotResolveHostError", "DNSLookupError", "NoRouteError", "TCPTimedOutError", "ConnectError"}
)


class LinkPolicyMiddleware:
    """Refuses every request the link policy forbids, before robots.txt or any connection.

    Redirects are covered too: RedirectMiddleware's follow-up request comes back through here.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LinkPolicyMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        policy = getattr(getattr(self.crawler.spider, "ctx", None), "links", None)
        if policy is None:
            raise BadLinkError("no link policy configured: refusing every request")
        self._check(policy, request.url)

    def process_response(self, request: Request, response: Response) -> Response:
        """A redirect RedirectMiddleware let through (it drops non-http targets) is refused here too."""
        location = response.headers.get("Location") if 300 <= response.status < 400 else None
        policy = getattr(getattr(self.crawler.spider, "ctx", None), "links", None)
        if location and policy is not None:
            self._check(policy, urljoin(request.url, location.decode("latin-1")))
        return response

    @staticmethod
    def _check(policy: LinkPolicy, url: str) -> None:
        reason = policy.refusal(url)
        if reason is not None:
            raise BadLinkError(f"link refused: {reason}: {url[:200]}")


class HostGuardMiddleware:
    """Marks a host down for ``HOST_DOWN_SECONDS`` (from ``NQ71_HOST_DOWN_MINUTES``) after a connection/DNS failure and defers its requests."""

    def __init__(self, down_seconds: float, max_bytes: int) -> None:
        self.down_seconds = down_seconds
        self.max_bytes = max_bytes
        self.down_until: dict[str, tuple[float, str, FetchStatus]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> HostGuardMiddleware:
        return cls(crawler.settings.getfloat("HOST_DOWN_SECONDS", 600.0), crawler.settings.getint("DOWNLOAD_MAXSIZE"))

    def process_request(self, request: Request) -> None:
        host = host_of(request.url)
        down = self.down_until.get(host)
        if down is not None and time.monotonic() < down[0]:
            raise HostDownError(f"{down[1]} (host {host} treated as down for {self.down_seconds / 60:.0f} min; request deferred to the next run)", down[2])

    def process_exception(self, request: Request, exception: BaseException) -> Any:
        status, message = classify_failure(exception, self.max_bytes)
        if type(exception).__name__ in HOST_DOWN_ERRORS and is_connection_failure(status):
            host = host_of(request.url)
            self.down_until[host] = (time.monotonic() + self.down_seconds, message, status)
            log.warning("%s: host down for %.0f s after %s", host, self.down_seconds, type(exception).__name__)
        return None


class RobotsMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, fixed for requests that wait while robots.txt is still downloading.

    Scrapy 2.19 lets every waiter await the same Deferred; the first waiter's callback swallows the parser,
    so the others get None and are let through (a disallowed feed was fetched). Each waiter gets its own
    Deferred here, relayed from the shared one, as Scrapy itself did before
    https://github.com/scrapy/scrapy/pull/6802 ("Refactor RobotsTxtMiddleware to use async def
    process_request()") replaced the relay with ``await maybe_deferred_to_future(parser)``; its review notes
    that path has no test. Drop this class when Scrapy relays per waiter again (tests/crawler: robots.txt e2e).
    """

    async def robot_parser(self, request: Request) -> Any:
        netloc = urlparse_cached(request).netloc
        pending = self._parsers.get(netloc)
        if isinstance(pending, Deferred):
            waiter: Deferred[Any] = Deferred()

            def relay(result: Any) -> Any:
                waiter.callback(result)
                return result  # keep the result for the next waiter

            pending.addBoth(relay)
            return await maybe_deferred_to_future(waiter)
        return await super().robot_parser(request)
