"""PNG chart of NQ71 coverage per outlet over recent weeks (a heat map: readable for 6 or 200 outlets)."""

from __future__ import annotations

import io
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

from report.weekly import nq71_trend
from report.weeks import current_week, parse_week, previous_week, readable
from settings import Settings

MAX_ROWS = 30  # more rows than this are unreadable; city press agencies always stay in


def _pick(trend: dict[str, dict[str, Any]]) -> list[str]:
    city = [s for s, t in trend.items() if t["city_press"]]
    rest = sorted((s for s in trend if s not in city), key=lambda s: (-sum(trend[s]["counts"]), trend[s]["name"]))
    return (city + rest)[: max(MAX_ROWS, len(city))]


def week_tick(label: str) -> str:
    """'2026-W48' → 'Tuần 48\n23/11' (a chart column's label: the week's number and its Monday)."""
    period = parse_week(label, "UTC")  # only the calendar days matter here
    return f"Tuần {int(label.split('W')[1])}\n{period.first_day:%d/%m}"


def weeks_text(labels: list[str]) -> str:
    """'Tuần 41 (05/10–11/10/2026) – Tuần 48 (23/11–29/11/2026)': the span of a chart's weeks."""
    first, last = readable(parse_week(labels[0], "UTC")), readable(parse_week(labels[-1], "UTC"))
    return first if first == last else f"{first} – {last}"


def colour_scale(peak: int) -> tuple[Any, Any, list[int]]:
    """(colour map, norm, colour-bar ticks) with one colour per whole count 0..peak: counts are never 2,5."""
    from matplotlib import colormaps
    from matplotlib.colors import BoundaryNorm
    from matplotlib.ticker import MaxNLocator

    cmap = colormaps["YlGn"].resampled(peak + 1)
    norm = BoundaryNorm([n - 0.5 for n in range(peak + 2)], cmap.N)
    ticks = [int(t) for t in MaxNLocator(nbins=8, integer=True).tick_values(0, peak) if 0 <= t <= peak]
    return cmap, norm, ticks


def trend_png(labels: list[str], trend: dict[str, dict[str, Any]], title: str) -> bytes:
    """Render {slug: {name, counts}} over week labels as a PNG heat map with the counts written in."""
    key = (tuple(labels), title, tuple((s, t["name"], t["city_press"], tuple(t["counts"])) for s, t in trend.items()))
    return _render(key)


@lru_cache(maxsize=32)
def _render(key: tuple[Any, ...]) -> bytes:
    # keyed by the figures themselves: a dashboard reload with unchanged counts costs the SQL only,
    # not the ~1 s of drawing
    labels_t, title, rows = key
    labels = list(labels_t)
    trend = {slug: {"name": name, "city_press": city, "counts": list(counts)} for slug, name, city, counts in rows}
    from matplotlib.figure import Figure  # no pyplot: Figure objects are safe in worker threads

    slugs = _pick(trend)
    matrix = [trend[s]["counts"] for s in slugs] or [[0] * len(labels)]
    names = [trend[s]["name"] + (" ★" if trend[s]["city_press"] else "") for s in slugs] or ["(chưa có cơ quan)"]
    height = 1.6 + 0.32 * len(names)
    fig = Figure(figsize=(max(8.0, 1.0 + 0.75 * len(labels) + 3.5), height), dpi=100)
    ax = fig.add_subplot()
    peak = max(1, max(max(r) for r in matrix))
    cmap, norm, ticks = colour_scale(peak)
    image = ax.imshow(matrix, aspect="auto", cmap=cmap, norm=norm)
    ax.set_xticks(range(len(labels)), [week_tick(lab) for lab in labels], fontsize=7)
    ax.set_yticks(range(len(names)), names, fontsize=8)
    for i, row in enumerate(matrix):
        for j, n in enumerate(row):
            # zero cells are the point of the chart (no NQ71 coverage), so they are written too
            ax.text(j, i, str(n), ha="center", va="center", fontsize=7, color="black" if n < peak * 0.6 else "white")
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(f"{weeks_text(labels)}; ★ = cơ quan báo chí thành phố", fontsize=8)
    fig.colorbar(image, ax=ax, fraction=0.03, pad=0.02, label="Số tin NQ71", ticks=ticks)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def coverage_png(session: Session, weeks: int, settings: Settings) -> bytes:
    """NQ71 items per outlet for the last `weeks` ISO weeks (the current one included), as PNG bytes."""
    last = current_week(settings.timezone)
    labels, trend = nq71_trend(session, last, max(1, weeks), settings)
    return trend_png(labels, trend, f"Tin về Nghị quyết 71-NQ/TW theo cơ quan, {len(labels)} tuần gần nhất")


def week_chart_title(labels: list[str]) -> str:
    """The title of a chart ending with a chosen week."""
    return f"Tin về Nghị quyết 71-NQ/TW theo cơ quan, {len(labels)} tuần đến {readable(parse_week(labels[-1], 'UTC'))}"


def weeks_png(session: Session, last_week: str | None, weeks: int, settings: Settings) -> bytes:
    """Like coverage_png but ending with a given week (the CLI's --week)."""
    last = parse_week(last_week, settings.timezone) if last_week else previous_week(settings.timezone)
    labels, trend = nq71_trend(session, last, max(1, weeks), settings)
    return trend_png(labels, trend, week_chart_title(labels))
