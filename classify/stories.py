"""Stories: reports of the same event by different outlets, joined through a learned pair score.

An item joins the story whose medoid (the member closest to the story's centroid) it matches best, when
a small logistic regression over TF-IDF cosines (syllables, syllable pairs, title against text), shared
names, shared rare syllables and the time gap says "same story". Joining through the medoid, never the
nearest member, keeps drifting chains (A~B~C~D) from becoming one story, and every member of a story is
within the window of every other, so no story spans more than `WINDOW_DAYS`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from classify.text import clean

_WORD = re.compile(r"\w+", re.UNICODE)
WINDOW_DAYS = 3.0
# Stories scored per item: the ones whose medoid is most similar by cosine (the scorer is cheap, not free).
CANDIDATES = 8
# No story is joined below this cosine: the labelled pairs hold none under 0.1 (the scorer would guess
# there), 7 same vs 14 different under 0.15, and a real window holds far more such pairs than they do.
MIN_COSINE = 0.15
# Time gap assumed when an item has no date: a day, the middle of the window.
UNDATED_GAP_HOURS = 24.0
# Gaps below half an hour count as half an hour: few labelled pairs are closer, and the log would run away.
MIN_GAP_HOURS = 0.5
FIRST_RAW_CHARS = 3000
SCORER_PATH = Path(__file__).resolve().parent / "story_scorer.json"
FEATURES = ("cos_uni", "cos_bi", "cos_title", "names", "rare_shared", "log_gap")

# Vocabulary terms -> (their document frequencies, number of documents): where the IDF comes from.
DocFreq = Callable[[Sequence[str]], tuple[np.ndarray, int]]


def terms(value: str) -> list[str]:
    """Lower-cased syllables and syllable pairs ("học phí"); a pair holds a space, a syllable never does."""
    syl = _WORD.findall(value.lower())
    return syl + [f"{a} {b}" for a, b in zip(syl, syl[1:])]


def names(value: str) -> frozenset[str]:
    """Capitalised syllables (people, places, bodies, storms), lower-cased."""
    return frozenset(w.lower() for w in _WORD.findall(value) if w[0].isupper())


@dataclass(frozen=True)
class StoryItem:
    """What story clustering needs of an item; `title` weighs the headline against the other's text."""

    key: int | str
    text: str
    published_at: datetime | None
    copy_of: int | str | None = None
    title: str = ""


def story_text(title: str | None, summary: str | None, text: str | None = None) -> str:
    """The words compared: title, summary and the first paragraph of the text."""
    # only the start is cleaned: a long body would cost more than the 600 characters it gives
    first = clean(text[:FIRST_RAW_CHARS]).split("\n")[0][:600] if text else ""
    return " ".join(x for x in (clean(title), clean(summary), first) if x)


