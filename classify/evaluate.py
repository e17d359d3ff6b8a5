"""Evaluation: a gold JSONL file (per-label P/R/F1, confusion matrix) and the real data in ../shared/data."""

from __future__ import annotations

from classify.errors import DataMissingError  # noqa: F401 - re-exported

import csv
import json
import random
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support, roc_auc_score

from classify.api import Classifier, ItemIn, Result
from classify.model import LabelledItem

Progress = Callable[[int, int], None] | None
BATCH = 64



@dataclass
class LabelReport:
    """Per-label precision/recall/F1 and the confusion matrix of one task."""

    task: str
    labels: list[str]
    per_label: dict[str, dict[str, float]]
    confusion: list[list[int]]
    n: int
    extra: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"task": self.task, "labels": self.labels, "per_label": self.per_label,
                "confusion": self.confusion, "n": self.n, **self.extra}


def _report(task: str, y_true: Sequence[str], y_pred: Sequence[str], labels: list[str]) -> LabelReport:
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    per = {lab: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4), "f1": round(float(f[i]), 4),
                 "support": int(s[i])} for i, lab in enumerate(labels)}
    cm = confusion_matrix(y_true, y_pred, labels=labels).tolist()
    return LabelReport(task, labels, per, cm, len(y_true))


def score_items(clf: Classifier, items: Sequence[ItemIn], progress: Progress = None) -> list[Result]:
    """Score in batches, reporting progress."""
    out: list[Result] = []
    for i in range(0, len(items), BATCH):
        out.extend(clf.score_many(items[i:i + BATCH]))
        if progress:
            progress(min(i + BATCH, len(items)), len(items))
    return out


def eval_gold(clf: Classifier, gold: Sequence[LabelledItem], progress: Progress = None) -> list[LabelReport]:
    """Education, relevance (explicit/task/none), themes (per task group) and misinformation on a gold set."""
    items = [ItemIn(title=g.title, summary=g.summary, text=g.text, outlet_kind=g.outlet_kind) for g in gold]
    res = score_items(clf, items, progress)
    reports: list[LabelReport] = []
    edu = [(g, r) for g, r in zip(gold, res) if g.is_education is not None]
    if edu:
        reports.append(_report("education", ["yes" if g.is_education else "no" for g, _ in edu],
                               ["yes" if r.is_education else "no" for _, r in edu], ["yes", "no"]))
    rel = [(g, r) for g, r in zip(gold, res) if g.relevance is not None]
    if rel:
        rep = _report("relevance", [str(g.relevance) for g, _ in rel], [r.relevance for _, r in rel],
                      ["explicit", "task", "none"])
        rep.extra["relevant_f1"] = round(float(f1_score([g.relevance != "none" for g, _ in rel],
                                                        [r.relevance != "none" for _, r in rel])), 4)
        reports.append(rep)
        both = [(g, r) for g, r in rel if g.relevance != "none" and r.relevance != "none"]
        if both:
            labels = [str(n) for n in range(1, 9)]
            per: dict[str, dict[str, float]] = {}
            for n in range(1, 9):
                t = [n in g.themes for g, _ in both]
                pr = [n in r.themes for _, r in both]
                p, r_, f, s = precision_recall_fscore_support(t, pr, average="binary", zero_division=0)
                per[str(n)] = {"precision": round(float(p), 4), "recall": round(float(r_), 4),
                               "f1": round(float(f), 4), "support": int(sum(t))}
            reports.append(LabelReport("themes (items relevant in gold and prediction)", labels, per, [], len(both)))
    if any(g.claim_id for g in gold) and any(r.claim_matches for r in res):
        reports.append(_claims_report(gold, res))
    mis = [(g, r) for g, r in zip(gold, res) if g.misinfo is not None]
    if mis and len({g.misinfo for g, _ in mis}) == 2:
        y = [int(g.misinfo or 0) for g, _ in mis]
        sc = [r.risk_score for _, r in mis]
        rep = _report("misinformation (risk >= 0.5)", [str(v) for v in y], ["1" if s >= 0.5 else "0" for s in sc],
                      ["1", "0"])
        rep.extra["roc_auc"] = round(float(roc_auc_score(y, sc)), 4)
        reports.append(rep)
    return reports


def _claims_report(gold: Sequence[LabelledItem], res: Sequence[Result]) -> LabelReport:
    """Claim matching: the right claim found at each level; a wrong or spurious match counts against it."""
    per: dict[str, dict[str, float]] = {}
    for level in ("suggest", "auto"):
        tp = fp = fn = 0
        for g, r in zip(gold, res):
            found = [m for m in r.claim_matches if level == "suggest" or m["level"] == "auto"]
            top = str(found[0]["claim_id"]) if found else None
            if g.claim_id and top == g.claim_id:
                tp += 1
            else:
                fp += int(top is not None)
                fn += int(bool(g.claim_id))
        p = tp / (tp + fp) if tp + fp else 0.0
        r_ = tp / (tp + fn) if tp + fn else 0.0
        f = 2 * p * r_ / (p + r_) if p + r_ else 0.0
        per[level] = {"precision": round(p, 4), "recall": round(r_, 4), "f1": round(f, 4), "support": tp + fn}
    return LabelReport("claim matching (top match vs gold claim_id; denials count as spurious)", ["suggest", "auto"],
                       per, [], len(gold))


