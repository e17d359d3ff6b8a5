"""The dashboard: a week's coverage with readable week names, its files one click away, and the articles behind each count."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from report.alerts import recent_alerts
from report.charts import weeks_png
from report.files import CHART_WEEKS, DOWNLOADS, week_download
from report.weekly import weekly_coverage
from report.weeks import Period, PeriodError, day_period, neighbours, parse_week, previous_week, readable, week_period
from review import present
from review.core import db, need_user, state
from review.web import render
from store import reports as q
from store import queue as review_queue

router = APIRouter(include_in_schema=False)

DASHBOARD_COLUMNS = [
    ("outlet_name", "Cơ quan"), ("items", "Tổng tin"), ("education", "Tin giáo dục"), ("nq71", "Tin NQ71"),
    ("nq71_share", "% NQ71"), ("flagged", "Gắn cờ"), ("tin_gia", "Tin giả"), ("tin_sai_su_that", "Tin sai sự thật"),
]
# what each count means, as the article list's heading says it
SET_LABELS = {
    "items": "Tất cả tin", "copies": "Tin đăng lại", "education": "Tin giáo dục", "nq71": "Tin về NQ71",
    "nq71_explicit": "Tin nêu rõ NQ71", "nq71_task": "Tin NQ71 theo nhiệm vụ", "flagged": "Tin bị gắn cờ",
    "tin_gia": "Kết luận tin giả", "tin_sai_su_that": "Kết luận tin sai sự thật", "undated": "Tin không rõ ngày đăng",
}
FILE_LABELS = {"csv": "CSV", "xlsx": "Excel (XLSX)", "docx": "Báo cáo Word (DOCX)", "png": "Biểu đồ (PNG)"}
PAGE_SIZE = 100


def _week(request: Request) -> Period:
    """The week asked for (?week=2026-W48, as a week picker sends it), or the last complete week."""
    tz = state(request).settings.timezone
    raw = (request.query_params.get("week") or "").strip()
    return parse_week(raw, tz) if raw else previous_week(tz)


def articles_link(what: str, period: Period, outlet: str | None = None) -> str:
    """The article list behind one figure of a period."""
    params = {"what": what, **({"outlet": outlet} if outlet else {}),
              "from": period.first_day.isoformat(), "to": period.last_day.isoformat()}
    return "/articles?" + urlencode(params)


def period_name(text: str) -> str:
    """An alert's period as people read it: a week 'Tuần 47 (16/11–22/11/2026)', a day '25/11/2026'."""
    try:
        return readable(parse_week(text, "UTC"))  # only the calendar days matter here
    except PeriodError:
        pass
    try:
        return date.fromisoformat(text).strftime("%d/%m/%Y")
    except ValueError:
        return text


def _week_words(request: Request, exc: PeriodError) -> str:
    """What is wrong with the week asked for, Vietnamese first (the parser's English after the slash)."""
    raw = (request.query_params.get("week") or "")[:20]
    return f"Tuần {raw!r} không đúng: chọn tuần trên lịch hoặc viết như 2026-W48. / {exc}"


def _bad_week(request: Request, user: Any, exc: PeriodError) -> Response:
    raw = (request.query_params.get("week") or "")[:20]
    return render(request, "dashboard.html", {"user": user, "error": _week_words(request, exc), "week": raw}, 400)


@router.get("/dashboard")
def dashboard(request: Request, session: Session = Depends(db)) -> Response:
    user = need_user(request, session)
    try:
        period = _week(request)
    except PeriodError as exc:
        return _bad_week(request, user, exc)
    coverage = weekly_coverage(session, period.label, state(request).settings)
    before, after = neighbours(period, state(request).settings.timezone)
    return render(
        request,
        "dashboard.html",
        {"user": user, "coverage": coverage, "columns": DASHBOARD_COLUMNS,
         "linked": set(SET_LABELS), "alerts": recent_alerts(session, 20), "week": period.label,
         "week_name": readable(period), "period_name": period_name, "before": before, "after": after, "readable": readable,
         "link": lambda what, outlet=None: articles_link(what, period, outlet), "files": FILE_LABELS,
         "chart_weeks": CHART_WEEKS},
    )


@router.get("/dashboard/chart.png")
def dashboard_chart(request: Request, session: Session = Depends(db)) -> Response:
    need_user(request, session)
    try:
        period = _week(request)
    except PeriodError as exc:
        raise review_queue.ReviewError(_week_words(request, exc)) from None
    png = weeks_png(session, period.label, CHART_WEEKS, state(request).settings)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=300"})


MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "png": "image/png",
}


@router.get("/dashboard/week.{fmt}")
def dashboard_file(fmt: str, request: Request, session: Session = Depends(db)) -> Response:
    user = need_user(request, session)
    if fmt not in DOWNLOADS:
        raise review_queue.NotFound(f"Không có tệp .{fmt[:10]}: chọn CSV, XLSX, DOCX hoặc PNG.")
    try:
        period = _week(request)
    except PeriodError as exc:
        return _bad_week(request, user, exc)
    name, data = week_download(session, state(request).settings, fmt, period.label)
    return Response(data, media_type=MEDIA_TYPES[fmt], headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _list_params(request: Request) -> tuple[str, Period, str | None, int]:
    """(figure, period, outlet slug, page) of an article list; ReviewError says what is wrong."""
    params = request.query_params
    what = params.get("what", "items")
    if what not in SET_LABELS:
        raise review_queue.ReviewError(f"Không có loại tin {what[:30]!r}: chọn một trong {', '.join(SET_LABELS)}.")
    first = present.parse_date(params.get("from", ""), "Từ ngày")
    last = present.parse_date(params.get("to", ""), "Đến ngày")
    try:
        period = day_period(first, last, state(request).settings.timezone)
    except PeriodError:
        raise review_queue.ReviewError("Đến ngày phải sau hoặc bằng từ ngày. / The period ends before it starts.") from None
    page = present.parse_int(params.get("page") or "1", "Trang")
    return what, period, (params.get("outlet") or "").strip() or None, page


@router.get("/articles")
def article_list(request: Request, session: Session = Depends(db)) -> Response:
    user = need_user(request, session)
    try:
        what, period, slug, page = _list_params(request)
    except review_queue.ReviewError as exc:
        return render(request, "articles.html", {"user": user, "error": str(exc)}, 400)
    outlet = q.outlet_by_slug(session, slug) if slug else None
    if slug and outlet is None:
        raise review_queue.NotFound(f"Không có cơ quan {slug[:40]!r}.")
    total, rows = q.articles_behind(session, what, period.start, period.end, outlet.id if outlet else None,
                                    PAGE_SIZE, (page - 1) * PAGE_SIZE)
    week = week_period(period.first_day, state(request).settings.timezone)
    same_week = week.first_day == period.first_day and week.last_day == period.last_day

    def page_link(n: int) -> str:
        return articles_link(what, period, slug) + f"&page={n}"

    return render(
        request,
        "articles.html",
        {"user": user, "what": SET_LABELS[what], "outlet": outlet, "rows": rows, "total": total, "page": page,
         "pages": max(1, -(-total // PAGE_SIZE)), "page_link": page_link,
         "span": readable(week) if same_week else readable(period), "dashboard_week": week.label if same_week else None},
    )

