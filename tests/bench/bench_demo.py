"""Benchmark: `nq71 demo` from start to a usable UI (first crawl, classification, demo review work, login).

    .venv/bin/python tests/bench/bench_demo.py [--runs N] [--limit SECONDS] [--json]

Each run starts the real command on an empty temporary data folder and a free port, as `make demo` does, and
times the login line (the UI is up) and the first filled queue page. The README's promise is "within a minute"
on a free machine; ``--limit`` (default 120 s, two shared cores) makes the benchmark exit 1 when a run is slower.
With ``--json`` the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from demo_run import logged_in, start_demo  # noqa: E402


def one_run() -> dict[str, Any]:
    """Start the demo on an empty folder; seconds to its login line and to a filled queue page."""
    with tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        run = start_demo(Path(tmp) / "var")
        try:
            with logged_in(run) as client:
                total = client.get("/api/queue").json()["total"]
                queue_s = time.monotonic() - started
        finally:
            code = run.stop()
    return {"login_line_s": round(run.seconds_to_login_line, 1), "queue_page_s": round(queue_s, 1),
            "queued": total, "exit_code": code}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1, help="Demo starts to time (each from an empty folder).")
    parser.add_argument("--limit", type=float, default=120.0, help="Exit 1 if a run needs more seconds to a filled queue.")
    parser.add_argument("--json", action="store_true", help="Print one JSON object as the last line.")
    args = parser.parse_args()
    runs = [one_run() for _ in range(args.runs)]
    slowest = max(r["queue_page_s"] for r in runs)
    result = {"benchmark": "demo", "cores": os.cpu_count(), "load_1min": round(os.getloadavg()[0], 2), "runs": runs,
              "median_queue_page_s": statistics.median(r["queue_page_s"] for r in runs), "limit_s": args.limit,
              "within_limit": slowest <= args.limit}
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        for r in runs:
            print(f"login line after {r['login_line_s']} s, queue of {r['queued']} items after {r['queue_page_s']} s")
        print(f"{os.cpu_count()} cores, load {result['load_1min']}; limit {args.limit:.0f} s: "
              f"{'ok' if result['within_limit'] else 'TOO SLOW'}")
    sys.exit(0 if result["within_limit"] else 1)


if __name__ == "__main__":
    main()
