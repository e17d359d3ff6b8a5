"""Scrapy settings for the nq71 crawler; ``scrapy_settings`` applies our typed Settings (politeness, limits)."""

from __future__ import annotations

from typing import Any

from settings import Settings

BOT_NAME = "nq71"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
ITEM_PIPELINES = {
    "crawler.pipelines.NormalisePipeline": 100,
    "crawler.pipelines.StorePipeline": 300,
}
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middlewares.LinkPolicyMiddleware": 50,  # first: nothing refused may reach robots.txt or a socket
    "crawler.middlewares.RobotsMiddleware": 100,
    "crawler.middlewares.HostGuardMiddleware": 560,
}
REDIRECT_MAX_TIMES = 5
RETRY_ENABLED = False  # failures are recorded and retried on the next run, with backoff
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
# No control port on a monitoring box; the CLI prints progress instead.
EXTENSIONS = {"scrapy.extensions.remote_control.RemoteControl": None}
CONCURRENT_ITEMS = 8  # our pipelines are synchronous: many parallel item tasks only add asyncio overhead
LOG_INSTALL_ROOT_HANDLER = False  # logging is configured by the entry point (cli/)
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
LOG_LEVEL = "WARNING"


def scrapy_settings(settings: Settings) -> dict[str, Any]:
    """The Scrapy settings for one crawl: module defaults plus the politeness and limits from Settings."""
    values: dict[str, Any] = {k: v for k, v in globals().items() if k.isupper()}
    values.update(
        {
            "USER_AGENT": settings.user_agent_string,
            "ROBOTSTXT_OBEY": settings.obey_robots,
            "DOWNLOAD_DELAY": settings.download_delay,
            "DOWNLOAD_DELAY_JITTER": 0.5 if settings.download_delay > 0 else 0.0,  # ±50% around the delay
            "CONCURRENT_REQUESTS_PER_DOMAIN": max(1, settings.concurrency_per_host),
            "CONCURRENT_REQUESTS": max(16, settings.concurrency_per_host * 8),
            "DOWNLOAD_TIMEOUT": settings.download_timeout,
            "DOWNLOAD_MAXSIZE": settings.max_page_bytes,
            "DOWNLOAD_WARNSIZE": 0,
            "AUTOTHROTTLE_ENABLED": settings.autothrottle,
            "AUTOTHROTTLE_START_DELAY": max(settings.download_delay, 1.0),
            "AUTOTHROTTLE_TARGET_CONCURRENCY": float(max(1, settings.concurrency_per_host)),
            "HOST_DOWN_SECONDS": settings.host_down_minutes * 60,  # our middleware's own Scrapy setting
            "LOG_LEVEL": "DEBUG" if settings.log_level == "DEBUG" else "WARNING",
        }
    )
    if settings.redis_url:
        # Several machines share one frontier: requests and seen fingerprints live in Redis.
        values.update(
            {
                "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
                "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
                "SCHEDULER_PERSIST": True,
                "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
                "SCHEDULER_IDLE_BEFORE_CLOSE": 0,  # never a blocking pop: it would stall the reactor
                "REDIS_URL": settings.redis_url,
            }
        )
    return values
