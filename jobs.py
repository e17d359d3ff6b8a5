"""Glue between classify/ and store/: used by the crawl pipeline, the CLI, the scheduler and the review app."""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from classify.api import ClaimRef, Classifier, ItemIn, Result, risk_note
from classify.model import DEFAULT_MODEL_DIR, SIDECAR_FILE
from classify.stories import WINDOW_DAYS, StoryItem, cluster_stories, story_text
from classify.text import clean
from settings import Settings
from store.classifications import (
    active_claims,
    ensure_review_item,
    recent_articles,
    reviewer_verdicts,
    story_clusters_in,
    story_neighbours,
    story_starts,
    upsert_classification,
    write_claim_matches,
)
from store.models import Article, Claim, Verdict, utcnow
from store.work import claim_batch, confirm_batch, load_articles, lock_result_writes, mark_stale, queue_state

log = logging.getLogger(__name__)

# Half-life of recency in the review priority: a rumour from last week matters less than today's.
RECENCY_HALF_LIFE_DAYS = 3.0


def trained_model_dir(settings: Settings) -> Path:
    """Where `nq71 train` and the scheduled retrain write: under NQ71_DATA_DIR, never the tracked classify/models/."""
    return settings.data_dir / "models"


def model_dir(settings: Settings) -> Path:
    """The model to load: a retrained one under NQ71_DATA_DIR if any, else NQ71_MODEL_DIR (the shipped model)."""
    trained = trained_model_dir(settings)
    if (trained / SIDECAR_FILE).exists():
        return trained
    path = settings.model_dir
    # NQ71_MODEL_DIR's default is relative to the working folder; outside a checkout it means the shipped package data
    if path == Settings.model_fields["model_dir"].default and not path.exists():
        return DEFAULT_MODEL_DIR
    return path


def labelled_files(settings: Settings) -> list[Path]:
    """The department's labelled files (NQ71_LABELLED_FILES, comma-separated) every training run learns from."""
    return [Path(p.strip()) for p in settings.labelled_files.split(",") if p.strip()]


def _loaded(directory: Path, settings: Settings) -> Classifier:
    return Classifier.load(directory, suggest=settings.claim_suggest_threshold, auto=settings.claim_auto_threshold)


def _claim_ref(claim: Claim) -> ClaimRef:
    return ClaimRef(claim.id, claim.text, claim.verdict.value)


def load_classifier(session: Session, settings: Settings) -> Classifier:
    """The shipped (or configured) model with the active claims of the registry."""
    clf = _loaded(model_dir(settings), settings)
    clf.set_claims([_claim_ref(c) for c in active_claims(session)])
    return clf


_CACHE: dict[str, Any] = {}


def cached_classifier(session: Session, settings: Settings) -> Classifier:
    """One classifier per process and model folder (loading takes a second); claims refreshed when they change.
    Classification workers and the review app keep theirs for their whole life."""
    directory = model_dir(settings)
    claims = active_claims(session)
    stamp = tuple((c.id, c.text) for c in claims)
    entry = _CACHE.get(str(directory))
    if entry is None:
        entry = _CACHE[str(directory)] = {"clf": _loaded(directory, settings), "stamp": None}
    clf: Classifier = entry["clf"]
    if entry["stamp"] != stamp:
        clf.set_claims([_claim_ref(c) for c in claims])
        entry["stamp"] = stamp
    return clf


def item_of(article: Article) -> ItemIn:
    """The classifier's view of a stored article."""
    outlet = article.outlet
    return ItemIn(
        title=article.title or "",
        summary=article.summary or "",
        text=article.text or "",
        url=article.url,
        outlet=outlet.name if outlet else "",
        outlet_kind=outlet.kind.value if outlet else None,
        outlet_tier=outlet.tier.value if outlet else None,
        engagement=article.engagement,
        published_at=article.published_at,
    )


