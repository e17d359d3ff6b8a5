"""Phone and keyboard: badge contrast computed from the stylesheet, the skip link, dates as dd/mm/yyyy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.review.support import World, login

CSS = Path(__file__).resolve().parents[2] / "review" / "static" / "app.css"
HEX = re.compile(r"#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b")
BADGES = [".st-new", ".st-in_progress", ".st-escalated", ".st-resolved", ".v-tin_gia", ".v-tin_sai_su_that",
          ".v-tin_xac_thuc", ".v-khong_lien_quan", ".fs-ok", ".fs-never", ".fs-http_error", ".tabs a.on"]
HIGHLIGHT_TEXT = "#111"  # mark[class^="k-"] and its key number are written in this colour on the reason's --k


def luminance(colour: str) -> float:
    """WCAG 2.x relative luminance of a #rgb or #rrggbb colour."""
    h = colour.lstrip("#")
    h = "".join(c * 2 for c in h) if len(h) == 3 else h
    channels = [int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours (1 to 21)."""
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def css_rules() -> list[tuple[str, dict[str, str]]]:
    """(selector, declarations) of every innermost rule of the review app's stylesheet."""
    text = re.sub(r"/\*.*?\*/", "", CSS.read_text(encoding="utf-8"), flags=re.S)
    rules = []
    for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", text):
        decls = dict((k.strip(), v.strip()) for k, _, v in (d.partition(":") for d in body.split(";")) if v.strip())
        rules.append((selector.strip(), decls))
    return rules


def colour_pairs() -> dict[str, tuple[str, str]]:
    """Selector → (background, text) for every rule that paints a solid background; text defaults to the body's."""
    rules = css_rules()
    body_text = next(d["color"] for s, d in rules if s == "body")
    pairs = {}
    for selector, decls in rules:
        background = HEX.search(decls.get("background", decls.get("background-color", "")))
        highlight = HEX.search(decls.get("--k", ""))
        if background:
            pairs[selector] = (background.group(), decls.get("color", body_text))
        elif highlight:
            pairs[selector] = (highlight.group(), HIGHLIGHT_TEXT)
    return pairs


def test_every_badge_and_coloured_box_has_contrast_of_at_least_4_5() -> None:
    pairs = colour_pairs()
    covered = " ".join(pairs)
    assert all(badge in covered for badge in BADGES), "a status or verdict badge lost its colours"
    assert any(".k-r1" in s for s in pairs)  # evidence highlight colours are checked as well
    ratios = {s: round(contrast(bg, fg), 2) for s, (bg, fg) in pairs.items()}
    low = {s: r for s, r in ratios.items() if r < 4.5}
    assert not low, f"contrast below 4.5:1: {low}"
    assert ratios[".v-tin_sai_su_that"] >= 4.5  # was 4.3 with #d9480f


def test_contrast_formula_matches_wcag_reference_values() -> None:
    assert contrast("#000", "#fff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast("#d9480f", "#fff") == pytest.approx(4.3, abs=0.01)


def test_a_skip_link_is_the_first_focusable_element_of_every_page(client: TestClient, world: World) -> None:
    for page in ("/login", "/queue", "/dashboard"):
        if page == "/queue":
            login(client, "giamsat.hoa")
        html = client.get(page).text
        body = html[html.index("<body>"):]
        first = re.search(r"<(a|button|input|select|textarea)\b[^>]*>", body)
        assert first and 'class="skip"' in first.group() and 'href="#main"' in first.group(), (page, first)
        assert '<main id="main" tabindex="-1">' in body


def test_queue_dates_are_typed_and_shown_as_dd_mm_yyyy(client: TestClient, world: World) -> None:
    login(client, "thamdinh.lan")
    iso = client.get("/queue?status=all&from=2026-11-19&to=2026-11-20")
    vn = client.get("/queue?status=all&from=19/11/2026&to=20/11/2026")
    assert vn.status_code == iso.status_code == 200
    titles = re.findall(r'<a href="/items/\d+">([^<]+)</a>', vn.text)
    assert titles == re.findall(r'<a href="/items/\d+">([^<]+)</a>', iso.text) and len(titles) == 2
    for r in (iso, vn):  # both spellings come back in the reviewers' order
        assert 'name="from" value="19/11/2026"' in r.text and 'name="to" value="20/11/2026"' in r.text
        assert 'placeholder="dd/mm/yyyy"' in r.text and 'type="date"' not in r.text
    bad = client.get("/queue?from=31/02/2026")
    assert bad.status_code == 400 and "ngày/tháng/năm, ví dụ 26/11/2026" in bad.text


def test_audit_dates_are_dd_mm_yyyy(client: TestClient, world: World) -> None:
    login(client, "giamsat.hoa")
    form = client.get("/audit").text
    assert re.search(r'name="from" value="\d{2}/\d{2}/\d{4}"', form) and 'type="date"' not in form
    r = client.get("/audit.csv?from=01/01/2020&to=31/12/2030")
    assert r.status_code == 200 and r.headers["content-disposition"].endswith('_2020-01-01_2030-12-31.csv"')
