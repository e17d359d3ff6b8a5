"""Benchmark: seconds to train the classifier on the seed set (the limit the tests used to assert; prints figures).

    .venv/bin/python tests/bench/bench_train.py [--share 3] [--limit 60] [--json]

``--share N`` trains on every Nth seed item plus every 7th (the old test's subset at N=3); the last line is one
JSON object: items, train_seconds (wall), train_seconds_sidecar (what the sidecar records), limit_s, within_limit.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from classify.lexicon import Lexicons  # noqa: E402
from classify.model import seed_items, train  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--share", type=int, default=3, help="train on every Nth seed item (1: the whole seed set)")
    parser.add_argument("--limit", type=float, default=60.0, help="seconds the training should stay under")
    parser.add_argument("--json", action="store_true", help="print only the JSON object")
    args = parser.parse_args()
    items = seed_items()
    subset = items[:: args.share] + (items[1::7] if args.share > 1 else [])
    lex = Lexicons.load()
    with tempfile.TemporaryDirectory() as folder:
        started = time.monotonic()
        meta = train(subset, ["Phụ huynh bị phạt tiền nếu con mang điện thoại đến trường."], lex, Path(folder), evaluate=False)
        wall = time.monotonic() - started
    result = {"items": len(subset), "train_seconds": round(wall, 2), "train_seconds_sidecar": meta["train_seconds"],
              "limit_s": args.limit, "within_limit": meta["train_seconds"] < args.limit}
    if not args.json:
        print(f"trained on {len(subset)} items in {wall:.1f} s (limit {args.limit:.0f} s)")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
