"""The link policy (crawler/links.py): what the crawler may fetch, decided before any connection."""

from __future__ import annotations

import pytest

from crawler.links import LinkPolicy

CONFIGURED = ["http://127.0.0.1:3000/rss/so-gddt.xml", "https://baohaiphong.vn/giao-duc.rss", "http://localhost:8080/"]
# DNS is outside the machine: a fixed table stands in for it (a public name that points at a private address)
DNS = {"tin-gia.example": ["127.0.0.1"], "baomoi.example": ["113.160.92.10", "10.1.2.3"], "vnexpress.example": ["111.65.250.2"],
       "localhost": ["127.0.0.1", "::1"]}


@pytest.fixture
def policy() -> LinkPolicy:
    return LinkPolicy(CONFIGURED, resolver=lambda host: DNS.get(host, []))


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:3000/bai-viet/1",  # the RSS bridge's own origin
    "HTTP://127.0.0.1:3000/bai-viet/2",
    "https://baohaiphong.vn/giao-duc/hoc-phi-p-1.html",
    "http://localhost:8080/tin",  # a configured origin, even by name
    "https://vnexpress.example/giao-duc",
    "http://8.8.8.8/",
    "https://khong-phan-giai.example/",  # does not resolve: the download fails as a DNS error on its own
])
def test_allowed(policy: LinkPolicy, url: str) -> None:
    assert policy.refusal(url) is None


@pytest.mark.parametrize(("url", "reason"), [
    ("file://localhost/etc/passwd", "scheme file: is not http(s)"),
    ("data:text/html,<h1>Thông báo</h1>", "scheme data: is not http(s)"),
    ("javascript:alert(document.cookie)", "scheme javascript: is not http(s)"),
    ("ftp://baohaiphong.vn/a", "scheme ftp: is not http(s)"),
    ("//baohaiphong.vn/a", "scheme (none) is not http(s)"),
    ("http://127.0.0.1:6379/", "127.0.0.1 is a private address"),  # Redis: same host as the bridge, other port
    ("https://127.0.0.1:3000/", "127.0.0.1 is a private address"),  # other scheme: another origin
    ("http://localhost:9000/", "localhost resolves to private address"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a private address"),
    ("http://[::1]/", "::1 is a private address"),
    ("http://[::ffff:10.0.0.1]/", "::ffff:10.0.0.1 is a private address"),
    ("http://192.168.1.1/", "192.168.1.1 is a private address"),
    ("http://tin-gia.example/bai", "tin-gia.example resolves to private address 127.0.0.1"),
    ("http://baomoi.example/", "baomoi.example resolves to private address 10.1.2.3"),  # one private answer is enough
    ("http://baohaiphong.vn:99999/", "no host or a malformed port"),
    ("http://baohaiphong.vn/a\x00b", "control character in the link"),
])
def test_refused(policy: LinkPolicy, url: str, reason: str) -> None:
    assert reason in (policy.refusal(url) or "")
