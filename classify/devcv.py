"""Cross-validation on the department's labelled dev set: k folds, bootstrap intervals, strata, learning curve.

Every fold trains exactly what `nq71 train` ships (the written seed set + the labels of the other folds) and scores
the held-out fold through `api.decide`, the function the classifier itself uses.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from classify.api import Rules, decide, task_groups
from classify.features import LEXICON_SHARE, Analysis
from classify.lexicon import Lexicons
from classify.model import Bundle, LabelledItem, Prepared, _fit_heads, prepare

FOLDS = 5
SEED = 71
BOOTSTRAP = 1000
CURVE_SIZES = (100, 300, 600)
VETOES = ("foreign", "incident", "individual", "one_school")
Progress = Callable[[int, int], None] | None


@dataclass
class Record:
    """One held-out dev item: its gold labels, stratum, analysis and the heads' probabilities."""

    item: LabelledItem
    analysis: Analysis
    p: dict[str, float]

    @property
    def related(self) -> bool:
        """Gold: explicit or task."""
        return self.item.relevance in ("explicit", "task")


def fold_splits(
    real: Sequence[LabelledItem], folds: int = FOLDS, seed: int = SEED, size: int | None = None
) -> list[tuple[list[int], list[int]]]:
    """Folds stratified by drawn stratum and relatedness; with `size`, each fold trains on that many of its items."""
    strat = [f"{it.stratum}|{it.relevance != 'none'}" for it in real]
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    splits = [(list(tr), list(te)) for tr, te in skf.split(np.zeros(len(real)), strat)]
    if size is not None:
        splits = [(random.Random(seed + k).sample(tr, min(size, len(tr))), te) for k, (tr, te) in enumerate(splits)]
    return splits


def out_of_fold(
    real: Sequence[LabelledItem], base: Sequence[Prepared], lex: Lexicons, folds: int = FOLDS, seed: int = SEED,
    size: int | None = None, real_prep: Sequence[Prepared] | None = None, progress: Progress = None,
) -> list[Record]:
    """Held-out predictions for every real item; with `size`, each fold trains on that many of its real labels."""
    prep = list(real_prep) if real_prep is not None else prepare(real, lex)
    by_item: dict[int, list[Prepared]] = {}
    for p in prep:
        by_item.setdefault(p.group, []).append(p)
    records: list[Record] = []
    splits = fold_splits(real, folds, seed, size)
    for k, (train_idx, test_idx) in enumerate(splits):
        rows = list(base) + [p for i in train_idx for p in by_item[i]]
        with threadpool_limits(1):
            vec, heads = _fit_heads(rows)
        bundle = Bundle.from_heads(vec, heads, TfidfVectorizer(), {})
        held = [by_item[i][0] for i in test_idx]  # the full form comes first
        x = bundle.design([p.tokens for p in held], np.vstack([p.analysis.dense for p in held]))
        probs = bundle.predict(x)
        for j, p in enumerate(held):
            records.append(Record(p.item, p.analysis, {h: float(v[j]) for h, v in probs.items()}))
        if progress:
            progress(k + 1, len(splits))
    return records


def _measures(records: Sequence[Record], rules: Rules) -> dict[str, float]:
    """Education F1, NQ71-related F1 and task-group top-1 accuracy (on the gold-related items)."""
    decisions = [decide(r.analysis, r.p, rules) for r in records]
    edu_true = [int(bool(r.item.is_education)) for r in records]
    rel_true = [int(r.related) for r in records]
    out = {
        "education_f1": float(f1_score(edu_true, [int(d.is_education) for d in decisions], zero_division=0)),
        "related_f1": float(f1_score(rel_true, [int(d.relevance != "none") for d in decisions], zero_division=0)),
    }
    explicit_true = [int(r.item.relevance == "explicit") for r in records]
    if any(explicit_true):  # undefined (not 0) where the sample holds no explicit item
        out["explicit_f1"] = float(f1_score(explicit_true, [int(d.relevance == "explicit") for d in decisions]))
    related = [r for r in records if r.related and r.item.themes]
    if related:
        out["group_top1"] = float(np.mean([task_groups(r.analysis, r.p)[0] == r.item.themes[0] for r in related]))
    return out


def summary(records: Sequence[Record], rules: Rules, n_boot: int = BOOTSTRAP, seed: int = SEED) -> dict[str, Any]:
    """Each measure with its 95 % bootstrap interval (items resampled), overall and per drawn stratum."""
    point = _measures(records, rules)
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {k: [] for k in point}
    for _ in range(n_boot):
        sample = [records[i] for i in rng.integers(0, len(records), len(records))]
        for k, v in _measures(sample, rules).items():
            draws[k].append(v)
    overall = {k: {"mean": round(v, 4), "ci95": [round(float(np.percentile(draws[k], 2.5)), 4),
                                                  round(float(np.percentile(draws[k], 97.5)), 4)]}
               for k, v in point.items()}
    strata: dict[str, dict[str, float]] = {}
    for name in sorted({r.item.stratum for r in records}):
        part = [r for r in records if r.item.stratum == name]
        strata[name] = {"n": len(part), "related": sum(r.related for r in part),
                        **{k: round(v, 4) for k, v in _measures(part, rules).items()}}
    return {"n": len(records), "folds": FOLDS, "overall": overall, "strata": strata}


