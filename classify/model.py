"""The trained linear models (scikit-learn estimators), their training, and the saved bundle + sidecar."""

from __future__ import annotations

from classify.errors import ModelError, TrainingDataError  # noqa: F401 - re-exported

import hashlib
import json
import platform
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from classify.explicit import ExplicitFinder
from classify.features import DENSE_NAMES, Analysis, analyse, education_score
from classify.lexicon import Lexicons
from classify.text import Doc, clean, token_features

MODEL_FILE = "model.joblib"
SIDECAR_FILE = "model.json"
DEFAULT_MODEL_DIR = Path(str(resources.files("classify") / "models"))
C_VALUE = 1.0
# How much the learned misinformation component may add to the risk score (rules carry the rest).
LEARNED_RISK_STRENGTH = 0.7
MIN_THEME_POSITIVES = 5
# Share of the education probability given to the naive-Bayes-weighted head (NBSVM, Wang & Manning 2012): on
# short headlines it generalises better than plain TF-IDF; averaged with it, +0.01 F1 on UIT-ViON dev.
NB_SHARE = 0.3
# The department's own labels (real stream items) count this many times a written seed item; 5-fold CV on the
# dev set: 3 and 10 gave the same education F1 (0.924-0.925), so the smaller weight is kept.
REAL_WEIGHT = 3.0
# Relevance and task group are learned with little regularisation: on the dev set C=16 gave NQ71-related F1
# 0.754 against 0.707 at C=1 (5-fold CV, relevance head trained on the real labels only).
C_RELEVANCE = 16.0
C_GROUP = 16.0
# Everything that decides the fitted weights besides the data: part of the content-hash model_version.
RECIPE = {"c": C_VALUE, "c_rel": C_RELEVANCE, "c_group": C_GROUP, "nb_share": NB_SHARE, "real_weight": REAL_WEIGHT,
          "min_theme_positives": MIN_THEME_POSITIVES, "recipe": 3}




def _split_tokens(value: str) -> list[str]:
    # module-level (not a lambda) so the fitted vectorizer pickles by reference
    return value.split()


@dataclass
class LabelledItem:
    """One labelled item (seed set, reviewers' verdicts or a gold file)."""

    id: str
    title: str = ""
    summary: str = ""
    text: str = ""
    outlet_kind: str | None = None
    is_education: bool | None = None
    relevance: str | None = None
    themes: list[int] = field(default_factory=list)
    misinfo: int | None = None
    claim_id: str | None = None
    # real items (the department's labels, reviewers' corrections) weigh more and alone teach relevance
    real: bool = False
    stratum: str = ""

    @property
    def weight(self) -> float:
        """Sample weight in training."""
        return REAL_WEIGHT if self.real else 1.0


def _read_rows(path: Path, parse: Callable[[dict[str, Any], int], LabelledItem]) -> list[LabelledItem]:
    """Parse every line of a JSONL file; a bad line raises TrainingDataError naming the file and line."""
    items: list[LabelledItem] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise TrainingDataError(f"{path}: file not found / không tìm thấy tệp") from None
    for no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict):
                raise ValueError("not a JSON object")
            items.append(parse(row, no))
        except (ValueError, TypeError, KeyError) as exc:
            raise TrainingDataError(f"{path}:{no}: {exc}") from None
    return items


def _department_row(row: dict[str, Any], no: int) -> LabelledItem:
    rel = row["nq71"]
    if rel not in ("explicit", "task", "none"):
        raise ValueError(f"nq71 {rel!r} is not explicit|task|none")
    group = int(row.get("group") or 0)
    if not 0 <= group <= 8:
        raise ValueError(f"group {group} must be in 0-8")
    return LabelledItem(
        id=str(row["id"]), title=str(row.get("title") or ""), summary=str(row.get("summary") or ""),
        text=str(row.get("text") or ""), outlet_kind=row.get("outlet_kind") or "press",
        is_education=bool(int(row["edu"])), relevance=rel, themes=[group] if group else [],
        real=True, stratum=str(row.get("drawn") or ""),
    )


def read_department_labels(path: Path) -> list[LabelledItem]:
    """The department's labelled items (edu 0/1, nq71 explicit|task|none, group 0-8, drawn) as real items."""
    return _read_rows(path, _department_row)


