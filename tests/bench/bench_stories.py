"""Benchmark: stories on real data (read, never copied): the labelled pairs (5-fold CV) and the whole stream.

Usage: .venv/bin/python tests/bench/bench_stories.py [--data ../shared/data] [--limit N] [--skip pairs,stream,debunk] [--json]
Prints P/R/F1 with 95% bootstrap intervals on the dev pairs (the product's decision and the pure pair scorer),
then the story size distribution, the largest story and the longest span on the incrementally clustered stream.
With --json the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from classify.story_eval import eval_debunk, eval_story_pairs, eval_story_stream, report_lines  # noqa: E402


def main() -> None:
    """Run the parts asked for and print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--limit", type=int, default=None, help="cluster only the first N stream items")
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: pairs,stream,debunk")
    parser.add_argument("--json", action="store_true", help="last line: one JSON object")
    args = parser.parse_args()
    skip = set(args.skip.split(","))
    out: dict[str, Any] = {}
    if "pairs" not in skip:
        out["story_pairs"] = eval_story_pairs(args.data)
    if "stream" not in skip:
        out["story_stream"] = eval_story_stream(args.data, args.limit)
    if "debunk" not in skip:
        out["debunk"] = eval_debunk(args.data)
    for line in report_lines(out):
        print(line)
    if args.json:
        print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
