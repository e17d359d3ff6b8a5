"""Benchmark: articles/s on one core for 4,000-character items, whole classifier vs bare word_tokenize.

Usage: .venv/bin/python tests/bench/bench_classify.py [--data ../shared/data] [--items 200] [--fixtures] [--json]
Items are built from real stream summaries (read, never copied); --fixtures uses the project's seed texts instead.
"""

from __future__ import annotations

import os

# one core: BLAS threads would flatter the sparse products
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

TARGET_CHARS = 4000


def build_items(texts: list[str], n: int) -> list[tuple[str, str, str]]:
    """(title, summary, text) triples of about 4,000 characters, from consecutive texts."""
    items: list[tuple[str, str, str]] = []
    i = 0
    while len(items) < n and texts:
        title = texts[i % len(texts)][:120]
        summary = texts[(i + 1) % len(texts)]
        body: list[str] = []
        j = i + 2
        while len(title) + len(summary) + sum(len(b) + 1 for b in body) < TARGET_CHARS:
            body.append(texts[j % len(texts)])
            j += 1
        text = " ".join(body)[: TARGET_CHARS - len(title) - len(summary)]
        items.append((title, summary, text))
        i = j
    return items


def stream_texts(data: Path) -> list[str]:
    path = data / "news-stream-2025h2.jsonl"
    if not path.exists():
        raise SystemExit(f"{path} not found: pass --data pointing at the shared data folder, or use --fixtures")
    out = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if row.get("summary"):
                out.append(row["summary"])
            if len(out) >= 20000:
                break
    return out


def fixture_texts() -> list[str]:
    from classify.model import seed_items

    out = []
    for it in seed_items():
        out += [x for x in (it.summary, it.text) if x]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--items", type=int, default=200)
    ap.add_argument("--fixtures", action="store_true", help="use the project's seed texts, not the real stream")
    ap.add_argument("--json", action="store_true", help="last line: one JSON object")
    args = ap.parse_args()

    from underthesea import word_tokenize

    from classify.api import Classifier, ItemIn
    from classify.text import Doc

    texts = fixture_texts() if args.fixtures else stream_texts(Path(args.data))
    items = build_items(texts, args.items)
    clf = Classifier.load()
    from classify.model import seed_claims
    from classify.api import ClaimRef

    clf.set_claims([ClaimRef(c["id"], c["text"], c["verdict"]) for c in seed_claims()])
    # warm-up: underthesea loads its CRF model lazily
    word_tokenize(items[0][2])
    clf.score(ItemIn(*items[0]))

    # interleaved, CPU time of this process: the machine is shared, so wall-clock drifts with others' load
    bare = one = 0.0
    for title, summary, text in items:
        t0 = time.process_time()
        word_tokenize(Doc.of(title, summary, text).full)
        t1 = time.process_time()
        clf.score(ItemIn(title=title, summary=summary, text=text))
        t2 = time.process_time()
        bare += t1 - t0
        one += t2 - t1
    batch = [ItemIn(title=t, summary=s, text=x) for t, s, x in items]
    t0 = time.process_time()
    for i in range(0, len(batch), 64):
        clf.score_many(batch[i:i + 64])
    many = time.process_time() - t0

    n = len(items)
    chars = sum(len(t) + len(s) + len(x) for t, s, x in items) / n
    print(f"items: {n}, mean {chars:.0f} characters, source: {'fixtures' if args.fixtures else 'real stream'}")
    print(f"bare word_tokenize:        {n / bare:7.1f} articles/s (CPU time, one core)")
    print(f"classifier, one by one:    {n / one:7.1f} articles/s  ({100 * bare / one:.0f}% of tokenizer speed)")
    print(f"classifier, batches of 64: {n / many:7.1f} articles/s  ({100 * bare / many:.0f}% of tokenizer speed)")
    print(f"claims registered: {len(clf.matcher.claims)}; model {clf.model_version}")
    if args.json:
        print(json.dumps({"items": n, "mean_chars": round(chars), "source": "fixtures" if args.fixtures else "real stream",
                          "tokenizer_articles_per_s": round(n / bare, 2), "classifier_articles_per_s": round(n / one, 2),
                          "classifier_batch64_articles_per_s": round(n / many, 2), "model": clf.model_version}))


if __name__ == "__main__":
    main()
