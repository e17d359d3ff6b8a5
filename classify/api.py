"""The classifier other rooms call: ItemIn -> Result (education, NQ71 relevance, themes, risk + reasons, claims)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from classify.claims import ClaimMatcher, ClaimRef
from classify.debunk import DebunkFinder
from classify.explicit import ExplicitFinder
from classify.features import FIELD_WEIGHT, LEXICON_SHARE, Analysis, analyse, kind_bucket
from classify.lexicon import Hit, Lexicons
from classify.errors import ModelError
from classify.model import LEARNED_RISK_STRENGTH, Bundle
from classify.text import Doc, Span

__all__ = ["ClaimRef", "Classifier", "ItemIn", "Result"]

EDU_THRESHOLD = 0.6
REL_THRESHOLD = 0.5
CHANGE_REL_THRESHOLD = 0.7  # without a policy phrase: a topic and a change/marker in the title, model fairly sure
POLICY_MIN = 1.0  # field-weighted policy phrases (title 2, summary 1, body 0.5) needed for "task"
THEME_MODEL_THRESHOLD = 0.5
THEME_LEXICON_THRESHOLD = 1.0
# A second task group is listed when the group head gives it this much probability (the first is the top one).
SECOND_GROUP_P = 0.3
SHOUTING_WEIGHT = 0.2
UNSOURCED_POLICY_WEIGHT = 0.3
OFFICIAL_OUTLET_WEIGHT = 0.4
DATED_WEIGHT = 0.25
CLAIM_MIN_EDUCATION = 0.2
PLAIN_SHARE = 0.85  # share of syllables typed without diacritics above which the text reads as informal

# Vietnamese labels reviewers read, one per reason code (the codes never change; the words may).
LABELS = {
    "claim_match": "Lặp lại một tin sai đã được xác minh",
    "claim_refuted": "Bác bỏ một tin sai đã được xác minh",
    "shouting": "Viết hoa toàn bộ hoặc nhiều dấu chấm than",
    "unsourced_policy": "Nêu chính sách (học phí, cấm, phạt, hạn chót, sáp nhập, giải thể) mà không nêu nguồn chính thức",
    "source_kind": "Đăng trên {kind}, không phải kênh chính thức",
    "source_unknown": "Không rõ ai đăng tin này",
    "official_outlet": "Đăng trên kênh chính thức (cổng thông tin, cơ quan nhà nước, trường học)",
    "dated_report": "Tin nêu rõ ngày, buổi xảy ra sự việc (dễ kiểm chứng)",
    "informal": "Văn phong mạng xã hội, viết tắt, thiếu dấu",
    "learned": "Giống những tin người thẩm định đã kết luận là sai",
}
MATCH_LEVELS = {"auto": "khớp chắc chắn", "suggest": "gợi ý, cần xem lại"}


def reason_words(code: str) -> str:
    """A risk reason code in the words the item page uses ("learned" → "Giống những tin … là sai")."""
    if code == "source_kind":
        return "Đăng trên kênh không chính thức"
    return LABELS.get(code, code)


def risk_note(risk: float, codes: list[str]) -> str:
    """The note on an item's "created" event: 'Rủi ro 84% — lý do chính: …; …'."""
    reasons = "; ".join(reason_words(c) for c in codes)
    return f"Rủi ro {risk * 100:.0f}%" + (f" — lý do chính: {reasons}" if reasons else "")


def claim_label(base: str, claim_id: int, level: str) -> str:
    """'… (kho tin sai #12, khớp chắc chắn)': the registry entry and how sure the match is, in words."""
    return f"{base} (kho tin sai #{claim_id}, {MATCH_LEVELS.get(level, level)})"


def source_label(kind_key: str, kind_label: str) -> str:
    """The source-kind reason in a plain sentence ("Đăng trên trang mạng xã hội, không phải kênh chính thức")."""
    if kind_key == "unknown":
        return LABELS["source_unknown"]
    return LABELS["source_kind"].format(kind=kind_label[:1].lower() + kind_label[1:])


@dataclass
class ItemIn:
    """One item to score; every field may be empty."""

    title: str = ""
    summary: str = ""
    text: str = ""
    url: str = ""
    outlet: str = ""
    outlet_kind: str | None = None
    outlet_tier: str | None = None
    engagement: dict[str, Any] | None = None
    published_at: datetime | None = None


