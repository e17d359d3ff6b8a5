"""Matching items against the claim registry: character n-gram TF-IDF cosine, sentence by sentence."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from classify.text import Doc, Span, clean

# Rumours are short; a long article repeats a claim near its start. Bounding the text keeps scoring fast.
MAX_TEXT_CHARS = 1200


@dataclass(frozen=True)
class ClaimRef:
    """A registered claim: its id, text and verdict (tin_gia | tin_sai_su_that ...)."""

    id: int | str
    text: str
    verdict: str = "tin_gia"


@dataclass(frozen=True)
class ClaimMatch:
    """An item repeating a claim: similarity and level (suggest | auto), with the matching passage."""

    claim_id: int | str
    similarity: float
    level: str
    evidence: Span

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "claim_id": self.claim_id,
            "similarity": round(self.similarity, 4),
            "level": self.level,
            "evidence": self.evidence.to_dict(),
        }


class ClaimMatcher:
    """Holds the claim vectors; `match` returns claims above the suggest threshold."""

    def __init__(self, vectorizer: TfidfVectorizer, claims: Sequence[ClaimRef], suggest: float, auto: float) -> None:
        self.vectorizer = vectorizer
        self.claims = list(claims)
        self.suggest = suggest
        self.auto = auto
        self.matrix = vectorizer.transform([clean(c.text).lower() for c in self.claims]) if self.claims else None

    def passages(self, doc: Doc) -> list[Span]:
        """Title, summary and the sentences of the start of the text, plus title+summary together."""
        out: list[Span] = [s for s in doc.sentences() if s.field != "text" or s.end <= MAX_TEXT_CHARS]
        if doc.title and doc.summary:
            out.append(Span(doc.title + ". " + doc.summary, 0, len(doc.title), "title"))
        return out

    def match(self, doc: Doc) -> list[ClaimMatch]:
        """Claims this item repeats, best first."""
        if self.matrix is None:
            return []
        spans = self.passages(doc)
        if not spans:
            return []
        x = self.vectorizer.transform([s.text.lower() for s in spans])
        sims = np.asarray((x @ self.matrix.T).todense())
        out: list[ClaimMatch] = []
        for j, claim in enumerate(self.claims):
            i = int(np.argmax(sims[:, j]))
            sim = float(sims[i, j])
            if sim >= self.suggest:
                level = "auto" if sim >= self.auto else "suggest"
                out.append(ClaimMatch(claim.id, sim, level, spans[i]))
        out.sort(key=lambda m: -m.similarity)
        return out
