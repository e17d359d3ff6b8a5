"""Page extraction accuracy on the fixture sites: title, author and date right out of N pages (prints figures; not a test).

Each article page under fixtures/sites is rendered as the fixture server serves it (dates filled for a fixed day),
run through ``crawler.extract.extract_page`` with its outlet's selectors, and compared with ``_content.py``.

    .venv/bin/python tests/bench/bench_extract.py [--json] [--verbose]
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
import unicodedata
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SITES = ROOT / "fixtures" / "sites"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(SITES))

from _content import A  # noqa: E402

from crawler.extract import decode_html, extract_page  # noqa: E402
from demo.server import VN, fixture_date, render_text  # noqa: E402

BASE = "http://127.0.0.1:8000"
TODAY = datetime(2026, 11, 26, 10, 0, tzinfo=VN)


def selectors_by_site() -> dict[str, dict[str, str]]:
    """Each fixture outlet's page selectors, keyed by the site folder its homepage names."""
    raw = tomllib.loads((SITES / "sources.toml").read_text(encoding="utf-8"))
    out: dict[str, dict[str, str]] = {}
    for outlet in raw["outlet"]:
        folder = outlet["homepage"].replace("{base}/", "").strip("/")
        out[folder] = dict(outlet.get("selectors", {}))
    return out


def same(a: str | None, b: str) -> bool:
    """Equal after NFC and whitespace trimming."""
    return unicodedata.normalize("NFC", (a or "").strip()) == unicodedata.normalize("NFC", b.strip())


def measure(verbose: bool) -> dict[str, Any]:
    """Count title, author and date hits over every article page that exists on disk."""
    selectors = selectors_by_site()
    hits = {"title": 0, "author": 0, "date": 0, "date_day": 0}
    misses: list[str] = []
    pages = authored = 0
    for a in A:
        path = SITES / a["path"].lstrip("/")
        if not path.is_file():
            continue
        pages += 1
        html, _ = decode_html(render_text(decode_html(path.read_bytes())[0], BASE, TODAY).encode("utf-8"))
        page = extract_page(html, BASE + a["path"], selectors.get(a["site"]), now=TODAY.astimezone(VN))
        h, m = (int(x) for x in a["hm"].split(":"))
        want_date = fixture_date(a["day"], h, m, TODAY)
        if want_date > TODAY + timedelta(days=1):
            want_date = None  # a future date must be refused
        on_page = a["author"] in html  # some outlets name the author only in their feed
        authored += on_page
        got = {
            "title": same(page.title, a["title"]),
            "author": same(page.author, a["author"]) if on_page else None,
            "date": page.published_at == want_date,
            "date_day": page.published_at == want_date or (page.published_at is not None and want_date is not None
                                                          and page.published_at.astimezone(VN).date() == want_date.astimezone(VN).date()),
        }
        for key, ok in got.items():
            if ok is None:
                continue
            hits[key] += ok
            if not ok and key != "date_day":
                misses.append(f"{a['path']} {key}: got {getattr(page, 'published_at' if key == 'date' else key)!r}, "
                              f"want {want_date if key == 'date' else a[key]!r}")
    if verbose:
        print("\n".join(misses))
    return {"pages": pages, "pages_naming_author": authored, **hits, "misses": len(misses)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print only the JSON object")
    parser.add_argument("--verbose", action="store_true", help="list every miss")
    args = parser.parse_args()
    result = measure(args.verbose)
    if not args.json:
        n = result["pages"]
        print(f"title {result['title']}/{n}  author {result['author']}/{result['pages_naming_author']}  date {result['date']}/{n} "
              f"(same day {result['date_day']}/{n})")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