def ablations(records: Sequence[Record]) -> dict[str, dict[str, float]]:
    """The measures with each hand rule switched on or off (same held-out predictions, no refit)."""
    base = Rules()
    variants = {
        "shipped": base,
        "lexicon share 0.3 in education": Rules(lexicon_share=LEXICON_SHARE),
        "no explicit finder": Rules(explicit_finder=False),
        "no education gate": Rules(edu_gate=False),
        "whole policy gate (_reports_policy)": Rules(policy_gate=True),
        "no vetoes": Rules(vetoes=frozenset()),
    }
    for veto in VETOES:
        flipped = base.vetoes ^ {veto}
        variants[f"{'without' if veto in base.vetoes else 'with'} veto {veto}"] = Rules(vetoes=flipped)
    return {name: {k: round(v, 4) for k, v in _measures(records, r).items()} for name, r in variants.items()}


def learning_curve(
    real: Sequence[LabelledItem], base: Sequence[Prepared], lex: Lexicons, real_prep: Sequence[Prepared],
    full: Sequence[Record], sizes: Sequence[int] = CURVE_SIZES, progress: Progress = None,
) -> list[dict[str, Any]]:
    """CV measures with 100 / 300 / 600 / all training labels per fold (the rest of the data unchanged)."""
    rows = []
    for n in sizes:
        recs = out_of_fold(real, base, lex, size=n, real_prep=real_prep, progress=progress)
        rows.append({"labels": n, **{k: round(v, 4) for k, v in _measures(recs, Rules()).items()}})
    n_all = len(real) - len(real) // FOLDS
    rows.append({"labels": n_all, **{k: round(v, 4) for k, v in _measures(full, Rules()).items()}})
    return rows


def cross_validate_real(
    real: Sequence[LabelledItem], base: Sequence[Prepared], lex: Lexicons, curve: bool = False,
    progress: Progress = None,
) -> dict[str, Any]:
    """Everything `nq71 eval-real` prints about the dev set (and the sidecar records, without the curve)."""
    real_prep = prepare(real, lex)
    records = out_of_fold(real, base, lex, real_prep=real_prep, progress=progress)
    out = summary(records, Rules())
    out["ablations"] = ablations(records)
    if curve:
        out["learning_curve"] = learning_curve(real, base, lex, real_prep, records, progress=progress)
    return out


DEV_FILE = "labelled/nq71-dev-2025h2.jsonl"


def eval_dev(data: Path, curve: bool = True, progress: Progress = None) -> dict[str, Any]:
    """5-fold CV of the shipped recipe on the dev labels under `data` (never copied), with the learning curve."""
    from classify.evaluate import _need
    from classify.model import read_department_labels, seed_items

    real = read_department_labels(_need(data / DEV_FILE))
    lex = Lexicons.load()
    with threadpool_limits(1):
        base = prepare(seed_items(), lex)
        return cross_validate_real(real, base, lex, curve=curve, progress=progress)


def format_dev(out: dict[str, Any]) -> list[str]:
    """The dev CV as printed lines: measures with intervals, strata, rule ablations, learning curve."""
    names = {"education_f1": "education F1", "related_f1": "NQ71-related F1", "explicit_f1": "explicit F1",
             "group_top1": "task group top-1"}
    lines = [f"dev set, {out['folds']}-fold CV ({out['n']} items): mean [95% bootstrap interval]"]
    lines += [f"  {names[k]:<18} {v['mean']:.3f} [{v['ci95'][0]:.3f}, {v['ci95'][1]:.3f}]"
              for k, v in out["overall"].items()]
    lines.append("  per stratum (drawn):")
    for name, m in out["strata"].items():
        lines.append(f"    {name:<28} n {m['n']:>4}, related {m['related']:>3}: " + ", ".join(
            f"{names[k]} {m[k]:.3f}" for k in names if k in m))
    if "ablations" in out:
        lines.append("  hand rules (same held-out predictions):")
        for name, m in out["ablations"].items():
            lines.append(f"    {name:<36} " + ", ".join(f"{names[k]} {v:.3f}" for k, v in m.items()))
    if "learning_curve" in out:
        lines.append("  learning curve (labels per training fold -> CV measures):")
        for row in out["learning_curve"]:
            lines.append(f"    {row['labels']:>5}: " + ", ".join(f"{names[k]} {row[k]:.3f}" for k in names if k in row))
    return lines
