"""Per-item analysis shared by every model: lexicon hits, explicit mentions, dense features."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from classify.explicit import ExplicitFinder, Mention
from classify.lexicon import Hit, Lexicons, SourceKind
from classify.text import Doc, Span

_LETTERS = re.compile(r"[^\W\d_]+", re.UNICODE)
_EXCLAIM = re.compile(r"!{2,}|\?!|!\?")
# A report that says when it happened ("sáng 20/10", "chiều nay"); "từ ngày 1/1" is a deadline, not a dateline.
_DATED = re.compile(
    r"(?<!từ )(?<!trước )(?<!đến )(?<!\w)(?:ngày|sáng|chiều|tối|trưa|đêm|rạng sáng)\s+"
    r"(?:\d{1,2}(?:[/.-]\d{1,2})?(?:[/.-]\d{2,4})?|nay|qua|hôm qua)(?!\w)",
    re.IGNORECASE,
)
# Field weights: a title word says more about the item than a word deep in the body.
FIELD_WEIGHT = {"title": 2.0, "summary": 1.0, "text": 0.5}
SOURCE_KINDS = ("social", "unknown", "official", "press")
# One strong education word in the title (weight 1.0) puts the lexical probability just above 0.5.
LEX_CENTRE = 0.9
LEX_SLOPE = 3.0
# The education score mixes the lexicon (this share) and the trained model (the rest); chosen on UIT-ViON dev.
LEXICON_SHARE = 0.3
RISK_CODES = (
    "rumour_marker", "sensational", "policy_claim", "official_source", "official_denial", "clickbait", "informal"
)
_ASCII_WORD = re.compile(r"^[a-z]+$")

DENSE_NAMES: list[str] = (
    ["edu_title", "edu_summary", "edu_text", "edu_text_density", "edu_strong_title", "has_text", "has_summary"]
    + ["non_edu_title", "non_edu_all"]
    + [f"theme{n}_policy" for n in range(1, 9)]
    + [f"theme{n}_topic" for n in range(1, 9)]
    + ["policy_markers", "explicit", "excluded71"]
    + [f"risk_{c}" for c in RISK_CODES]
    + ["shouting", "exclaim", "no_diacritics", "dated"]
    + [f"kind_{k}" for k in SOURCE_KINDS]
)


def find_shouting(doc: Doc) -> list[Span]:
    """All-caps runs of 3+ long words, and "!!"/"?!" marks (acronyms like THPT, GD&ĐT are not shouting)."""
    out: list[Span] = []
    for name in ("title", "summary", "text"):
        value = doc.field_text(name)
        run: list[re.Match[str]] = []
        for m in _LETTERS.finditer(value):
            word = m.group(0)
            if word.isupper() and len(word) >= 2:
                run.append(m)
                continue
            if len([w for w in run if len(w.group(0)) >= 3]) >= 3:
                out.append(Span(value[run[0].start():run[-1].end()], run[0].start(), run[-1].end(), name))
            run = []
        if len([w for w in run if len(w.group(0)) >= 3]) >= 3:
            out.append(Span(value[run[0].start():run[-1].end()], run[0].start(), run[-1].end(), name))
        for m in _EXCLAIM.finditer(value):
            out.append(Span(m.group(0), m.start(), m.end(), name))
    return out


def no_diacritics_share(doc: Doc) -> float:
    """Share of alphabetic syllables typed without any Vietnamese diacritic (0 for short texts)."""
    words = [w for w in doc.full.lower().split() if w.isalpha()]
    if len(words) < 8:
        return 0.0
    plain = sum(1 for w in words if _ASCII_WORD.match(w))
    return plain / len(words)


def kind_bucket(outlet_kind: str | None, sources: dict[str, SourceKind]) -> str:
    """social | official | press | unknown; official = the kind's `official` flag in sources.toml."""
    kind = sources.get(outlet_kind or "")
    if kind is not None and kind.official:
        return "official"
    if outlet_kind in ("social", "press"):
        return outlet_kind
    return "unknown"


