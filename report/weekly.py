"""Coverage per outlet for an ISO week or any date period: the figures Sở VHTTDL evaluates the press by."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from report.weeks import Period, day_period, parse_week, previous_week, weeks_ending
from settings import Settings
from store import reports as q

# the eight task groups in a few words: column headers here, theme names in the review app
THEME_LABELS = {
    1: "Nhận thức, truyền thông",
    2: "Thể chế, pháp luật",
    3: "Chuyển đổi số, AI",
    4: "Nội dung, phương pháp",
    5: "Nhà giáo, cán bộ quản lý",
    6: "Đầu tư, điều kiện",
    7: "Đại học, nhân lực chất lượng cao",
    8: "Hợp tác quốc tế",
}

# (key, Vietnamese header) in display order; the CSV/XLSX/DOCX writers and the dashboard use these.
COLUMNS: list[tuple[str, str]] = [
    ("outlet", "Mã cơ quan"),
    ("outlet_name", "Cơ quan"),
    ("kind", "Loại"),
    ("tier", "Cấp"),
    ("has_nq71_section", "Có chuyên mục NQ71"),
    ("items", "Tổng tin"),
    ("copies", "Trong đó tin đăng lại"),
    ("education", "Tin giáo dục"),
    ("nq71_explicit", "NQ71 nêu rõ"),
    ("nq71_task", "NQ71 theo nhiệm vụ"),
    ("nq71", "Tổng tin NQ71"),
    ("nq71_share", "Tỷ lệ NQ71/tin giáo dục (%)"),
    *[(f"g{n}", f"Nhóm {n}: {THEME_LABELS[n]}") for n in range(1, 9)],
    ("flagged", "Tin bị gắn cờ"),
    ("tin_gia", "Kết luận tin giả"),
    ("tin_sai_su_that", "Kết luận tin sai sự thật"),
    ("median_hours", "Trung vị giờ đến kết luận"),
    ("undated", "Tin không rõ ngày"),
]
NUMERIC = [k for k, _ in COLUMNS[5:] if k not in ("nq71_share", "median_hours")]
KIND_ORDER = {"press": 0, "portal": 1, "agency": 2, "school": 3, "social": 4}


@dataclass
class WeeklyCoverage:
    """One period's coverage: a row per outlet, totals, undated items, outlets with no NQ71 item."""

    period: Period
    columns: list[tuple[str, str]]
    rows: list[dict[str, Any]]
    totals: dict[str, Any]
    undated: int
    zero_coverage: list[dict[str, Any]]
    flagged: list[dict[str, Any]] = field(default_factory=list)
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def label(self) -> str:
        return self.period.label

    @property
    def week(self) -> str:
        return self.period.label


def share(nq71: int, education: int) -> float | None:
    """NQ71 items as a percentage of education items (None when there is no education item)."""
    return round(100.0 * nq71 / education, 1) if education else None


