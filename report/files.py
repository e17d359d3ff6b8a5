"""Report files on disk: the weekly set the scheduler writes, and one file per CLI call."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from report.charts import trend_png, weeks_png
from report.export import csv_bytes, default_name, docx_bytes, render_table, write_file, xlsx_bytes
from report.weekly import WeeklyCoverage, nq71_trend, period_coverage, recent_weeks
from report.weeks import PeriodError, parse_week, previous_week
from settings import Settings

FORMATS = ("table", "csv", "xlsx", "png", "docx")
DOWNLOADS = ("csv", "xlsx", "docx", "png")
CHART_WEEKS = 8  # a PNG of one week says nothing; a chart covers at least this many


def _chart_weeks(weeks: int) -> int:
    return weeks if weeks > 1 else CHART_WEEKS


def weekly_output(session: Session, settings: Settings, fmt: str, week: str | None, weeks: int, out: Path | None) -> tuple[str, Path | None]:
    """Render the weekly report; returns (table text or "", written path or None)."""
    if fmt not in FORMATS:
        raise PeriodError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    if fmt == "png":
        png = weeks_png(session, week, _chart_weeks(weeks), settings)
        last = parse_week(week, settings.timezone).label if week else previous_week(settings.timezone).label
        path = out or settings.reports_dir / f"bao-cao-nq71-{last}-{_chart_weeks(weeks)}tuan.png"
        return "", write_file(png, path)
    covs = recent_weeks(session, week, weeks, settings)
    return _write(session, settings, fmt, covs, out, weeks)


def period_output(session: Session, settings: Settings, fmt: str, first: date, last: date, out: Path | None) -> tuple[str, Path | None]:
    """Render a report over whole days first..last (a quarter, a year)."""
    if fmt not in FORMATS:
        raise PeriodError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    cov = period_coverage(session, first, last, settings)
    if fmt == "png":
        count = max(1, (last - first).days // 7 + 1)
        labels, trend = nq71_trend(session, parse_week(_iso(last), settings.timezone), count, settings)
        path = out or settings.reports_dir / default_name(cov, "png")
        return "", write_file(trend_png(labels, trend, f"Tin về Nghị quyết 71-NQ/TW theo cơ quan, {cov.label}"), path)
    return _write(session, settings, fmt, [cov], out, 1)


def _iso(day: date) -> str:
    iso = day.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def _write(session: Session, settings: Settings, fmt: str, covs: list[WeeklyCoverage], out: Path | None, weeks: int) -> tuple[str, Path | None]:
    last = covs[-1]
    if fmt == "table":
        text = "\n\n".join(render_table(c) for c in covs)
        if out:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text + "\n", encoding="utf-8")
        return text, out
    path = out or settings.reports_dir / default_name(last, fmt, weeks)
    return "", write_file(file_bytes(session, settings, fmt, covs, weeks), path)


def file_bytes(session: Session, settings: Settings, fmt: str, covs: list[WeeklyCoverage], weeks: int) -> bytes:
    """The CSV, XLSX or DOCX of some periods' coverage, as bytes."""
    last = covs[-1]
    if fmt == "csv":
        return csv_bytes(covs)
    # the trend covers the weeks asked for, a whole period, or at least CHART_WEEKS weeks
    trend_last = parse_week(_iso(last.period.last_day), settings.timezone)
    span = weeks if last.period.is_week else (last.period.last_day - last.period.first_day).days // 7 + 1
    labels, trend = nq71_trend(session, trend_last, min(_chart_weeks(span), 106), settings)
    if fmt == "xlsx":
        return xlsx_bytes(covs, (labels, trend), settings.timezone)
    # docx: one document for the period (the newest week when several were asked for), with the chart
    chart = trend_png(labels, trend, "Tin về Nghị quyết 71-NQ/TW theo cơ quan")
    return docx_bytes(last, tz_name=settings.timezone, chart=chart)


def week_download(session: Session, settings: Settings, fmt: str, week: str) -> tuple[str, bytes]:
    """(file name, bytes) of one week's CSV, XLSX, DOCX or PNG, for the dashboard's download links."""
    if fmt not in DOWNLOADS:
        raise PeriodError(f"format {fmt!r} is not one of {', '.join(DOWNLOADS)}")
    if fmt == "png":
        label = parse_week(week, settings.timezone).label
        return f"bao-cao-nq71-{label}-{CHART_WEEKS}tuan.png", weeks_png(session, week, CHART_WEEKS, settings)
    covs = recent_weeks(session, week, 1, settings)
    return default_name(covs[-1], fmt), file_bytes(session, settings, fmt, covs, 1)


def write_weekly_set(session: Session, settings: Settings, week: str | None = None) -> list[Path]:
    """CSV, XLSX, PNG and DOCX of one week under reports_dir/<week>/ (the Monday 07:00 job)."""
    label = parse_week(week, settings.timezone).label if week else previous_week(settings.timezone).label
    folder = settings.reports_dir / label
    paths = []
    for fmt in ("csv", "xlsx", "png", "docx"):
        _, path = weekly_output(session, settings, fmt, label, 1, folder / f"bao-cao-nq71-{label}.{fmt}")
        assert path is not None
        paths.append(path)
    return paths