@dataclass
class Result:
    """The judgement of one item, every score with the evidence that decided it."""

    is_education: bool
    education_score: float
    relevance: str
    relevance_score: float
    themes: list[int]
    risk_score: float
    reasons: list[dict[str, Any]] = field(default_factory=list)
    claim_matches: list[dict[str, Any]] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)
    model_version: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class Rules:
    """Hand rules on top of the learned heads; each is kept only where 5-fold CV on the dev set shows it helps."""

    # lexicon share of the education score (0.3 before): with the gates below, 0.0 gives education F1 +0.0005
    # and related F1 +0.004 -> dropped
    lexicon_share: float = 0.0
    # a named "Nghị quyết 71" makes the item explicit whatever the relevance head says -> kept (see README)
    explicit_finder: bool = True
    # _reports_policy: a policy phrase / no incident / not one school... Helps a head that learned from the written
    # seed items (+0.013 F1); over one learned from the department's labels alone it costs 0.045 -> applied only
    # to models trained without department labels
    policy_gate: bool = False
    # relevance needs an education score >= EDU_THRESHOLD: +0.001 F1 (one item) with real labels -> kept
    edu_gate: bool = True
    # single title patterns of _reports_policy that veto "task" on top of the learned head (policy_vetoes):
    # "incident" +0.006 F1 -> kept; "foreign" 0.000, "individual" -0.001, "one_school" -0.005 -> dropped
    vetoes: frozenset[str] = frozenset({"incident"})


@dataclass(frozen=True)
class Decision:
    """The topical judgement of one item (the risk score is decided apart)."""

    is_education: bool
    education_score: float
    relevance: str
    relevance_score: float
    themes: list[int]


def decide(a: Analysis, p: dict[str, float], rules: Rules) -> Decision:
    """Education, NQ71 relevance and task groups from the heads' probabilities and the rules kept."""
    edu = rules.lexicon_share * a.education_lexical() + (1.0 - rules.lexicon_share) * p["edu"]
    explicit = [m for m in a.explicit if m.why != "nq71_short" or edu >= 0.3] if rules.explicit_finder else []
    rel_p = p["rel"]
    learned = rel_p >= REL_THRESHOLD
    if rules.policy_gate:
        learned = Classifier._reports_policy(a, rel_p)
    if rules.edu_gate or rules.policy_gate:
        learned = learned and edu >= EDU_THRESHOLD
    if rules.vetoes and learned and not rules.policy_gate:
        learned = not (policy_vetoes(a) & rules.vetoes)
    if explicit:
        relevance, rel_score = "explicit", max(0.9, rel_p)
    elif learned:
        relevance, rel_score = "task", rel_p
    else:
        relevance, rel_score = "none", min(rel_p, edu) if edu < EDU_THRESHOLD else rel_p
    themes = task_groups(a, p) if relevance != "none" else []
    is_edu = edu >= EDU_THRESHOLD or relevance != "none"
    return Decision(is_edu, edu, relevance, rel_score, themes)


def task_groups(a: Analysis, p: dict[str, float]) -> list[int]:
    """The most likely task group first, then any other the group head gives SECOND_GROUP_P or more."""
    groups = {int(h[5:]): v for h, v in p.items() if h.startswith("group")}
    if groups:
        ranked = sorted(groups, key=lambda n: -groups[n])
        return [ranked[0]] + sorted(n for n in ranked[1:] if groups[n] >= SECOND_GROUP_P)
    # bundles without a group head: per-group heads and the theme lexicon, as before
    lex_scores = a.theme_scores()
    themes: list[int] = []
    for n in range(1, 9):
        model_p = p.get(f"theme{n}", 0.0)
        if lex_scores[n] >= THEME_LEXICON_THRESHOLD and (model_p >= 0.2 or f"theme{n}" not in p):
            themes.append(n)
        elif model_p >= THEME_MODEL_THRESHOLD and lex_scores[n] > 0:
            themes.append(n)
    if not themes:
        combined = {n: lex_scores[n] + p.get(f"theme{n}", 0.0) for n in range(1, 9)}
        themes = [max(combined, key=lambda n: combined[n])]
    return themes