def reach(article: Article, tiers: dict[str, float]) -> float:
    """Reach factor: outlet tier (sources.toml [reach]), and social engagement (log-scaled: 10x the shares is not 10x the harm)."""
    tier = article.outlet.tier.value if article.outlet else "unknown"
    factor = tiers.get(tier, tiers.get("unknown", 1.0))
    eng = article.engagement or {}
    total = 0.0
    for key, weight in (("shares", 1.0), ("comments", 0.5), ("likes", 0.1), ("reactions", 0.1), ("views", 0.01)):
        try:
            total += weight * float(eng.get(key, 0) or 0)
        except (TypeError, ValueError):
            continue
    return factor * (1.0 + math.log10(1.0 + total) / 2.0)


def reach_by_tier() -> dict[str, float]:
    """The reach factor per outlet tier that ``reach`` applies: the lexicon's [reach] table (sources.toml)."""
    from classify.lexicon import Lexicons

    return Lexicons.load().reach


def recency(article: Article, now: datetime | None = None) -> float:
    """1.0 for an item published now, halving every RECENCY_HALF_LIFE_DAYS, never below 0.05."""
    when = article.published_at or article.collected_at or utcnow()
    age = max(0.0, ((now or utcnow()) - when).total_seconds() / 86400.0)
    return max(0.05, float(0.5 ** (age / RECENCY_HALF_LIFE_DAYS)))


def priority(risk: float, article: Article, tiers: dict[str, float], now: datetime | None = None) -> float:
    """Review priority = risk x reach x recency."""
    return round(risk * reach(article, tiers) * recency(article, now), 6)


def store_result(
    session: Session, article: Article, result: Result, settings: Settings, tiers: dict[str, float]
) -> bool:
    """Write one result: classification, claim matches, and a review item when warranted; True if queued."""
    upsert_classification(
        session,
        article.id,
        model_version=result.model_version,
        is_education=result.is_education,
        education_score=result.education_score,
        relevance=result.relevance,
        relevance_score=result.relevance_score,
        themes=result.themes,
        risk_score=result.risk_score,
        reasons=result.reasons,
        evidence=result.evidence,
        claim_matches=result.claim_matches,
    )
    write_claim_matches(session, article.id, result.claim_matches)
    if result.is_education and result.risk_score >= settings.review_threshold:
        top = [r["code"] for r in sorted(result.reasons, key=lambda r: -r["weight"])[:3] if r["weight"] > 0]
        item = ensure_review_item(session, article.id, priority(result.risk_score, article, tiers), note=risk_note(result.risk_score, top))
        return item is not None
    return False


def write_results(session: Session, articles: Sequence[Article], results: Sequence[Result], settings: Settings,
                  classifier: Classifier, stories: dict[int | str, int | str] | None = None) -> int:
    """Store scored articles (classification, claim matches, review items, story clusters); how many were queued.

    ``stories``: a story assignment planned before the transaction's first write (else planned here)."""
    queued = 0
    for article, result in zip(articles, results):
        queued += store_result(session, article, result, settings, classifier.lex.reach)
        article.classify_due = False
    if stories is None:
        assign_story_clusters(session, articles)
    else:
        apply_story_clusters(session, articles, stories)
    log.info("classified %d articles (%d queued for review), model %s", len(articles), queued, classifier.model_version)
    return queued


def classify_articles(session: Session, classifier: Classifier, articles: Sequence[Article], settings: Settings) -> int:
    """Score articles, store their classification and claim matches, queue risky education items; returns count."""
    if not articles:
        return 0
    write_results(session, articles, classifier.score_many([item_of(a) for a in articles]), settings, classifier)
    return len(articles)


@dataclass(frozen=True)
class Batch:
    """One worker batch: ids claimed, ids whose results were written (claim still held), review items queued."""

    claimed: list[int]
    written: list[int]
    queued: int = 0


