"""ISO weeks and date periods in the city's time zone, turned into UTC ranges the store can index."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

FIRST_YEAR, LAST_YEAR = 1900, 2999  # a week's range must stay inside what datetime and the databases hold
WEEK_RE = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)


class PeriodError(ValueError):
    """A week or date range given by a user cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class Period:
    """A half-open UTC range [start, end) covering whole local days first_day..last_day."""

    label: str  # "2026-W47" or "2026-07-01..2026-09-30"
    first_day: date
    last_day: date
    start: datetime
    end: datetime

    @property
    def is_week(self) -> bool:
        return "W" in self.label


def _local_midnight_utc(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def week_label(year: int, week: int) -> str:
    """The ISO label, zero-padded: 2026-W05."""
    return f"{year:04d}-W{week:02d}"


def parse_week(text: str, tz_name: str) -> Period:
    """'2026-W47' → that ISO week's Monday 00:00 .. next Monday 00:00 local time, in UTC."""
    m = WEEK_RE.match(text.strip())
    if not m:
        raise PeriodError(f"week {text!r} is not an ISO week: write it like 2026-W47")
    year, week = int(m.group(1)), int(m.group(2))
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise PeriodError(f"tuần {text!r}: năm phải từ {FIRST_YEAR} đến {LAST_YEAR} / year must be {FIRST_YEAR}-{LAST_YEAR}")
    try:
        monday = date.fromisocalendar(year, week, 1)
    except ValueError:
        raise PeriodError(f"week {text!r} does not exist: {year} has weeks 1-{date(year, 12, 28).isocalendar()[1]}") from None
    return week_period(monday, tz_name)


def week_period(day: date, tz_name: str) -> Period:
    """The ISO week containing a local day."""
    tz = ZoneInfo(tz_name)
    iso = day.isocalendar()
    monday = day - timedelta(days=iso.weekday - 1)
    sunday = monday + timedelta(days=6)
    return Period(
        week_label(iso.year, iso.week), monday, sunday,
        _local_midnight_utc(monday, tz), _local_midnight_utc(sunday + timedelta(days=1), tz),
    )


def readable(period: Period, word: str = "Tuần") -> str:
    """'Tuần 48 (23/11–29/11/2026)' for a week ('tuần 48 …' inside a sentence); '01/07/2026–30/09/2026' otherwise."""
    first, last = period.first_day, period.last_day
    head = f"{first:%d/%m}" if first.year == last.year else f"{first:%d/%m/%Y}"
    span = f"{head}–{last:%d/%m/%Y}"
    if not period.is_week:
        return span
    return f"{word} {int(period.label.split('W')[1])} ({span})"


def neighbours(period: Period, tz_name: str) -> tuple[Period, Period]:
    """The ISO weeks before and after a week."""
    return week_period(period.first_day - timedelta(days=7), tz_name), week_period(period.first_day + timedelta(days=7), tz_name)


def tz_caption(tz_name: str, moment: datetime | None = None) -> str:
    """How times in files are labelled: 'giờ Việt Nam, UTC+07:00' (or the zone's name and offset)."""
    offset = (moment or datetime.now(UTC)).astimezone(ZoneInfo(tz_name)).strftime("%z")
    utc = f"UTC{offset[:3]}:{offset[3:]}"
    return f"giờ Việt Nam, {utc}" if tz_name in ("Asia/Ho_Chi_Minh", "Asia/Saigon") else f"giờ {tz_name}, {utc}"


def local_text(moment: datetime | None, tz_name: str) -> str:
    """An instant as 'dd/mm/yyyy HH:MM' on the city's wall clock ('' when missing; naive means UTC)."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # SQLite hands stored UTC instants back without a zone
    return moment.astimezone(ZoneInfo(tz_name)).strftime("%d/%m/%Y %H:%M")


def week_of(moment: datetime, tz_name: str) -> str:
    """The ISO week label of an instant, as seen on a wall clock in tz_name."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: attach a timezone first")
    iso = moment.astimezone(ZoneInfo(tz_name)).date().isocalendar()
    return week_label(iso.year, iso.week)


def local_today(tz_name: str, now: datetime | None = None) -> date:
    """Today's date on the city's wall clock."""
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(tz_name)).date()


def previous_week(tz_name: str, now: datetime | None = None) -> Period:
    """The last complete ISO week: the one the Monday morning report covers."""
    return week_period(local_today(tz_name, now) - timedelta(days=7), tz_name)


def current_week(tz_name: str, now: datetime | None = None) -> Period:
    """The ISO week in progress."""
    return week_period(local_today(tz_name, now), tz_name)


def weeks_ending(last: Period, count: int, tz_name: str) -> list[Period]:
    """`count` consecutive ISO weeks, oldest first, the newest being `last`."""
    if count < 1:
        raise PeriodError("the number of weeks must be at least 1")
    return [week_period(last.first_day - timedelta(weeks=n), tz_name) for n in range(count - 1, -1, -1)]


def parse_day(text: str) -> date:
    """A day written YYYY-MM-DD (or DD/MM/YYYY, as Vietnamese offices write it)."""
    raw = text.strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    raise PeriodError(f"date {text!r} is not a date: write it like 2026-07-01 or 01/07/2026")


def day_period(first: date, last: date, tz_name: str) -> Period:
    """Whole local days first..last inclusive."""
    if last < first:
        raise PeriodError(f"the period ends ({last}) before it starts ({first}): swap --from and --to")
    tz = ZoneInfo(tz_name)
    return Period(
        f"{first.isoformat()}..{last.isoformat()}", first, last,
        _local_midnight_utc(first, tz), _local_midnight_utc(last + timedelta(days=1), tz),
    )
