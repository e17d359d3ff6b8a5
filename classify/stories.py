"""Stories: items from different outlets about the same event, by TF-IDF cosine over words in a time window."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sklearn.feature_extraction.text import TfidfVectorizer

from classify.text import clean

_WORD = re.compile(r"\w+", re.UNICODE)
STORY_THRESHOLD = 0.45
WINDOW_DAYS = 3.0


def _words(value: str) -> list[str]:
    # syllable unigrams and bigrams: paraphrased headlines share bigrams like "học phí", "sáp nhập"
    syl = _WORD.findall(value.lower())
    return syl + [f"{a}_{b}" for a, b in zip(syl, syl[1:])]


@dataclass(frozen=True)
class StoryItem:
    """What story clustering needs of an item."""

    key: int | str
    text: str
    published_at: datetime | None
    copy_of: int | str | None = None


def story_text(title: str | None, summary: str | None, text: str | None = None) -> str:
    """The words compared: title, summary and the first paragraph of the text."""
    first = clean(text).split("\n")[0][:600] if text else ""
    return " ".join(x for x in (clean(title), clean(summary), first) if x)


def cluster_stories(
    items: Sequence[StoryItem],
    known: Sequence[tuple[StoryItem, int | str]] = (),
    threshold: float = STORY_THRESHOLD,
    window_days: float = WINDOW_DAYS,
) -> dict[int | str, int | str]:
    """Cluster key per item: copies join their original; others join the most similar earlier item in the window.

    `known` are already-clustered items (with their cluster key) the new items may join.
    The cluster key of a story is the key of its first item.
    """
    pool = list(known) + [(it, None) for it in items]
    if not pool:
        return {}
    vec = TfidfVectorizer(analyzer=_words, sublinear_tf=True)
    try:
        x = vec.fit_transform([p[0].text for p in pool])
    except ValueError:  # every text empty
        return {it.key: it.copy_of if it.copy_of is not None else it.key for it in items}
    first_new = len(known)
    # only new items look for a story: compare their rows with the pool, not the whole pool with itself
    sims = (x[first_new:] @ x.T).tocsr()
    cluster: dict[int | str, int | str] = {it.key: c for it, c in known if c is not None}
    def order_key(i: int) -> tuple[bool, float, int]:
        # known items first, then by publication time (undated last), then input order
        it, c = pool[i]
        return (c is None, it.published_at.timestamp() if it.published_at else float("inf"), i)

    order = sorted(range(len(pool)), key=order_key)
    window = timedelta(days=window_days)
    for i in order:
        it, known_cluster = pool[i]
        if known_cluster is not None:
            continue
        if it.copy_of is not None and it.copy_of in cluster:
            cluster[it.key] = cluster[it.copy_of]
            continue
        best, best_sim = None, threshold
        row = sims.getrow(i - first_new)
        for j, sim in zip(row.indices, row.data):
            other = pool[j][0]
            if j == i or other.key not in cluster or sim < best_sim:
                continue
            if it.published_at and other.published_at and abs(it.published_at - other.published_at) > window:
                continue
            best, best_sim = other.key, float(sim)
        cluster[it.key] = cluster[best] if best is not None else (it.copy_of if it.copy_of is not None else it.key)
    return {it.key: cluster[it.key] for it in items}