# PostgreSQL may pick one of two writers as a deadlock victim (story clusters move rows of other batches)
WRITE_ATTEMPTS = 3


def classify_claimed(
    sessions: sessionmaker[Session],
    settings: Settings,
    worker: str,
    on_claim: Callable[[list[int]], None] | None = None,
) -> Batch:
    """Claim a batch of due articles, score them outside any transaction, write the results where the claim still stands."""
    with sessions() as session, session.begin():
        ids = claim_batch(session, worker, settings.classify_batch, settings.classify_lease_seconds)
    if not ids:
        return Batch([], [])
    if on_claim is not None:
        on_claim(ids)
    with sessions() as session:
        classifier = cached_classifier(session, settings)
        articles = load_articles(session, ids)
        items = [item_of(a) for a in articles]
    results = dict(zip([a.id for a in articles], classifier.score_many(items)))
    for attempt in range(1, WRITE_ATTEMPTS + 1):
        try:
            with sessions() as session, session.begin():
                # reads and story planning first: on SQLite the write lock is taken by the first write (the
                # confirmation) and held to the commit, so the crawl's stores wait only for the writes
                rows = load_articles(session, ids)
                plan = plan_story_clusters(session, rows)
                lock_result_writes(session)
                confirmed = set(confirm_batch(session, worker, ids))
                rows = [a for a in rows if a.id in confirmed]
                plan = replan_if_moved(session, rows, plan)
                queued = write_results(session, rows, [results[a.id] for a in rows], settings, classifier, plan.mapping)
            return Batch(ids, [a.id for a in rows], queued)
        except OperationalError as exc:
            if attempt == WRITE_ATTEMPTS or "deadlock" not in str(exc).lower():
                raise
            log.warning("worker %s: deadlock writing %d results, attempt %d: retrying", worker, len(ids), attempt)
    raise AssertionError("unreachable")


class Stop(Protocol):
    """A threading or multiprocessing Event: set when the worker should stop."""

    def is_set(self) -> bool: ...

    def wait(self, timeout: float | None = None) -> bool: ...


IDLE_POLL_SECONDS = 0.5  # a waiting worker looks for new articles this often: flagged items reach review in seconds


def classify_queue(
    sessions: sessionmaker[Session],
    settings: Settings,
    worker: str,
    stop: Stop | None = None,
    drain: bool = False,
    on_batch: Callable[[Batch], None] | None = None,
    on_claim: Callable[[list[int]], None] | None = None,
) -> int:
    """A worker's loop: classify due articles batch by batch until `stop` is set, or (drain) until none is due.

    Draining waits for batches other workers hold: they are written, or their lease expires and are taken here.
    Returns how many results this worker wrote.
    """
    stop = stop or threading.Event()
    written = 0
    while not stop.is_set():
        batch = classify_claimed(sessions, settings, worker, on_claim)
        written += len(batch.written)
        if batch.claimed:
            if on_batch is not None:
                on_batch(batch)
            continue
        if drain:
            with sessions() as session:
                if queue_state(session).leased == 0:
                    break
        stop.wait(IDLE_POLL_SECONDS)
    return written


def worker_name(role: str = "classify") -> str:
    """A name unique across machines and restarts: host, process id, a random tag."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{role}:{uuid.uuid4().hex[:8]}"


def classify_backlog(
    sessions: sessionmaker[Session],
    settings: Settings,
    batch: int = 200,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Mark due every article with no classification or an older model's, then classify until nothing is due."""
    with sessions() as session, session.begin():
        classifier = cached_classifier(session, settings)
        mark_stale(session, classifier.model_version)
    with sessions() as session:
        state = queue_state(session)
    total = state.free + state.leased
    done = 0

    def step(b: Batch) -> None:
        nonlocal done
        done += len(b.written)
        if progress:
            progress(done, total)

    return classify_queue(sessions, settings.replace(classify_batch=batch), worker_name("backlog"), drain=True,
                          on_batch=step)


