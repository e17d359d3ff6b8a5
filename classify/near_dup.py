"""Near-identical copies (syndication, reposts): MinHash over word shingles of NFC text, with an LSH index."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from datasketch import MinHash, MinHashLSH

NUM_PERM = 128
SHINGLE = 5  # words per shingle: long enough that unrelated Vietnamese texts rarely share one
THRESHOLD = 0.8  # estimated Jaccard above which two texts are the same text
MIN_WORDS = 30  # shorter texts (a feed summary) are too short to call copies reliably

_WORD = re.compile(r"\w+", re.UNICODE)


def words(text: str) -> list[str]:
    """Lowercase NFC words (diacritics kept: 'bỏ' and 'bố' are different words)."""
    return _WORD.findall(unicodedata.normalize("NFC", text).lower())


def shingles(text: str, k: int = SHINGLE) -> set[str]:
    """The set of k-word shingles of a text (the whole text when shorter than k words)."""
    w = words(text)
    if len(w) < k:
        return {" ".join(w)} if w else set()
    return {" ".join(w[i : i + k]) for i in range(len(w) - k + 1)}


def signature(text: str, num_perm: int = NUM_PERM) -> MinHash:
    """The MinHash of a text's shingles."""
    m = MinHash(num_perm=num_perm)
    m.update_batch([s.encode("utf-8") for s in shingles(text)])
    return m


def long_enough(text: str) -> bool:
    """True when a text has enough words to be compared as a copy."""
    return len(words(text)) >= MIN_WORDS


@dataclass(frozen=True)
class CopyMatch:
    """The copy group a text belongs to: its earliest article and that article's cluster."""

    copy_of_id: int
    cluster_id: int
    similarity: float


class NearDupIndex:
    """An LSH index of recent articles; each key remembers its copy group's root and cluster."""

    def __init__(self, threshold: float = THRESHOLD, num_perm: int = NUM_PERM) -> None:
        self.threshold = threshold
        self.num_perm = num_perm
        self._lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        self._sig: dict[int, MinHash] = {}
        self._root: dict[int, int] = {}
        self._cluster: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._sig)

    def __contains__(self, key: int) -> bool:
        return key in self._sig

    def add(self, key: int, text: str | MinHash, root: int | None = None, cluster: int | None = None) -> None:
        """Index an article: ``root`` is its copy group's earliest id (itself for an original)."""
        if key in self._sig:
            self.remove(key)
        sig = text if isinstance(text, MinHash) else signature(text, self.num_perm)
        self._lsh.insert(key, sig)
        self._sig[key] = sig
        self._root[key] = root if root is not None else key
        self._cluster[key] = cluster if cluster is not None else self._root[key]

    def remove(self, key: int) -> None:
        """Forget an article (its text changed)."""
        if key in self._sig:
            self._lsh.remove(key)
            del self._sig[key], self._root[key], self._cluster[key]

    def match(self, text: str | MinHash, exclude: int | None = None) -> CopyMatch | None:
        """The copy group of the most similar indexed text at or above the threshold, else None."""
        sig = text if isinstance(text, MinHash) else signature(text, self.num_perm)
        best: tuple[float, int] | None = None
        for key in self._lsh.query(sig):
            if key == exclude:
                continue
            sim = float(sig.jaccard(self._sig[key]))
            if sim >= self.threshold and (best is None or (sim, -key) > (best[0], -best[1])):
                best = (sim, key)
        if best is None:
            return None
        key = best[1]
        return CopyMatch(copy_of_id=self._root[key], cluster_id=self._cluster[key], similarity=best[0])

    @classmethod
    def build(cls, rows: Iterable[tuple[int, str, int | None, int | None]], threshold: float = THRESHOLD) -> NearDupIndex:
        """Rebuild from (id, text, copy_of_id, cluster_id) rows, e.g. the last 30 days of articles."""
        index = cls(threshold=threshold)
        for key, text, copy_of, cluster in rows:
            if long_enough(text):
                index.add(key, text, root=copy_of or key, cluster=cluster or copy_of or key)
        return index


def jaccard(a: str, b: str) -> float:
    """Exact shingle Jaccard similarity of two texts (for tests and thresholds)."""
    sa, sb = shingles(a), shingles(b)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / len(sa | sb)