def policy_vetoes(a: Analysis) -> set[str]:
    """Title patterns that mark an item as not a policy report, each named (see Rules.vetoes)."""
    out: set[str] = set()
    places = {h.key for h in a.ns("place") if h.field == "title"}
    if "foreign" in places and "home" not in places:
        out.add("foreign")  # another country's education policy is not Resolution 71's
    title_policy = any(h.field == "title" and h.key.endswith(":policy") for h in a.ns("themes"))
    if not title_policy and any(h.field == "title" for h in a.ns("incident")):
        out.add("incident")  # an incident report (poisoning, discipline of one person) is not a policy report
    markers = any(h.field == "title" for h in a.ns("policy"))
    if not markers and any(h.field == "title" for h in a.ns("individual")):
        out.add("individual")  # one pupil's or one teacher's story, even with "miễn học phí" for that pupil
    if not markers and any(h.field == "title" and h.start == 0 and h.key == "one_school" for h in a.ns("one_school")):
        out.add("one_school")  # a title led by one school: that school's own decision or event
    return out


def rules_of(meta: dict[str, Any]) -> Rules:
    """The rules a bundle was measured with: the policy gate only when written items taught relevance."""
    return Rules(policy_gate=meta.get("relevance_labels", "written") != "real")


def _reason(code: str, label: str, weight: float, ev: dict[str, Any]) -> dict[str, Any]:
    return {"code": code, "label": label, "weight": round(weight, 4), "evidence": ev}


def _span_ev(s: Span) -> dict[str, Any]:
    return s.to_dict()