def recheck_claim(session: Session, classifier: Classifier, claim_id: int, settings: Settings, days: int = 30) -> int:
    """Match one (new) claim against the last `days` days; matched articles are re-classified; returns matches."""
    from classify.claims import ClaimMatcher
    from classify.text import Doc

    claim = session.get(Claim, claim_id)
    if claim is None:
        raise ValueError(f"claim {claim_id} does not exist")
    matcher = ClaimMatcher(classifier.bundle.claim_vectorizer, [_claim_ref(claim)],
                           classifier.suggest_threshold, classifier.auto_threshold)
    hits = [a for a in recent_articles(session, days) if matcher.match(Doc.of(a.title, a.summary, a.text))]
    if not hits:
        return 0
    refs = {c.id for c in classifier.matcher.claims}
    if claim.id not in refs:
        classifier.set_claims([*classifier.matcher.claims, _claim_ref(claim)])
    classify_articles(session, classifier, hits, settings)
    return len(hits)


_STORY_TEXTS: dict[tuple[int, str | None, str | None, str | None], tuple[str, str]] = {}
STORY_TEXT_CACHE = 50_000  # about 2 KB each; a busy window holds a few thousand articles


def story_item(article: Article) -> StoryItem:
    """The clusterer's view of an article; its cleaned words are kept, since the crawl's per-item hook
    sees the same neighbours again and again."""
    # the text's hash, title and summary: a page replacing a feed-only entry changes them without a revision
    key = (article.id, article.content_hash, article.title, article.summary)
    if key not in _STORY_TEXTS:
        if len(_STORY_TEXTS) >= STORY_TEXT_CACHE:
            _STORY_TEXTS.clear()
        _STORY_TEXTS[key] = (story_text(article.title, article.summary, article.text), clean(article.title))
    text, title = _STORY_TEXTS[key]
    return StoryItem(article.id, text, article.published_at, article.copy_of_id, title)


def assign_story_clusters(
    session: Session,
    articles: Sequence[Article],
    window_days: float = WINDOW_DAYS,
) -> int:
    """Give articles their story cluster (id of the story's first article); copies follow their original.

    Copies already carry copy_of_id/cluster_id from the crawler (classify/near_dup.py); an original that
    joins an earlier story moves its copies with it. Returns how many cluster ids changed.
    """
    return apply_story_clusters(session, articles, plan_story_clusters(session, articles, window_days).mapping)


@dataclass(frozen=True)
class StoryPlan:
    """The story each article joins, and the neighbours' stories it was planned against (id -> cluster)."""

    mapping: dict[int | str, int | str]
    seen: dict[int, int]


def plan_story_clusters(session: Session, articles: Sequence[Article], window_days: float = WINDOW_DAYS) -> StoryPlan:
    """The story each article joins (reads and computes only: workers do this before taking the write lock)."""
    if not articles:
        return StoryPlan({}, {})
    ids = [a.id for a in articles]
    dated = [a.published_at for a in articles if a.published_at]
    window = timedelta(days=window_days)
    known: list[tuple[StoryItem, int | str]] = []
    if dated:
        for n in story_neighbours(session, min(dated) - window, max(dated) + window, ids):
            if n.cluster_id is not None:
                known.append((story_item(n), n.cluster_id))
    items = [story_item(a) for a in articles]
    # a story whose first members are older than the window keeps its start: it may not creep forward.
    # A story is named after its first article: when that one is in the pool, the pool already shows the
    # start (a later backfill dated earlier can stretch it by at most one window), so only the others are asked.
    seen = {int(it.key) for it, _ in known}
    starts = story_starts(session, sorted({int(c) for _, c in known} - seen))
    mapping = cluster_stories(items, known, window_days=window_days, starts={k: v for k, v in starts.items()})
    return StoryPlan(mapping, {int(it.key): int(c) for it, c in known})


