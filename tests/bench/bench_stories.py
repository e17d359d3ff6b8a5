"""Benchmark: stories on real data (read, never copied): the labelled pairs (5-fold CV) and the whole stream.

Usage: .venv/bin/python tests/bench/bench_stories.py [--data ../shared/data] [--limit N] [--skip pairs,stream] [--json]
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

from classify.story_eval import eval_story_pairs, eval_story_stream  # noqa: E402


def _line(name: str, r: dict[str, Any]) -> str:
    return (f"{name}: P {r['precision']:.3f} {r['precision_ci']}  R {r['recall']:.3f} {r['recall_ci']}  "
            f"F1 {r['f1']:.3f} {r['f1_ci']}  (n {r['n']}, same {r['positives']})")


def main() -> None:
    """Run the parts asked for and print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--limit", type=int, default=None, help="cluster only the first N stream items")
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: pairs,stream")
    parser.add_argument("--json", action="store_true", help="last line: one JSON object")
    args = parser.parse_args()
    skip = set(args.skip.split(","))
    out: dict[str, Any] = {}
    if "pairs" not in skip:
        out["pairs"] = r = eval_story_pairs(args.data)
        print(r["dataset"])
        print(_line("  product decision", r["product"]))
        print(_line("  pair scorer     ", r["pair_scorer"]))
        print(f"  syllable TF-IDF cosine at its best threshold (not CV): F1 {r['cosine_best']['f1']:.3f}")
    if "stream" not in skip:
        out["stream"] = s = eval_story_stream(args.data, args.limit)
        print(f"{s['dataset']}: {s['items']} items -> {s['stories']} stories ({s['multi_item_stories']} with 2+ "
              f"items, {s['multi_outlet_stories']} from 2+ outlets) in {s['seconds']} s ({s['items_per_second']} items/s)")
        print(f"  largest {s['largest']} items, longest span {s['max_span_days']} days; top sizes {s['top10_sizes']}")
        print("  sizes: " + ", ".join(f"{k}: {v}" for k, v in s["size_distribution"].items()))
    if args.json:
        print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