def _seed_row(row: dict[str, Any], no: int) -> LabelledItem:
    rel = row.get("relevance")
    if rel not in (None, "explicit", "task", "none"):
        raise ValueError(f"relevance {rel!r} is not explicit|task|none")
    themes = [int(t) for t in row.get("themes") or []]
    if any(not 1 <= t <= 8 for t in themes):
        raise ValueError(f"themes {themes} must be in 1-8")
    mis = row.get("misinfo")
    return LabelledItem(
        id=str(row.get("id", f"line-{no}")),
        title=str(row.get("title") or ""),
        summary=str(row.get("summary") or ""),
        text=str(row.get("text") or ""),
        outlet_kind=row.get("outlet_kind"),
        is_education=None if row.get("is_education") is None else bool(row["is_education"]),
        relevance=rel,
        themes=themes,
        misinfo=None if mis is None else int(mis),
        claim_id=row.get("claim_id"),
    )


def read_labelled(path: Path) -> list[LabelledItem]:
    """Read a labelled JSONL file (seed schema); a bad line raises TrainingDataError with its number."""
    return _read_rows(path, _seed_row)


SEED_DIR = Path(str(resources.files("fixtures") / "labelled"))
SEED_FILES = ("relevance.jsonl", "general.jsonl")
# Short headlines written for this room (title-only items: feeds often carry nothing else).
EXTRA_DIR = Path(str(resources.files("classify") / "training"))


def seed_items(directory: Path | None = None) -> list[LabelledItem]:
    """The project's seed set (fixtures/labelled/)."""
    directory = directory or SEED_DIR
    items: list[LabelledItem] = []
    for name in SEED_FILES:
        if (directory / name).exists():
            items.extend(read_labelled(directory / name))
    for path in sorted(EXTRA_DIR.glob("*.jsonl")):
        items.extend(read_labelled(path))
    return items


def seed_claims(directory: Path | None = None) -> list[dict[str, Any]]:
    """The claim registry seed (fixtures/labelled/claims.jsonl)."""
    path = (directory or SEED_DIR) / "claims.jsonl"
    return read_claims(path) if path.exists() else []


def read_claims(path: Path) -> list[dict[str, Any]]:
    """Claims JSONL (id, text, verdict, refutation_url); a bad line raises TrainingDataError."""
    if not path.exists():
        raise TrainingDataError(f"{path}: file not found")
    out = []
    for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                row = json.loads(line)
                out.append({"id": row["id"], "text": str(row["text"]), "verdict": row.get("verdict", "tin_gia"),
                            "refutation_url": row.get("refutation_url")})
            except (ValueError, KeyError, TypeError) as exc:
                raise TrainingDataError(f"{path}:{no}: {exc!r}") from None
    return out


def data_hash(items: Iterable[LabelledItem]) -> str:
    """sha256 over the labelled content (order-independent), recorded in the sidecar."""
    digests = sorted(
        hashlib.sha256(
            json.dumps(
                [it.title, it.summary, it.text, it.outlet_kind, it.is_education, it.relevance, it.themes, it.misinfo,
                 it.real],
                ensure_ascii=False,
            ).encode()
        ).hexdigest()
        for it in items
    )
    return hashlib.sha256("".join(digests).encode()).hexdigest()