def replan_if_moved(session: Session, articles: Sequence[Article], plan: StoryPlan,
                    window_days: float = WINDOW_DAYS) -> StoryPlan:
    """The plan again when another worker moved one of the neighbours it was made against (call under the write
    lock): two workers placing reports of one new event at once would otherwise each join the other's report
    and split the story. Articles stored since are left out: their own turn will see this batch."""
    dated = [a.published_at for a in articles if a.published_at]
    if not dated:
        return plan
    window = timedelta(days=window_days)
    now = story_clusters_in(session, min(dated) - window, max(dated) + window, [a.id for a in articles])
    moved = any(now.get(k, c) != c for k, c in plan.seen.items())
    return plan_story_clusters(session, articles, window_days) if moved else plan


def apply_story_clusters(session: Session, articles: Sequence[Article], mapping: dict[int | str, int | str]) -> int:
    """Write a planned story assignment; copies follow their original. How many cluster ids changed."""
    changed = 0
    for a in articles:
        new = mapping.get(a.id)
        if a.copy_of_id is not None:
            original = session.get(Article, a.copy_of_id)
            new = original.cluster_id if original and original.cluster_id else a.copy_of_id
        if new is not None and a.cluster_id != int(new):
            old = a.cluster_id
            a.cluster_id = int(new)
            changed += 1
            # copies of this article follow it into its story
            session.execute(update(Article).where(Article.copy_of_id == a.id).values(cluster_id=int(new)))
            if old is not None and old == a.id:
                session.execute(update(Article).where(Article.cluster_id == old, Article.id != a.id)
                                .values(cluster_id=int(new)))
    session.flush()
    return changed


def training_items_from_db(session: Session) -> list[Any]:
    """Reviewers' verdicts (misinformation) and label corrections (education, NQ71, task groups) as labelled items."""
    from classify.model import LabelledItem
    from store.corrections import latest_corrections

    def item(article: Article) -> LabelledItem:
        return LabelledItem(
            id=f"review-{article.id}", title=article.title or "", summary=article.summary or "",
            text=article.text or "", outlet_kind=article.outlet.kind.value if article.outlet else None,
        )

    out: dict[int, LabelledItem] = {}
    for article, verdict in reviewer_verdicts(session):
        li = out[article.id] = item(article)
        li.misinfo = 1 if verdict in (Verdict.tin_gia, Verdict.tin_sai_su_that) else 0
        li.is_education = None if verdict == Verdict.khong_lien_quan else True
    for article, fix in latest_corrections(session):  # a correction outranks what a verdict implies
        li = out.setdefault(article.id, item(article))
        li.is_education, li.relevance = fix.is_education, fix.relevance.value
        li.themes = fix.themes
        li.real = True  # a reviewer's correction is the department's label: it weighs 3x and teaches relevance
    return [out[k] for k in sorted(out)]


def train_model(
    session: Session | None,
    settings: Settings,
    out_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    labels: Sequence[Path] | None = None,
    base: Sequence[Any] | None = None,
    evaluate: bool = True,
) -> dict[str, Any]:
    """Train on `base` (default: the seed set), the department's labels (`labels`, default NQ71_LABELLED_FILES)
    and reviewers' verdicts and corrections in the database; save to out_dir (default: NQ71_DATA_DIR/models)."""
    from classify.lexicon import Lexicons
    from classify.model import read_department_labels, seed_claims, seed_items, train

    extra = [it for path in (labels if labels is not None else labelled_files(settings))
             for it in read_department_labels(path)]
    extra += training_items_from_db(session) if session is not None else []
    claims = [c["text"] for c in seed_claims()]
    if session is not None:
        claims += [c.text for c in active_claims(session)]
    target = out_dir or trained_model_dir(settings)
    return train(seed_items() if base is None else base, claims, Lexicons.load(), target,
                 extra=extra, evaluate=evaluate, progress=progress)
