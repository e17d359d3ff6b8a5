"""Coverage and feed-health alerts: computed from SQL counts, stored once per kind/target/period, e-mailed."""

from __future__ import annotations

import logging
import smtplib
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from report.weeks import Period, local_text, local_today, parse_week, previous_week, readable, tz_caption, weeks_ending
from settings import Settings
from store import reports as q
from store.models import Alert

log = logging.getLogger(__name__)

TRAILING_WEEKS = 8
LOW_SIGMAS = 1.5
HIGH_SIGMAS = 2.0
MIN_SIGMA = 1.0  # a perfectly steady outlet (σ = 0) would otherwise alert on a one-item change
MIN_HISTORY_WEEKS = 4  # weeks with items among the trailing 8 before volume bounds mean anything
FEED_FAILING_HOURS = 24.0


class AlertMailError(RuntimeError):
    """The SMTP server refused or could not be reached; alerts stay unsent and are retried next run."""


@dataclass(frozen=True)
class AlertSpec:
    """An alert to store: what, about which outlet/feed, for which week or day."""

    kind: str
    outlet_id: int | None
    feed_id: int | None
    period: str
    message: str
    details: dict[str, Any]


def volume_bounds(history: list[int]) -> tuple[float, float, float, float]:
    """(mean, σ, low, high) of trailing weekly volumes; σ is the population deviation, floored at MIN_SIGMA."""
    mean = statistics.fmean(history)
    sigma = statistics.pstdev(history)
    eff = max(sigma, MIN_SIGMA)
    return mean, sigma, mean - LOW_SIGMAS * eff, mean + HIGH_SIGMAS * eff


def volume_alerts(session: Session, week: Period, settings: Settings) -> list[AlertSpec]:
    """Zero items, or weekly volume outside mean − 1.5σ .. mean + 2σ of the trailing 8 weeks, per outlet."""
    periods = weeks_ending(week, TRAILING_WEEKS + 1, settings.timezone)
    counts = q.counts_by_range(session, [(p.start, p.end) for p in periods])
    history_counts, current = counts[:-1], counts[-1]
    specs: list[AlertSpec] = []
    for o in q.registry_outlets(session):
        if not o["active"]:
            continue
        volume = current.get(o["id"], 0)
        history = [w.get(o["id"], 0) for w in history_counts]
        if volume == 0:
            specs.append(
                AlertSpec(
                    "zero_items", o["id"], None, week.label,
                    f"{o['name']}: không có tin nào trong {readable(week, 'tuần')}",
                    {"outlet": o["slug"], "volume": 0, "history": history},
                )
            )
            continue
        if sum(1 for n in history if n > 0) < MIN_HISTORY_WEEKS:
            continue
        mean, sigma, low, high = volume_bounds(history)
        if low <= volume <= high:
            continue
        kind = "volume_low" if volume < low else "volume_high"
        word = "thấp bất thường" if kind == "volume_low" else "cao bất thường"
        specs.append(
            AlertSpec(
                kind, o["id"], None, week.label,
                f"{o['name']}: {volume} tin trong {readable(week, 'tuần')}, {word} "
                f"(8 tuần trước: trung bình {mean:.1f}, khoảng {max(low, 0):.1f}–{high:.1f})",
                {"outlet": o["slug"], "volume": volume, "history": history, "mean": round(mean, 2),
                 "sigma": round(sigma, 2), "low": round(low, 2), "high": round(high, 2)},
            )
        )
    return specs


def feed_alerts(session: Session, now: datetime, settings: Settings) -> list[AlertSpec]:
    """Feeds failing for more than 24 hours; one alert per feed per local day while it keeps failing."""
    day = local_today(settings.timezone, now).isoformat()
    specs = []
    for f in q.failing_feeds(session, now, FEED_FAILING_HOURS):
        since = f["last_success_at"]
        since_text = f"{local_text(since, settings.timezone)} ({tz_caption(settings.timezone, since)})" if since else "chưa bao giờ"
        specs.append(
            AlertSpec(
                "feed_failing", f["outlet_id"], f["feed_id"], day,
                f"{f['outlet_name']}: nguồn {f['url']} lỗi ({f['status']}) quá 24 giờ; lần thành công cuối: {since_text}",
                {"outlet": f["outlet"], "url": f["url"], "status": f["status"], "http_status": f["http_status"],
                 "message": f["message"], "last_success_at": since.isoformat() if since else None},
            )
        )
    return specs


def _lock(session: Session) -> None:
    # Alert uniqueness cannot rely on the constraint (NULL outlet/feed ids are distinct there), so
    # writers are serialised: a transaction-scoped advisory lock on PostgreSQL; SQLite has one writer.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(71071)"))


def store_alerts(session: Session, specs: list[AlertSpec]) -> list[Alert]:
    """Insert the alerts not stored yet (NULL-safe match on kind/outlet/feed/period); returns the new ones."""
    _lock(session)
    new = []
    for spec in specs:
        if q.find_alert(session, spec.kind, spec.outlet_id, spec.feed_id, spec.period) is not None:
            continue
        alert = Alert(
            kind=spec.kind, outlet_id=spec.outlet_id, feed_id=spec.feed_id, period=spec.period,
            message=spec.message, details=spec.details,
        )
        session.add(alert)
        new.append(alert)
    session.flush()
    return new


def check_alerts(session: Session, settings: Settings, week: str | None = None, now: datetime | None = None) -> list[Alert]:
    """Evaluate the last complete week's volumes and feed health; store and return the new alerts."""
    now = now or datetime.now(UTC)
    period = parse_week(week, settings.timezone) if week else previous_week(settings.timezone, now)
    specs = volume_alerts(session, period, settings) + feed_alerts(session, now, settings)
    return store_alerts(session, specs)


def recent_alerts(session: Session, limit: int = 50) -> list[Alert]:
    """Newest alerts first, for the dashboard."""
    return q.recent_alerts(session, limit)


def recipients(settings: Settings) -> list[str]:
    """Addresses in NQ71_ALERT_EMAILS (comma or semicolon separated)."""
    return [a.strip() for a in settings.alert_emails.replace(";", ",").split(",") if a.strip()]


def compose(alerts: list[Alert], settings: Settings) -> EmailMessage:
    """One digest message listing the alerts."""
    msg = EmailMessage()
    msg["Subject"] = f"[nq71-monitor] {len(alerts)} cảnh báo mới (new alerts)"
    msg["From"] = settings.smtp_from
    msg["To"] = ", ".join(recipients(settings))
    lines = ["Hệ thống theo dõi tin Nghị quyết 71-NQ/TW ghi nhận các cảnh báo sau:", ""]
    lines += [f"- [{a.kind}] {a.period}: {a.message}" for a in alerts]
    lines += ["", "Thư gửi tự động từ nq71-monitor; xem chi tiết trên trang tổng quan (dashboard)."]
    msg.set_content("\n".join(lines))
    return msg


def send_pending(session: Session, settings: Settings, now: datetime | None = None) -> int:
    """E-mail unsent alerts as one digest when SMTP is configured; marks them sent. Returns how many."""
    if not settings.smtp_host or not recipients(settings):
        return 0
    pending = q.unsent_alerts(session)
    if not pending:
        return 0
    msg = compose(pending, settings)
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls()
                smtp.ehlo()
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password)
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise AlertMailError(f"cannot send alerts through {settings.smtp_host}:{settings.smtp_port}: {exc}") from exc
    stamp = now or datetime.now(UTC)
    for alert in pending:
        alert.sent_at = stamp
    session.flush()
    log.info("e-mailed %s alert(s) to %s", len(pending), msg["To"])
    return len(pending)