@dataclass
class Bundle:
    """Everything trained: one token TF-IDF shared by all heads, the heads, the claim vectorizer."""

    vectorizer: TfidfVectorizer
    edu: LogisticRegression
    rel: LogisticRegression
    themes: dict[int, LogisticRegression]
    risk: LogisticRegression
    claim_vectorizer: TfidfVectorizer
    meta: dict[str, Any]
    # education head over word presence scaled by naive-Bayes log-count ratios (None in bundles without it)
    edu_nb: LogisticRegression | None = None
    nb_ratio: NDArray[np.float64] | None = None
    # one multinomial head over the eight task groups (its classes_ are the group numbers)
    group: LogisticRegression | None = None
    # packed heads for one sparse product per batch (rebuilt on load, not saved)
    _w: NDArray[np.float64] | None = field(default=None, repr=False)
    _b: NDArray[np.float64] | None = field(default=None, repr=False)
    _heads: list[str] = field(default_factory=list, repr=False)
    _nb_w: NDArray[np.float64] | None = field(default=None, repr=False)
    _nb_b: float = field(default=0.0, repr=False)

    @classmethod
    def from_heads(
        cls, vectorizer: TfidfVectorizer, heads: dict[str, Any], claim_vectorizer: TfidfVectorizer,
        meta: dict[str, Any],
    ) -> Bundle:
        """A bundle from what _fit_heads returned."""
        return cls(vectorizer, heads["edu"], heads["rel"], heads["themes"], heads["risk"], claim_vectorizer, meta,
                   heads["edu_nb"], heads["nb_ratio"], heads["group"])

    def pack(self) -> None:
        """Stack every head's coefficients into one matrix."""
        heads: list[tuple[str, LogisticRegression]] = [("edu", self.edu), ("rel", self.rel), ("risk", self.risk)]
        heads += [(f"theme{n}", m) for n, m in sorted(self.themes.items())]
        self._heads = [h for h, _ in heads]
        rows = [m.coef_[0] for _, m in heads]
        bias = [m.intercept_[0] for _, m in heads]
        if self.group is not None:
            # softmax columns: one per group the head was trained on
            self._heads += [f"group{int(c)}" for c in self.group.classes_]
            rows += list(self.group.coef_)
            bias += list(self.group.intercept_)
        self._w = np.vstack(rows).T
        self._b = np.array(bias)
        if self.edu_nb is not None and self.nb_ratio is not None:
            # folded once: presence @ (ratio * coef) is the NB head's logit
            self._nb_w = self.nb_ratio * self.edu_nb.coef_[0]
            self._nb_b = float(self.edu_nb.intercept_[0])

    def design(self, token_strings: Sequence[str], dense: NDArray[np.float64]) -> sp.csr_matrix:
        """The shared input matrix: token TF-IDF beside the dense lexicon features."""
        tfidf = self.vectorizer.transform(token_strings)
        return sp.hstack([tfidf, sp.csr_matrix(dense)], format="csr")

    def predict(self, x: sp.csr_matrix) -> dict[str, NDArray[np.float64]]:
        """Probabilities of every head for every row."""
        if self._w is None or self._b is None:
            self.pack()
        assert self._w is not None and self._b is not None
        z = np.asarray(x @ self._w) + self._b
        p = 1.0 / (1.0 + np.exp(-z))
        groups = [i for i, h in enumerate(self._heads) if h.startswith("group")]
        if groups:
            zg = z[:, groups] - z[:, groups].max(axis=1, keepdims=True)
            eg = np.exp(zg)
            p[:, groups] = eg / eg.sum(axis=1, keepdims=True)
        out = {h: p[:, i] for i, h in enumerate(self._heads)}
        if self._nb_w is not None:
            z_nb = np.asarray(presence(x, len(self._nb_w)) @ self._nb_w).ravel() + self._nb_b
            out["edu"] = (1.0 - NB_SHARE) * out["edu"] + NB_SHARE / (1.0 + np.exp(-z_nb))
        return out

    def contributions(self, x_row: sp.csr_matrix, head: str, top: int = 5) -> list[tuple[str, float]]:
        """The words that pushed one head's score up most (for evidence; lexicon features have their own)."""
        if self._w is None:
            self.pack()
        assert self._w is not None
        col = self._w[:, self._heads.index(head)]
        row = x_row.tocoo()
        names = self.feature_names()
        n_words = len(names) - len(DENSE_NAMES)
        keep = row.col < n_words
        cols, vals = row.col[keep], row.data[keep] * col[row.col[keep]]
        order = np.argsort(-vals)[:top]
        contrib = [(names[int(cols[i])].replace("_", " ").replace("~", " "), float(vals[i])) for i in order]
        return [(n, round(c, 4)) for n, c in contrib[:top] if c > 0]

    _names: list[str] | None = None

    def feature_names(self) -> list[str]:
        """Token vocabulary followed by the dense feature names."""
        if self._names is None:
            self._names = [str(n) for n in self.vectorizer.get_feature_names_out()] + DENSE_NAMES
        return self._names

    def save(self, directory: Path) -> None:
        """Write model.joblib and its sidecar model.json (written last: a half-written model is never loaded)."""
        import joblib

        directory.mkdir(parents=True, exist_ok=True)
        payload = {
            "vectorizer": self.vectorizer,
            "edu": self.edu,
            "rel": self.rel,
            "themes": self.themes,
            "risk": self.risk,
            "claim_vectorizer": self.claim_vectorizer,
            "meta": self.meta,
            "edu_nb": self.edu_nb,
            "nb_ratio": self.nb_ratio,
            "group": self.group,
        }
        tmp = directory / (MODEL_FILE + ".tmp")
        joblib.dump(payload, tmp, compress=3)
        tmp.replace(directory / MODEL_FILE)
        side = directory / (SIDECAR_FILE + ".tmp")
        side.write_text(json.dumps(self.meta, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        side.replace(directory / SIDECAR_FILE)

    @classmethod
    def load(cls, directory: Path | None = None) -> Bundle:
        """Read a saved bundle; a missing or broken folder raises ModelError saying to run `nq71 train`."""
        import joblib

        directory = directory or DEFAULT_MODEL_DIR
        path = directory / MODEL_FILE
        if not path.exists() or not (directory / SIDECAR_FILE).exists():
            raise ModelError(f"no trained model in {directory}: run `nq71 train`")
        try:
            payload = joblib.load(path)
            b = cls(**payload)
        except Exception as exc:  # noqa: BLE001 - any unpickling failure means "retrain"
            raise ModelError(f"model in {directory} cannot be loaded ({exc}); run `nq71 train`") from None
        b.pack()
        return b


def library_versions() -> dict[str, str]:
    """Versions of the libraries the model depends on (sidecar)."""
    import joblib
    import scipy
    import sklearn
    import underthesea

    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "joblib": joblib.__version__,
        "underthesea": underthesea.__version__,
    }


@dataclass
class Prepared:
    """A labelled item variant, analysed and tokenised once for training."""

    item: LabelledItem
    group: int
    tokens: str
    analysis: Analysis


def prepare(
    items: Sequence[LabelledItem],
    lex: Lexicons,
    variants: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> list[Prepared]:
    """Analyse every item; with variants, also as title-only and title+summary (feeds often give no body)."""
    finder = ExplicitFinder(lex)
    out: list[Prepared] = []
    for i, it in enumerate(items):
        forms = [(it.title, it.summary, it.text)]
        if variants and it.text:
            forms.append((it.title, it.summary, ""))
        if variants and (it.text or it.summary):
            forms.append((it.title, "", ""))
        for title, summary, text in forms:
            doc = Doc.of(title, summary, text)
            out.append(Prepared(it, i, token_features(doc.tokens), analyse(doc, lex, finder, it.outlet_kind)))
        if progress:
            progress(i + 1, len(items))
    return out


def presence(x: sp.csr_matrix, n_words: int) -> sp.csr_matrix:
    """1 where a word column is non-zero (the dense lexicon columns after n_words are dropped)."""
    words = x[:, :n_words].tocsr(copy=True)
    words.data[:] = 1.0
    return words


def nb_ratio(x_presence: sp.csr_matrix, y: Sequence[int], alpha: float = 1.0) -> NDArray[np.float64]:
    """Naive-Bayes log-count ratio of every word between the positive and the negative rows."""
    y_arr = np.asarray(y)
    pos = np.asarray(x_presence[y_arr == 1].sum(axis=0)).ravel() + alpha
    neg = np.asarray(x_presence[y_arr == 0].sum(axis=0)).ravel() + alpha
    return np.asarray(np.log((pos / pos.sum()) / (neg / neg.sum())), dtype=np.float64)


def _lr(balanced: bool = True, c: float = C_VALUE) -> LogisticRegression:
    return LogisticRegression(C=c, max_iter=3000, class_weight="balanced" if balanced else None)


def _fit_heads(
    prep: Sequence[Prepared], vectorizer: TfidfVectorizer | None = None
) -> tuple[TfidfVectorizer, dict[str, Any]]:
    """Fit the shared vectorizer and every head on prepared items."""
    if vectorizer is None:
        vectorizer = TfidfVectorizer(
            analyzer=_split_tokens, sublinear_tf=True, min_df=2, max_features=30000, dtype=np.float64
        )
        vectorizer.fit([p.tokens for p in prep])
    dense = np.vstack([p.analysis.dense for p in prep])
    x = sp.hstack([vectorizer.transform([p.tokens for p in prep]), sp.csr_matrix(dense)], format="csr")
    heads: dict[str, Any] = {}
    # the kind of outlet says nothing about the topic: keep it out of the topic heads (risk head only)
    kind_cols = [x.shape[1] - len(DENSE_NAMES) + i for i, n in enumerate(DENSE_NAMES) if n.startswith("kind_")]
    x_risk = x
    x = x.tolil()
    x[:, kind_cols] = 0
    x = x.tocsr()
    weight = np.array([p.item.weight for p in prep])
    edu_idx = [i for i, p in enumerate(prep) if p.item.is_education is not None]
    y_edu = [int(bool(prep[i].item.is_education)) for i in edu_idx]
    heads["edu"] = _lr().fit(x[edu_idx], y_edu, sample_weight=weight[edu_idx])
    words = presence(x[edu_idx], len(vectorizer.vocabulary_))
    heads["nb_ratio"] = nb_ratio(words, y_edu)
    heads["edu_nb"] = _lr().fit(words @ sp.diags(heads["nb_ratio"]), y_edu, sample_weight=weight[edu_idx])
    rel_idx = _relevance_rows(prep)
    heads["rel"] = _lr(c=C_RELEVANCE).fit(x[rel_idx], [int(prep[i].item.relevance != "none") for i in rel_idx])
    mis_idx = [i for i, p in enumerate(prep) if p.item.misinfo is not None]
    heads["risk"] = _lr(balanced=False).fit(x_risk[mis_idx], [int(prep[i].item.misinfo or 0) for i in mis_idx])
    heads["themes"] = {}
    # an item of k task groups is k rows of weight 1/k (written items list several; the department's one):
    # dev CV top-1 0.735 against 0.723 when only the first listed group was kept
    relevant = [(i, n, weight[i] / len(p.item.themes)) for i, p in enumerate(prep)
                if p.item.relevance in ("explicit", "task") for n in p.item.themes]
    y_group = [n for _, n, _ in relevant]
    heads["group"] = (_lr(balanced=False, c=C_GROUP).fit(x[[i for i, _, _ in relevant]], y_group,
                                                        sample_weight=np.array([w for _, _, w in relevant]))
                      if len(set(y_group)) >= 2 else None)
    return vectorizer, heads


def _relevance_rows(prep: Sequence[Prepared]) -> list[int]:
    """Rows the relevance head learns from: the real labels when there are any.

    The written seed items call more policy news "task" than the department does: adding them at weight 0.1
    lowered the dev CV F1 from 0.754 to 0.706, so they only teach relevance when no real label is given.
    """
    real = [i for i, p in enumerate(prep) if p.item.relevance is not None and p.item.real]
    if learns_from_real([prep[i].item for i in real]):
        return real
    return [i for i, p in enumerate(prep) if p.item.relevance is not None]


def learns_from_real(items: Iterable[LabelledItem]) -> bool:
    """True when the real items hold both related and unrelated labels (then they alone teach relevance)."""
    return len({it.relevance == "none" for it in items if it.real and it.relevance is not None}) == 2


def _claim_vectorizer(items: Sequence[LabelledItem], claim_texts: Sequence[str]) -> TfidfVectorizer:
    corpus = [clean(f"{it.title}. {it.summary}").lower() for it in items] + [clean(t).lower() for t in claim_texts]
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=1, dtype=np.float64)
    vec.fit(corpus)
    return vec


def cross_validate(prep: Sequence[Prepared], folds: int = 3, seed: int = 71) -> dict[str, float]:
    """Out-of-fold scores on the full-form items (variants of a held-out item never train its fold)."""
    groups = sorted({p.group for p in prep})
    first = {p.group: p for p in prep if p.item.is_education is not None}
    strat = [int(bool(first[g].item.is_education)) * 2 + int(first[g].item.relevance not in (None, "none")) if g in first else 0 for g in groups]
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    edu_true: list[int] = []
    edu_pred: list[int] = []
    rel_true: list[int] = []
    rel_pred: list[int] = []
    mis_true: list[int] = []
    mis_score: list[float] = []
    for train_g, test_g in skf.split(np.zeros(len(groups)), strat):
        train_set = {groups[i] for i in train_g}
        test_set = {groups[i] for i in test_g}
        tr = [p for p in prep if p.group in train_set]
        te: dict[int, Prepared] = {}
        for p in prep:
            if p.group in test_set and p.group not in te:
                te[p.group] = p  # the full form comes first
        vec, heads = _fit_heads(tr)
        b = Bundle.from_heads(vec, heads, TfidfVectorizer(), {})
        rows = list(te.values())
        x = b.design([p.tokens for p in rows], np.vstack([p.analysis.dense for p in rows]))
        pr = b.predict(x)
        for i, p in enumerate(rows):
            if p.item.is_education is not None:
                edu_true.append(int(p.item.is_education))
                edu_pred.append(int(education_score(p.analysis, float(pr["edu"][i])) >= 0.5))
            if p.item.relevance is not None:
                rel_true.append(int(p.item.relevance != "none"))
                edu_i = education_score(p.analysis, float(pr["edu"][i]))
                rel_pred.append(int(pr["rel"][i] >= 0.5 and edu_i >= 0.5) or int(bool(p.analysis.explicit)))
            if p.item.misinfo is not None:
                mis_true.append(int(p.item.misinfo))
                mis_score.append(float(pr["risk"][i]))
    scores: dict[str, float] = {}
    if edu_true:
        scores["cv_education_f1"] = round(float(f1_score(edu_true, edu_pred)), 4)
    if rel_true:
        scores["cv_relevant_f1"] = round(float(f1_score(rel_true, rel_pred)), 4)
    if len(set(mis_true)) == 2:
        scores["cv_misinfo_learned_auc"] = round(float(roc_auc_score(mis_true, mis_score)), 4)
    return scores


def model_version(data_sha: str, lexicon_digest: str, claim_texts: Sequence[str]) -> str:
    """A content hash: same data, claims, lexicons, recipe and scikit-learn give the same version on any day."""
    import sklearn

    key = json.dumps([data_sha, lexicon_digest, sorted(claim_texts), RECIPE, sklearn.__version__], sort_keys=True)
    return "m-" + hashlib.sha256(key.encode()).hexdigest()[:12]


def train(
    items: Sequence[LabelledItem],
    claim_texts: Sequence[str],
    lex: Lexicons,
    out_dir: Path,
    extra: Sequence[LabelledItem] = (),
    evaluate: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Fit every head on the seed set + `extra` (the department's labels, reviewers' verdicts and corrections as
    LabelledItem; `real=True` ones teach relevance), save bundle + sidecar, return the sidecar.

    With real relevance labels the sidecar's scores are the 5-fold CV figures on them (classify/devcv.py);
    otherwise a 3-fold CV on the seed set.
    """
    started = time.monotonic()
    all_items = list(items) + list(extra)
    if not any(it.is_education for it in all_items) or not any(it.is_education is False for it in all_items):
        raise TrainingDataError("the labelled set needs both education and non-education items")
    real = [it for it in all_items if it.real and it.relevance is not None]
    others = [it for it in all_items if not (it.real and it.relevance is not None)]
    with threadpool_limits(1):  # BLAS threads fighting over shared cores made the fits 15x slower
        prep = prepare(others, lex, progress=progress)
        scores: dict[str, Any] = {}
        if evaluate and len(real) >= 50:
            from classify.devcv import cross_validate_real  # imports api, which imports this module

            scores = cross_validate_real(real, prep, lex)
            scores.pop("ablations", None)
        elif evaluate:
            scores = cross_validate(prep)
        prep += prepare(real, lex)
        vec, heads = _fit_heads(prep)
    dh = data_hash(all_items)
    now = datetime.now(UTC)
    meta: dict[str, Any] = {
        "model_version": model_version(dh, lex.digest, claim_texts),
        "created_at": now.isoformat(timespec="seconds"),
        "libraries": library_versions(),
        "training_data_sha256": dh,
        "lexicon_digest": lex.digest,
        "counts": {
            "seed_items": len(items),
            "reviewer_verdicts": len(extra),
            "real_labels": len(real),
            "education": sum(1 for it in all_items if it.is_education),
            "relevant": sum(1 for it in all_items if it.relevance in ("explicit", "task")),
            "misinfo": sum(1 for it in all_items if it.misinfo),
            "training_rows_with_variants": len(prep),
        },
        "themes_with_model": sorted(heads["themes"]),
        # which labels taught the relevance head: the policy gate applies only to "written" (api.rules_of)
        "relevance_labels": "real" if learns_from_real(all_items) else "written",
        "scores": scores,
        "learned_risk_strength": LEARNED_RISK_STRENGTH,
        "train_seconds": 0.0,
    }
    bundle = Bundle.from_heads(vec, heads, _claim_vectorizer(all_items, claim_texts), meta)
    meta["train_seconds"] = round(time.monotonic() - started, 1)
    bundle.save(out_dir)
    return meta