@dataclass
class Analysis:
    """Everything the rules found in one item; the dense vector feeds the linear models."""

    doc: Doc
    hits: list[Hit]
    mentions: list[Mention]
    shouting: list[Span]  # all-caps runs and repeated !/? marks
    outlet_kind: str | None
    dense: NDArray[np.float64] = field(default_factory=lambda: np.zeros(len(DENSE_NAMES)))
    plain_share: float = 0.0
    dated: Span | None = None  # a dateline ("sáng 20/10"): the report says when it happened

    @property
    def explicit(self) -> list[Mention]:
        """Mentions that name Resolution 71."""
        return [m for m in self.mentions if m.explicit]

    def ns(self, namespace: str) -> list[Hit]:
        """Hits of one namespace."""
        return [h for h in self.hits if h.namespace == namespace]

    def education_lexical(self) -> float:
        """Probability from the education lexicon alone: title words count fully, summary half, body a quarter."""
        pos = {"title": 0.0, "summary": 0.0, "text": 0.0}
        neg = {"title": 0.0, "summary": 0.0, "text": 0.0}
        for h in self.ns("education"):
            if h.weight > 0:
                pos[h.field] += h.weight
            elif h.weight < 0:
                neg[h.field] += 1
        score = (pos["title"] + 0.5 * pos["summary"] + 0.25 * min(pos["text"], 8.0)
                 - neg["title"] - 0.5 * neg["summary"] - 0.1 * min(neg["text"], 8.0))
        return 1.0 / (1.0 + math.exp(-LEX_SLOPE * (score - LEX_CENTRE)))

    def theme_scores(self) -> dict[int, float]:
        """Field-weighted lexicon strength per task group."""
        scores = {n: 0.0 for n in range(1, 9)}
        for h in self.ns("themes"):
            n = int(h.key.split(":")[0])
            scores[n] += h.weight * FIELD_WEIGHT[h.field]
        return scores


def _damp(x: float) -> float:
    return math.log1p(x)


def analyse(doc: Doc, lex: Lexicons, finder: ExplicitFinder, outlet_kind: str | None) -> Analysis:
    """Run every rule once over the document and build the dense feature vector."""
    hits = lex.find(doc)
    mentions = finder.find(doc)
    shouting = find_shouting(doc)
    a = Analysis(doc, hits, mentions, shouting, outlet_kind)
    v: list[float] = []
    edu = {"title": 0.0, "summary": 0.0, "text": 0.0}
    strong_title = 0.0
    non_edu = {"title": 0.0, "summary": 0.0, "text": 0.0}
    for h in a.ns("education"):
        if h.weight < 0:
            non_edu[h.field] -= h.weight
            continue
        edu[h.field] += h.weight
        if h.field == "title" and h.weight >= 1.0:
            strong_title += 1
    n_sent = max(1, doc.text.count(".") + doc.text.count("\n") + 1) if doc.text else 1
    v += [_damp(edu["title"]), _damp(edu["summary"]), _damp(edu["text"]), min(3.0, edu["text"] / n_sent)]
    v += [_damp(strong_title), float(bool(doc.text)), float(bool(doc.summary))]
    v += [_damp(non_edu["title"]), _damp(non_edu["title"] + non_edu["summary"] + non_edu["text"] / 2)]
    policy = {n: 0.0 for n in range(1, 9)}
    topic = {n: 0.0 for n in range(1, 9)}
    for h in a.ns("themes"):
        n_str, level = h.key.split(":")
        target = policy if level == "policy" else topic
        target[int(n_str)] += FIELD_WEIGHT[h.field]
    v += [_damp(policy[n]) for n in range(1, 9)]
    v += [_damp(topic[n]) for n in range(1, 9)]
    v += [_damp(float(len(a.ns("policy")))), float(bool(a.explicit)), float(any(not m.explicit for m in mentions))]
    for code in RISK_CODES:
        v.append(_damp(float(len({h.text.lower() for h in a.ns(f"risk.{code}")}))))
    v += [_damp(float(sum(1 for s in shouting if s.text[0] not in "!?"))), _damp(float(sum(1 for s in shouting if s.text[0] in "!?")))]
    for name in ("title", "summary", "text"):
        value = doc.field_text(name)
        m = _DATED.search(value)
        if m:
            a.dated = Span(m.group(0), m.start(), m.end(), name)
            break
    a.plain_share = no_diacritics_share(doc)
    v.append(max(0.0, a.plain_share - 0.5) * 2)
    v.append(float(a.dated is not None))
    bucket = kind_bucket(outlet_kind, lex.sources)
    v += [float(bucket == k) for k in SOURCE_KINDS]
    a.dense = np.asarray(v, dtype=np.float64)
    return a


def education_score(a: Analysis, model_p: float) -> float:
    """The education probability: lexicon and trained model averaged."""
    return LEXICON_SHARE * a.education_lexical() + (1.0 - LEXICON_SHARE) * model_p