# --- real data (../shared/data): never copied, only read --------------------------------------
def _need(path: Path) -> Path:
    if not path.exists():
        raise DataMissingError(f"{path} not found: pass --data pointing at the shared data folder (../shared/data)")
    return path


def _unsegment(title: str) -> str:
    """UIT-ViON titles join syllables with "_": give the classifier plain spaced text."""
    return title.replace("_", " ")


def _read_csv(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        yield from csv.DictReader(fh)


def eval_uit_vion(clf: Classifier, data: Path, limit: int | None = None, progress: Progress = None) -> dict[str, Any]:
    """Education (label 2) vs rest F1 on the UIT-ViON test split (titles only)."""
    rows = list(_read_csv(_need(data / "topic" / "UIT-ViON_test.csv")))
    if limit:
        rows = random.Random(71).sample(rows, min(limit, len(rows)))
    res = score_items(clf, [ItemIn(title=_unsegment(r["title"])) for r in rows], progress)
    y = [r["label"] == "2" for r in rows]
    pred = [x.is_education for x in res]
    p, r_, f, _ = precision_recall_fscore_support(y, pred, average="binary", zero_division=0)
    return {"dataset": "UIT-ViON test", "n": len(rows), "positives": sum(y), "precision": round(float(p), 4),
            "recall": round(float(r_), 4), "f1": round(float(f), 4)}


def eval_vnexpress_titles(clf: Classifier, data: Path, progress: Progress = None) -> dict[str, Any]:
    """GIAO_DUC vs rest F1 on the raw VnExpress titles."""
    folder = _need(data / "topic" / "vnexpress-titles")
    titles: list[tuple[str, bool]] = []
    for path in sorted(folder.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                titles.append((line.strip(), path.stem == "GIAO_DUC"))
    res = score_items(clf, [ItemIn(title=t) for t, _ in titles], progress)
    y = [lab for _, lab in titles]
    pred = [x.is_education for x in res]
    p, r_, f, _ = precision_recall_fscore_support(y, pred, average="binary", zero_division=0)
    return {"dataset": "VnExpress titles", "n": len(titles), "positives": sum(y), "precision": round(float(p), 4),
            "recall": round(float(r_), 4), "f1": round(float(f), 4)}


def eval_vnnews(clf: Classifier, data: Path, progress: Progress = None) -> dict[str, Any]:
    """Risk-score ROC AUC on vnnews-v2 val, rows also present in train removed."""
    train = {r["content"].strip() for r in _read_csv(_need(data / "misinfo" / "vnnews-v2-train.csv"))}
    rows = [r for r in _read_csv(_need(data / "misinfo" / "vnnews-v2-val.csv")) if r["content"].strip() not in train]
    seen: set[str] = set()
    uniq = []
    for r in rows:
        if r["content"].strip() not in seen:
            seen.add(r["content"].strip())
            uniq.append(r)
    # a post has no title/summary split; its whole content is the text, title left empty
    res = score_items(clf, [ItemIn(title=r["content"]) for r in uniq], progress)
    y = [int(r["label"]) for r in uniq]
    sc = [x.risk_score for x in res]
    return {"dataset": "vnnews-v2 val (deduplicated)", "n": len(uniq), "fake": sum(y),
            "roc_auc": round(float(roc_auc_score(y, sc)), 4)}


def eval_stream(
    clf: Classifier, data: Path, limit: int | None = None, sample: int = 50, progress: Progress = None,
    sample_seed: int = 71,
) -> dict[str, Any]:
    """Relevance tags on the real 2025-26 news stream, and a random sample of tagged items to read."""
    path = _need(data / "news-stream-2025h2.jsonl")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if limit:
        rows = random.Random(71).sample(rows, min(limit, len(rows)))
    res = score_items(clf, [ItemIn(title=r.get("title", ""), summary=r.get("summary", ""), outlet_kind="press")
                            for r in rows], progress)
    counts = Counter(x.relevance for x in res)
    edu = sum(1 for x in res if x.is_education)
    section_edu = [("giáo dục" in str(r.get("source", "")).lower()) for r in rows]
    tagged = [(r, x) for r, x in zip(rows, res) if x.relevance != "none"]
    picked = random.Random(sample_seed).sample(tagged, min(sample, len(tagged)))
    themes = Counter(n for _, x in tagged for n in x.themes)
    out: dict[str, Any] = {
        "dataset": "news-stream-2025h2", "n": len(rows), "education": edu,
        "explicit": counts.get("explicit", 0), "task": counts.get("task", 0), "themes": dict(sorted(themes.items())),
        "sample": [{"title": r.get("title"), "source": r.get("source"), "relevance": x.relevance,
                    "themes": x.themes, "score": x.relevance_score} for r, x in picked],
    }
    if any(section_edu):
        # the feed's own section name is a free (noisy) education label: report agreement, not a gold score
        p, r_, f, _ = precision_recall_fscore_support(section_edu, [x.is_education for x in res], average="binary",
                                                      zero_division=0)
        out["education_vs_section"] = {"precision": round(float(p), 4), "recall": round(float(r_), 4),
                                       "f1": round(float(f), 4), "section_items": sum(section_edu)}
    return out