@dataclass(frozen=True)
class PairScorer:
    """Logistic regression over `FEATURES` (standardised) with the probability threshold of "same story"."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def load(cls, path: Path = SCORER_PATH) -> PairScorer:
        """The shipped scorer (trained on the labelled pairs' features, never their text)."""
        raw = json.loads(path.read_text(encoding="utf-8"))
        if tuple(raw["features"]) != FEATURES:
            raise ValueError(f"{path}: features {raw['features']} differ from {list(FEATURES)}: retrain the story scorer")
        return cls(tuple(raw["mean"]), tuple(raw["scale"]), tuple(raw["coef"]), float(raw["intercept"]),
                   float(raw["threshold"]), dict(raw.get("meta", {})))

    def save(self, path: Path) -> None:
        """Write the weights as JSON."""
        raw = {"features": list(FEATURES), "mean": list(self.mean), "scale": list(self.scale), "coef": list(self.coef),
               "intercept": self.intercept, "threshold": self.threshold, "meta": self.meta}
        path.write_text(json.dumps(raw, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")

    def proba(self, x: np.ndarray) -> np.ndarray:
        """Probability of "same story" per row of features."""
        z = (x - np.asarray(self.mean)) / np.asarray(self.scale) @ np.asarray(self.coef) + self.intercept
        return np.asarray(1.0 / (1.0 + np.exp(-z)))


_SHIPPED: list[PairScorer] = []


def shipped_scorer() -> PairScorer:
    """The shipped scorer, read once per process."""
    if not _SHIPPED:
        _SHIPPED.append(PairScorer.load())
    return _SHIPPED[0]


class Terms:
    """Term ids shared by every pool of the process, and each text's term counts, made once per text.

    The crawl's per-item hook builds a pool from the same window again and again; re-reading every
    neighbour's words each time would cost more than the comparison itself.
    """

    MAX_TERMS = 2_000_000  # then start afresh (a long-running worker must not grow without bound)
    MAX_TEXTS = 50_000

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.words: list[str] = []
        self.texts: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def trim(self) -> None:
        """Forget every term and text when either grew too large (between pools: ids must not change within one)."""
        if len(self.ids) > self.MAX_TERMS or len(self.texts) > self.MAX_TEXTS:
            self.ids, self.words, self.texts = {}, [], {}

    def of(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Sorted term ids and their counts in one text."""
        found = self.texts.get(text)
        if found is None:
            counts: dict[int, int] = {}
            for t in terms(text):
                k = self.ids.get(t)
                if k is None:
                    k = self.ids[t] = len(self.words)
                    self.words.append(t)
                counts[k] = counts.get(k, 0) + 1
            keys = np.fromiter(sorted(counts), dtype=np.int64, count=len(counts))
            found = self.texts[text] = (keys, np.array([counts[k] for k in keys.tolist()], dtype=np.float64))
        return found


TERMS = Terms()


class Space:
    """TF-IDF rows of a pool of items: syllables, pairs, both, and the titles; IDF from the pool or `doc_freq`."""

    def __init__(self, items: Sequence[StoryItem], doc_freq: DocFreq | None = None) -> None:
        self.items = list(items)
        TERMS.trim()
        docs = [TERMS.of(it.text) for it in self.items]
        lengths = np.array([len(ids) for ids, _ in docs], dtype=np.int64)
        if not lengths.sum():
            raise ValueError("every text is empty")
        # the pool's own columns: the global ids it uses, in order
        self.cols, local = np.unique(np.concatenate([ids for ids, _ in docs]), return_inverse=True)
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        counts = sp.csr_matrix((np.concatenate([c for _, c in docs]), local.ravel(), indptr),
                               shape=(len(docs), len(self.cols)))
        vocab = [TERMS.words[k] for k in self.cols.tolist()]
        if doc_freq is None:
            df, n = np.diff(counts.tocsc().indptr).astype(np.float64), counts.shape[0]
        else:
            df, n = doc_freq(vocab)
        self.idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
        # the IDF of a term in one document of the pool: shared rarity is measured against it, so that a
        # small pool (a quiet day, a test) and a busy window give comparable figures
        self.rarest = math.log((1.0 + n) / 2.0) + 1.0
        is_pair = np.fromiter((" " in t for t in vocab), dtype=bool, count=len(vocab))
        weighted = self._weigh(counts)
        self.full = normalize(weighted)
        self.uni = normalize(weighted @ sp.diags((~is_pair).astype(float)))
        self.pair = normalize(weighted @ sp.diags(is_pair.astype(float)))
        # titles and names are needed only for the rows actually compared: made on demand
        self._titles: dict[int, sp.csr_matrix] = {}
        self._names: dict[int, frozenset[str]] = {}

    def titles(self, rows: Sequence[int]) -> sp.csr_matrix:
        """Normalised TF-IDF rows of these items' titles (the text when an item has no title)."""
        for r in rows:
            if r not in self._titles:
                ids, counts = TERMS.of(self.items[r].title or self.items[r].text)
                pos = np.searchsorted(self.cols, ids)
                inside = (pos < len(self.cols)) & (self.cols[np.minimum(pos, len(self.cols) - 1)] == ids)
                row = sp.csr_matrix((counts[inside], pos[inside], [0, int(inside.sum())]), shape=(1, len(self.cols)))
                self._titles[r] = normalize(self._weigh(row))
        return sp.vstack([self._titles[r] for r in rows]).tocsr()

    def names(self, row: int) -> frozenset[str]:
        """Capitalised syllables of one item."""
        if row not in self._names:
            self._names[row] = names(self.items[row].text)
        return self._names[row]

    def syllables(self, row: int) -> set[int]:
        """Column ids of one item's syllables."""
        return set(self.uni.indices[self.uni.indptr[row]:self.uni.indptr[row + 1]].tolist())

    def _weigh(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        out = counts.copy()
        out.data = 1.0 + np.log(out.data)  # sublinear tf: a long text repeating a word is not more alike
        return sp.csr_matrix(out @ sp.diags(self.idf))

    def features(self, i: int, js: Sequence[int]) -> np.ndarray:
        """The scorer's features of item i against each item of js (one row each)."""
        rows = list(js)
        cu = (self.uni[rows] @ self.uni[i].T).toarray().ravel()
        cb = (self.pair[rows] @ self.pair[i].T).toarray().ravel()
        ti, tj = self.titles([i]), self.titles(rows)
        ct = np.maximum((self.full[rows] @ ti.T).toarray().ravel(), (tj @ self.full[i].T).toarray().ravel())
        out = np.zeros((len(rows), len(FEATURES)))
        out[:, 0], out[:, 1], out[:, 2] = cu, cb, ct
        mine = self.syllables(i)
        for r, j in enumerate(rows):
            out[r, 3] = _jaccard(self.names(i), self.names(j))
            shared = sorted((self.idf[t] for t in mine & self.syllables(j)), reverse=True)
            out[r, 4] = float(sum(shared[:3])) / (3.0 * self.rarest)
            out[r, 5] = math.log1p(_gap_hours(self.items[i], self.items[j]))
        return out


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def _gap_hours(a: StoryItem, b: StoryItem) -> float:
    if a.published_at is None or b.published_at is None:
        return UNDATED_GAP_HOURS
    return max(MIN_GAP_HOURS, abs((a.published_at - b.published_at).total_seconds()) / 3600.0)


@dataclass
class _Story:
    """A story while clustering: its members (pool rows), time span and medoid (worked out when first asked)."""

    key: int | str
    members: list[int] = field(default_factory=list)
    first: datetime | None = None
    last: datetime | None = None
    _medoid: int | None = None

    def admits(self, when: datetime | None, window_days: float) -> bool:
        """Every member stays within the window of every other (no story spans more than the window)."""
        if when is None or self.first is None or self.last is None:
            return True
        return (when - self.first).total_seconds() <= window_days * 86400 and (
            self.last - when).total_seconds() <= window_days * 86400

    def stretch(self, when: datetime | None) -> None:
        """Widen the time span to a member's publication time."""
        if when is not None:
            self.first = when if self.first is None else min(self.first, when)
            self.last = when if self.last is None else max(self.last, when)

    def add(self, row: int, when: datetime | None) -> None:
        """Take a member; the medoid is worked out again when next asked."""
        self.members.append(row)
        self.stretch(when)
        self._medoid = None

    def medoid(self, space: Space) -> int:
        """The member most similar to the centroid (of two, the older: their similarities tie)."""
        if self._medoid is None:
            if len(self.members) < 3:
                self._medoid = self.members[0]
            else:
                block = space.full[self.members]
                centroid = np.asarray(block.sum(axis=0)).ravel()
                self._medoid = self.members[int(np.argmax(block @ centroid))]
        return self._medoid


def cluster_stories(
    items: Sequence[StoryItem],
    known: Sequence[tuple[StoryItem, int | str]] = (),
    window_days: float = WINDOW_DAYS,
    scorer: PairScorer | None = None,
    doc_freq: DocFreq | None = None,
    starts: Mapping[int | str, datetime] | None = None,
) -> dict[int | str, int | str]:
    """Cluster key per new item: copies join their original; others join the best-scoring story or start one.

    `known` are already-clustered items (with their cluster key) the new items may join; the key of a
    story is the key of its first item. IDF comes from the pool (known + new) unless `doc_freq` is given.
    `starts` holds the first publication time of known stories whose early members are outside the pool,
    so a story cannot creep forward window by window.
    """
    scorer = scorer or shipped_scorer()
    pool = list(known) + [(it, None) for it in items]
    if not pool:
        return {}
    try:
        space = Space([p[0] for p in pool], doc_freq)
    except ValueError:  # every text empty
        return {it.key: it.copy_of if it.copy_of is not None else it.key for it in items}
    first_new = len(known)
    # only new items look for a story: compare their rows with the pool, not the whole pool with itself
    sims = (space.full[first_new:] @ space.full.T).tocsr()
    cluster: dict[int | str, int | str] = {}
    stories: dict[int | str, _Story] = {}
    story_of: dict[int, _Story] = {}  # pool row -> its story
    for row, (it, key) in enumerate(pool[:first_new]):
        assert key is not None
        cluster[it.key] = key
        story_of[row] = stories.setdefault(key, _Story(key))
        story_of[row].add(row, it.published_at)
    for key, when in (starts or {}).items():
        if key in stories:
            stories[key].stretch(when)

    def order_key(i: int) -> tuple[float, int]:
        when = pool[i][0].published_at
        return (when.timestamp() if when else float("inf"), i)

    for i in sorted(range(first_new, len(pool)), key=order_key):
        it = pool[i][0]
        if it.copy_of is not None and it.copy_of in cluster:
            found = stories.get(cluster[it.copy_of])
        else:
            found = _best_story(space, scorer, i, sims.getrow(i - first_new), story_of, window_days)
        if found is None:
            key = it.copy_of if it.copy_of is not None else it.key
            found = stories.setdefault(key, _Story(key))
        cluster[it.key] = found.key
        found.add(i, it.published_at)
        story_of[i] = found
    return {it.key: cluster[it.key] for it in items}


def _best_story(
    space: Space, scorer: PairScorer, i: int, row: sp.csr_matrix, story_of: dict[int, _Story], window_days: float
) -> _Story | None:
    """The story whose medoid scores highest with item i, if it reaches the scorer's threshold.

    Only stories with a member at least MIN_COSINE alike are looked at (a medoid that alike is such a
    member), so medoids are worked out for a few stories per item, not for the whole window.
    """
    when = space.items[i].published_at
    sim = dict(zip(row.indices.tolist(), row.data.tolist()))
    near = {id(st): st for j, s in sim.items() if s >= MIN_COSINE and (st := story_of.get(j)) is not None}
    cands = [(sim.get(m, 0.0), m, st) for st in near.values() if st.admits(when, window_days)
             for m in (st.medoid(space),)]
    cands = sorted((c for c in cands if c[0] >= MIN_COSINE), key=lambda c: -c[0])[:CANDIDATES]
    if not cands:
        return None
    p = scorer.proba(space.features(i, [m for _, m, _ in cands]))
    best = int(np.argmax(p))
    return cands[best][2] if p[best] >= scorer.threshold else None