def coverage(session: Session, period: Period, flagged_limit: int = 200) -> WeeklyCoverage:
    """Compute coverage for a period; every count is an SQL aggregate grouped by outlet."""
    counts = q.coverage_counts(session, period.start, period.end)
    undated = q.undated_counts(session, period.start, period.end)
    reviews = q.review_counts(session, period.start, period.end)
    outlets = q.registry_outlets(session, set(counts) | set(undated) | set(reviews))
    rows: list[dict[str, Any]] = []
    for o in outlets:
        c = counts.get(o["id"], {})
        r = reviews.get(o["id"], {})
        row: dict[str, Any] = {
            "outlet": o["slug"],
            "outlet_name": o["name"],
            "kind": o["kind"],
            "tier": o["tier"],
            "has_nq71_section": o["has_nq71_section"],
            "active": o["active"],
            "items": c.get("items", 0),
            "copies": c.get("copies", 0),
            "education": c.get("education", 0),
            "nq71_explicit": c.get("nq71_explicit", 0),
            "nq71_task": c.get("nq71_task", 0),
            "unclassified": c.get("unclassified", 0),
        }
        row["nq71"] = row["nq71_explicit"] + row["nq71_task"]
        row["nq71_share"] = share(row["nq71"], row["education"])
        for n in range(1, 9):
            row[f"g{n}"] = c.get(f"g{n}", 0)
        row["flagged"] = r.get("flagged", 0)
        row["tin_gia"] = r.get("tin_gia", 0)
        row["tin_sai_su_that"] = r.get("tin_sai_su_that", 0)
        row["median_hours"] = q.median_hours(r.get("hours", []))
        row["undated"] = undated.get(o["id"], 0)
        row["city_press"] = o["kind"] == "press" and o["tier"] == "city"
        row["zero_nq71"] = row["nq71"] == 0
        rows.append(row)
    rows.sort(key=lambda r: (r["tier"] != "city", KIND_ORDER.get(r["kind"], 9), r["outlet_name"]))

    totals: dict[str, Any] = {k: sum(r[k] for r in rows) for k in NUMERIC}
    totals["nq71"] = totals["nq71_explicit"] + totals["nq71_task"]
    totals["nq71_share"] = share(totals["nq71"], totals["education"])
    totals["median_hours"] = q.median_hours(q.group_hours(reviews))
    orphans = q.orphan_copy_stories(session, period.start, period.end)
    totals["stories"] = sum(c.get("originals", 0) for c in counts.values()) + orphans["stories"]
    totals["nq71_stories"] = sum(c.get("nq71_originals", 0) for c in counts.values()) + orphans["nq71_stories"]
    registry = [r for r in rows if r["active"]]
    city_press = [r for r in registry if r["city_press"]]
    totals["outlets"] = len(registry)
    totals["outlets_with_nq71"] = sum(1 for r in registry if r["nq71"] > 0)
    totals["outlets_with_section"] = sum(1 for r in registry if r["has_nq71_section"])
    totals["city_press"] = len(city_press)
    totals["city_press_with_nq71"] = sum(1 for r in city_press if r["nq71"] > 0)
    totals["city_press_with_section"] = sum(1 for r in city_press if r["has_nq71_section"])
    zero = [
        {k: r[k] for k in ("outlet", "outlet_name", "kind", "tier", "has_nq71_section", "items", "city_press")}
        for r in registry
        if r["zero_nq71"]
    ]
    return WeeklyCoverage(
        period=period,
        columns=list(COLUMNS),
        rows=rows,
        totals=totals,
        undated=totals["undated"],
        zero_coverage=zero,
        flagged=q.flagged_items(session, period.start, period.end, flagged_limit),
    )


def weekly_coverage(session: Session, week: str | None, settings: Settings) -> WeeklyCoverage:
    """Coverage of an ISO week ('2026-W47'); None means the last complete week (the Monday report's)."""
    period = parse_week(week, settings.timezone) if week else previous_week(settings.timezone)
    return coverage(session, period)


def recent_weeks(session: Session, week: str | None, count: int, settings: Settings) -> list[WeeklyCoverage]:
    """Coverage of `count` consecutive weeks ending with `week` (oldest first)."""
    last = parse_week(week, settings.timezone) if week else previous_week(settings.timezone)
    return [coverage(session, p) for p in weeks_ending(last, count, settings.timezone)]


def period_coverage(session: Session, first: date, last: date, settings: Settings) -> WeeklyCoverage:
    """Coverage of whole local days first..last (a quarter, a year): for "sơ kết, tổng kết" reports."""
    return coverage(session, day_period(first, last, settings.timezone), flagged_limit=1000)


def nq71_trend(session: Session, last: Period, count: int, settings: Settings) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """NQ71 items per outlet for `count` weeks ending with `last`: (week labels, {slug: {name, counts}})."""
    periods = weeks_ending(last, count, settings.timezone)
    per_week = q.counts_by_range(session, [(p.start, p.end) for p in periods], nq71_only=True)
    outlets = q.registry_outlets(session, {o for w in per_week for o in w})
    trend: dict[str, dict[str, Any]] = {}
    for o in sorted(outlets, key=lambda o: (o["tier"] != "city", KIND_ORDER.get(o["kind"], 9), o["name"])):
        trend[o["slug"]] = {
            "name": o["name"],
            "city_press": o["kind"] == "press" and o["tier"] == "city",
            "counts": [w.get(o["id"], 0) for w in per_week],
        }
    return [p.label for p in periods], trend