class Classifier:
    """Shipped lexicons + trained heads; load once per process, then score items."""

    def __init__(self, bundle: Bundle, lex: Lexicons, suggest: float = 0.35, auto: float = 0.6) -> None:
        trained_with = bundle.meta.get("lexicon_digest")
        if trained_with and trained_with != lex.digest:
            # the dense features are the lexicon hits: other lexicons mean other columns than the ones fitted
            raise ModelError(
                f"mô hình được huấn luyện với từ điển khác / the model was trained with other lexicons "
                f"({trained_with} != {lex.digest} in {lex.directory}): run `nq71 train`"
            )
        self.bundle = bundle
        self.lex = lex
        self.finder = ExplicitFinder(lex)
        self.debunk = DebunkFinder.load(lex.directory)
        self.suggest_threshold = suggest
        self.auto_threshold = auto
        self.matcher = ClaimMatcher(bundle.claim_vectorizer, [], suggest, auto)
        self.model_version: str = str(bundle.meta.get("model_version", "unknown"))
        self.learned_strength = float(bundle.meta.get("learned_risk_strength", LEARNED_RISK_STRENGTH))
        self.rules = rules_of(bundle.meta)

    @classmethod
    def load(
        cls,
        model_dir: Path | None = None,
        lexicon_dir: Path | None = None,
        suggest: float = 0.35,
        auto: float = 0.6,
    ) -> Classifier:
        """The shipped model (classify/models/) unless another folder is given."""
        return cls(Bundle.load(model_dir), Lexicons.load(lexicon_dir), suggest, auto)

    def set_claims(self, claims: Sequence[ClaimRef]) -> None:
        """Replace the registry claims that items are matched against."""
        self.matcher = ClaimMatcher(self.bundle.claim_vectorizer, claims, self.suggest_threshold, self.auto_threshold)

    def score(self, item: ItemIn) -> Result:
        """Score one item."""
        return self.score_many([item])[0]

    def score_many(self, items: Sequence[ItemIn]) -> list[Result]:
        """Score items (the TF-IDF and the linear heads run once per batch)."""
        if not items:
            return []
        docs = [Doc.of(it.title, it.summary, it.text) for it in items]
        analyses = [analyse(d, self.lex, self.finder, it.outlet_kind) for d, it in zip(docs, items)]
        x = self.bundle.design([d.features for d in docs], np.vstack([a.dense for a in analyses]))
        probs = self.bundle.predict(x)
        out = []
        for i, (item, a) in enumerate(zip(items, analyses)):
            row = {h: float(p[i]) for h, p in probs.items()}
            out.append(self._result(item, a, row, x.getrow(i)))
        return out

    # --- the decisions ---------------------------------------------------------------------------
    def _result(self, item: ItemIn, a: Analysis, p: dict[str, float], x_row: Any) -> Result:
        d = decide(a, p, self.rules)
        edu, relevance, themes = d.education_score, d.relevance, d.themes
        explicit = relevance == "explicit"
        evidence = self._evidence(a, themes, x_row, relevance)
        # the registry holds education claims: items far from education are not compared (saves ~15 % time)
        matches = self.matcher.match(a.doc) if edu >= CLAIM_MIN_EDUCATION or explicit else []
        debunk = self.debunk.find(a.doc)
        reasons = self._reasons(item, a, p, matches, x_row, debunk)
        up = [r["weight"] for r in reasons if r["weight"] > 0]
        down = [-r["weight"] for r in reasons if r["weight"] < 0]
        risk = 1.0 - float(np.prod([1.0 - w for w in up])) if up else 0.0
        risk *= float(np.prod([1.0 - w for w in down])) if down else 1.0
        return Result(
            is_education=d.is_education,
            education_score=round(edu, 4),
            relevance=relevance,
            relevance_score=round(d.relevance_score, 4),
            themes=themes,
            risk_score=round(min(1.0, max(0.0, risk)), 4),
            reasons=a.doc.stored(reasons),
            # a debunk refutes the claims it matches; any other item repeats them
            claim_matches=a.doc.stored([{**m.to_dict(), "stance": "refutes" if debunk else "repeats"} for m in matches]),
            evidence=a.doc.stored(evidence),
            model_version=self.model_version,
        )

    @staticmethod
    def _reports_policy(a: Analysis, rel_p: float) -> bool:
        """Task level needs a policy of a task group, not just an education topic (precision on real streams)."""
        if policy_vetoes(a):
            return False
        policy = sum(FIELD_WEIGHT[h.field] for h in a.ns("themes") if h.key.endswith(":policy"))
        if rel_p >= REL_THRESHOLD and policy >= POLICY_MIN:
            return True
        # without a policy phrase: a task-group topic and a policy marker ("đề xuất", "Bộ GD&ĐT") or a change
        # ("tăng", "bỏ", "giải thể") must both be in the title (rumours of changes are task-level too)
        markers = sum(1 for h in a.ns("policy") if h.field == "title")
        changes = sum(1 for h in a.ns("change") if h.field == "title")
        topics = sum(1 for h in a.ns("themes") if h.key.endswith(":topic") and h.field == "title")
        return rel_p >= CHANGE_REL_THRESHOLD and topics >= 1 and (markers + changes) >= 1

    def _evidence(self, a: Analysis, themes: list[int], x_row: Any, relevance: str) -> dict[str, Any]:
        """Explicit mentions, excluded "71"s, theme phrases, their sentences and the model's top terms."""
        phrases: list[dict[str, Any]] = []
        seen: set[tuple[str, str, int]] = set()
        for h in sorted(a.ns("themes"), key=lambda h: (-h.weight, h.field != "title")):
            n = int(h.key.split(":")[0])
            if n not in themes or (h.text.lower(), h.key, n) in seen:
                continue
            seen.add((h.text.lower(), h.key, n))
            phrases.append({**h.evidence(), "theme": n, "theme_name": self.lex.theme_names.get(n, ""),
                            "level": h.key.split(":")[1]})
        sentences: list[dict[str, Any]] = []
        anchors: list[tuple[str, int]] = [(m.field, m.start) for m in a.explicit] + [
            (p["field"], int(p["start"])) for p in phrases
        ]
        taken: set[tuple[str, int]] = set()
        for field_name, start in anchors:
            s = a.doc.sentence_at(field_name, start)
            if s and (s.field, s.start) not in taken:
                taken.add((s.field, s.start))
                sentences.append(_span_ev(s))
            if len(sentences) >= 5:
                break
        return {
            "explicit": [m.to_dict() for m in a.explicit],
            "excluded": [m.to_dict() for m in a.mentions if not m.explicit],
            "phrases": phrases[:12],
            "sentences": sentences,
            "model_terms": {
                "education": self.bundle.contributions(x_row, "edu"),
                "relevance": self.bundle.contributions(x_row, "rel") if relevance != "none" else [],
            },
        }

    def _reasons(
        self, item: ItemIn, a: Analysis, p: dict[str, float], matches: Sequence[Any], x_row: Any,
        debunk: Span | None = None,
    ) -> list[dict[str, Any]]:
        """Every risk signal that fired, each with its weight (negative lowers the risk) and evidence."""
        reasons: list[dict[str, Any]] = []
        if debunk is not None:
            reasons.append(_reason("debunk", self.debunk.label, -self.debunk.weight, debunk.to_dict()))
            if matches:  # the claim it refutes, shown to reviewers; refuting a rumour adds no risk
                best = matches[0]
                label = claim_label(LABELS["claim_refuted"], best.claim_id, best.level)
                reasons.append(_reason("claim_refuted", label, 0.0, best.evidence.to_dict()))
        elif matches:
            best = matches[0]
            w = min(0.9, best.similarity) if best.level == "auto" else 0.6 * best.similarity
            label = claim_label(LABELS["claim_match"], best.claim_id, best.level)
            reasons.append(_reason("claim_match", label, w, best.evidence.to_dict()))
        for code, sig in self.lex.signals.items():
            hits = a.ns(f"risk.{code}")
            if hits and not sig.decrease and code != "policy_claim":
                reasons.append(_reason(code, sig.label, sig.weight, _first(hits).evidence()))
        if a.plain_share >= PLAIN_SHARE and not any(r["code"] == "informal" for r in reasons):
            informal = self.lex.signals.get("informal")
            name = next(f for f in ("title", "summary", "text") if a.doc.field_text(f))
            value = a.doc.field_text(name)
            ev = {"text": value[:80], "start": 0, "end": min(80, len(value)), "field": name}
            label = informal.label if informal else LABELS["informal"]
            reasons.append(_reason("informal", label, informal.weight if informal else 0.2, ev))
        shouts = a.shouting
        if shouts:
            s = shouts[0]
            ev = {"text": s.text, "start": s.start, "end": s.end, "field": s.field}
            reasons.append(_reason("shouting", LABELS["shouting"], SHOUTING_WEIGHT, ev))
        policy = a.ns("risk.policy_claim")
        official = a.ns("risk.official_source")
        if policy and not official:
            reasons.append(_reason("unsourced_policy", LABELS["unsourced_policy"], UNSOURCED_POLICY_WEIGHT,
                                   _first(policy).evidence()))
        bucket = kind_bucket(item.outlet_kind, self.lex.sources)
        kind_key = item.outlet_kind if item.outlet_kind in self.lex.sources else "unknown"
        kind = self.lex.sources.get(kind_key)
        source_ev = {"text": item.outlet or (item.outlet_kind or "không rõ"), "start": 0, "end": 0, "field": "source"}
        if kind and kind.risk > 0:
            reasons.append(_reason("source_kind", source_label(kind_key, kind.label), kind.risk, source_ev))
        if bucket == "official":
            reasons.append(_reason("official_outlet", LABELS["official_outlet"], -OFFICIAL_OUTLET_WEIGHT, source_ev))
        learned = self.learned_strength * p["risk"]
        if learned >= 0.05:
            terms = self.bundle.contributions(x_row, "risk", 3)
            ev = {"text": ", ".join(t for t, _ in terms), "start": 0, "end": 0, "field": "model"}
            reasons.append(_reason("learned", LABELS["learned"], learned, ev))
        if a.dated is not None:
            reasons.append(_reason("dated_report", LABELS["dated_report"], -DATED_WEIGHT, a.dated.to_dict()))
        for code in ("official_source", "official_denial"):
            hits = a.ns(f"risk.{code}")
            if hits and (code == "official_source" or official):
                sig = self.lex.signals[code]
                reasons.append(_reason(code, sig.label, -sig.weight, _first(hits).evidence()))
        return reasons


def _first(hits: Sequence[Hit]) -> Hit:
    """The earliest hit, title first (what a reviewer sees first)."""
    order = {"title": 0, "summary": 1, "text": 2}
    return min(hits, key=lambda h: (order[h.field], h.start))
