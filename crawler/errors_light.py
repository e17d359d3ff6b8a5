"""User-facing crawl errors, importable without Scrapy (the CLI registers them at start-up)."""

from __future__ import annotations


class CrawlError(RuntimeError):
    """A crawl cannot start as asked (unknown outlet, nothing configured); the message says what to fix."""
