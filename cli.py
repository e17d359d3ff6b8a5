"""The ``nq71`` command: the only place that prints. Each room adds its commands in its own section."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from settings import Settings, SettingsError, load_settings
from store.db import DatabaseUnavailable, StoreError, ensure_schema, make_engine, make_session_factory, upgrade
from store.sources import SourcesError

# Exceptions a user can cause: shown as one line "Lỗi: ..." with exit code 2, never a traceback.
USER_ERRORS: tuple[type[BaseException], ...] = (SettingsError, SourcesError, StoreError)


@dataclass
class App:
    """What every command needs: settings read once, one engine and session factory per process."""

    settings: Settings
    _engine: Engine | None = field(default=None, init=False)
    _sessions: sessionmaker[Session] | None = field(default=None, init=False)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.settings.database_url)
        return self._engine

    def sessions(self, migrate: bool = True) -> sessionmaker[Session]:
        """The session factory; an empty or outdated SQLite database is upgraded first."""
        if self._sessions is None:
            if migrate:
                ensure_schema(self.engine)
            self._sessions = make_session_factory(self.engine)
        return self._sessions


def configure_logging(level: str) -> None:
    """Entry points only; force=True because underthesea calls basicConfig on import."""
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
    for noisy in ("alembic", "matplotlib", "PIL", "urllib3"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))


def database_problem(app: App | None, exc: DBAPIError | DatabaseUnavailable) -> str:
    """One line: which database (password masked) and what the driver said went wrong."""
    url = app.settings.database_url if app else "?"
    try:
        shown = make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        shown = "?"
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
    reason = lines[0] if lines else type(cause).__name__
    return f"Lỗi / error: không dùng được cơ sở dữ liệu / cannot use the database {shown}: {reason[:300]}"


class Group(click.Group):
    """A click group that turns user-caused errors into a one-line message."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (OperationalError, InterfaceError, DatabaseUnavailable) as exc:
            click.echo(database_problem(ctx.find_object(App), exc), err=True)
            ctx.exit(1)
        except USER_ERRORS as exc:
            lines = getattr(exc, "problems", None)
            if lines:
                where = getattr(exc, "path", "")
                click.echo(f"Lỗi / error: {where}: {len(lines)} problem(s), nothing was written:", err=True)
                for line in lines:
                    click.echo(f"  - {line}", err=True)
            else:
                click.echo(f"Lỗi / error: {exc}", err=True)
            ctx.exit(2)


def demo_database(settings: Settings) -> Path:
    """Where `nq71 demo` keeps its database (so other commands can read it with --db demo)."""
    return settings.data_dir / "demo" / "nq71-demo.db"


def chosen_database(settings: Settings, db: str) -> str:
    """--db: a SQLAlchemy URL, an existing SQLite file, or "demo"; a missing file is an error, never a new empty one."""
    if "://" in db:
        return db
    path = demo_database(settings) if db == "demo" else Path(db)
    if not path.is_file():
        hint = " (chạy / run `make demo` trước / first)" if db == "demo" else ""
        raise SettingsError(f"--db: không có cơ sở dữ liệu / no database file at {path}{hint}")
    return f"sqlite:///{path}"


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", "db", metavar="URL|FILE|demo",
              help="Database for this command: a URL, a SQLite file, or 'demo' (the demo's); default NQ71_DATABASE_URL.")
@click.pass_context
def main(ctx: click.Context, db: str | None) -> None:
    """nq71-monitor: theo dõi tin giáo dục về Nghị quyết 71-NQ/TW (Hải Phòng)."""
    try:
        settings = load_settings()
        if db:
            settings = settings.replace(database_url=chosen_database(settings, db))
    except SettingsError as exc:
        click.echo(f"Lỗi / error: {exc}", err=True)
        ctx.exit(2)
    configure_logging(settings.log_level)
    ctx.obj = App(settings)


pass_app: Callable[..., Any] = click.make_pass_decorator(App)


# --- db ---------------------------------------------------------------------------------------
@main.group(cls=Group)
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@pass_app
def db_upgrade(app: App) -> None:
    """Apply all migrations to the configured database."""
    upgrade(app.engine)
    click.echo(f"Database at the newest schema: {app.engine.url.render_as_string(hide_password=True)}")


# --- sources ----------------------------------------------------------------------------------
@main.group(cls=Group)
def sources() -> None:
    """The sources registry (config/sources.toml)."""


@sources.command("sync")
@click.option("--file", "path", type=click.Path(dir_okay=False), help="Sources file (default: NQ71_SOURCES).")
@pass_app
def sources_sync(app: App, path: str | None) -> None:
    """Load the sources file into the database (idempotent; removed entries are deactivated)."""
    from pathlib import Path

    from store.sources import parse_sources, sync_sources

    specs = parse_sources(Path(path) if path else app.settings.sources)
    with app.sessions()() as session, session.begin():
        result = sync_sources(session, specs)
    for line in result.changes:
        click.echo(line)
    click.echo(
        f"outlets: +{result.outlets_added} ~{result.outlets_updated} -{result.outlets_deactivated}; "
        f"feeds: +{result.feeds_added} ~{result.feeds_updated} -{result.feeds_deactivated}; "
        f"unchanged: {result.unchanged}"
    )


@sources.command("list")
@click.option("--all", "include_inactive", is_flag=True, help="Also show deactivated outlets and feeds.")
@pass_app
def sources_list(app: App, include_inactive: bool) -> None:
    """Outlets and feeds with their health: status, last success, last new item, last message."""
    from store.queries import outlets_with_feeds

    def when(value: Any) -> str:
        return value.strftime("%Y-%m-%d %H:%M") if value else "—"

    with app.sessions()() as session:
        outlets = outlets_with_feeds(session, include_inactive)
        if not outlets:
            click.echo("No outlets yet: run `nq71 sources sync`.")
        for outlet in outlets:
            flag = "" if outlet.active else " [inactive]"
            section = " [chuyên mục NQ71]" if outlet.has_nq71_section else ""
            click.echo(f"{outlet.slug}  {outlet.name}  ({outlet.kind.value}, {outlet.tier.value}){section}{flag}")
            for feed in outlet.feeds:
                if not feed.active and not include_inactive:
                    continue
                state = "paused" if feed.paused else ("inactive" if not feed.active else feed.status.value)
                code = f" {feed.http_status}" if feed.http_status else ""
                click.echo(
                    f"  - {feed.kind.value:8} {state}{code:5} last ok {when(feed.last_success_at)}"
                    f"  last new {when(feed.last_new_item_at)}  due {when(feed.next_due_at)}  {feed.url}"
                )
                if feed.status_message:
                    click.echo(f"      {feed.status_message}")


# --- stats ------------------------------------------------------------------------------------
@main.command("stats")
@click.option("--json", "as_json", is_flag=True, help="One JSON object (for scripts).")
@pass_app
def stats_cmd(app: App, as_json: bool) -> None:
    """Counts: outlets, feeds, articles, classified articles, review items by status, users."""
    from store.queries import stats

    with app.sessions()() as session:
        data = stats(session)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, sort_keys=True))
        return
    for key, value in data.items():
        click.echo(f"{key:22} {value}")


# --- crawl (crawler/) -------------------------------------------------------------------------
from crawler.errors_light import CrawlError  # noqa: E402  (light module: no Scrapy at start-up)

USER_ERRORS += (CrawlError,)


@main.command("crawl")
@click.option("--outlet", "outlets", multiple=True, metavar="SLUG", help="Only this outlet (repeatable).")
@click.option("--feeds-only", is_flag=True, help="Poll feeds only; keep entries as feed-only, fetch pages later.")
@click.option("--all", "crawl_all", is_flag=True, help="Every active feed, not only those due.")
@click.option("--quiet", is_flag=True, help="No progress lines, only the table.")
@click.option("--json", "as_json", is_flag=True, help="The report as one JSON object (rows, timings, health).")
@click.option("--worker", is_flag=True, help="Only take pages from the shared Redis frontier (NQ71_REDIS_URL).")
@click.option("--idle", "idle_seconds", type=float, default=30.0, show_default=True, help="A worker stops after this many idle seconds.")
@click.option("--wait", "wait_seconds", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="If another crawl is running on this database, wait up to this many seconds (else refuse).")
@pass_app
def crawl_cmd(
    app: App, outlets: tuple[str, ...], feeds_only: bool, crawl_all: bool, quiet: bool, as_json: bool, worker: bool,
    idle_seconds: float, wait_seconds: float,
) -> None:
    """Crawl what is due (or --all): feeds, sitemaps, listing pages, social pages; then a table per outlet."""
    from workers import crawl_and_classify

    report = crawl_and_classify(
        app.settings,
        outlets=list(outlets) or None,
        feeds_only=feeds_only,
        due_only=not crawl_all,
        progress=None if quiet or as_json else (lambda line: click.echo(f"  {line}", err=True)),
        worker=worker,
        worker_idle_seconds=idle_seconds,
        wait_seconds=wait_seconds,
    )
    if as_json:
        click.echo(json.dumps({"rows": report.rows, "totals": report.totals, "feeds": report.feeds,
                               "seconds": round(report.seconds, 3), "timings": report.timings,
                               "health": report.health}, ensure_ascii=False))
        return
    cols = ("fetched", "new", "updated", "duplicate", "feed_only", "errors")
    width = max([len("outlet"), *(len(s) for s in report.rows)]) + 2
    click.echo("outlet".ljust(width) + "".join(c.rjust(11) for c in cols))
    for slug, row in report.rows.items():
        click.echo(slug.ljust(width) + "".join(str(row.get(c, 0)).rjust(11) for c in cols))
    totals = report.totals
    click.echo("total".ljust(width) + "".join(str(totals[c]).rjust(11) for c in cols))
    click.echo(f"{report.feeds} feed(s) in {report.seconds:.1f} s")


# --- classification workers (workers.py) -------------------------------------------------------
@main.group(cls=Group)
def worker() -> None:
    """Worker processes for another machine (same NQ71_DATABASE_URL)."""


@worker.command("classify")
@click.option("--procs", type=click.IntRange(min=1), help="Worker processes (default: NQ71_CLASSIFY_WORKERS, or cores - 1).")
@pass_app
def worker_classify(app: App, procs: int | None) -> None:
    """Classify stored articles as they arrive, until Ctrl+C / SIGTERM (each worker finishes its batch)."""
    import workers

    workers.serve(app.settings, procs or workers.default_procs(app.settings),
                  lambda n: click.echo(f"{n} classification worker(s) running; stop: Ctrl+C", err=True))


# --- classify, train, eval, claims (classify/) ------------------------------------------------
from classify.errors import BatchInputError, DataMissingError, LexiconError, ModelError, TrainingDataError  # noqa: E402
from store.classifications import ClaimError  # noqa: E402

USER_ERRORS += (BatchInputError, DataMissingError, LexiconError, ModelError, TrainingDataError, ClaimError)


def _jobs() -> Any:
    """The top-level jobs module (classify/store glue), imported late: it loads scikit-learn and underthesea."""
    import jobs

    return jobs


@main.command("classify")
@click.option("--in", "in_path", type=click.Path(dir_okay=False), help="Items to score, one JSON object per line.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), help="Where to write the scored lines.")
@click.option("--backlog", is_flag=True, help="Classify stored articles with no (or an older model's) classification.")
@click.option("--batch", default=200, show_default=True, help="Articles per transaction with --backlog.")
@pass_app
def classify_cmd(app: App, in_path: str | None, out_path: str | None, backlog: bool, batch: int) -> None:
    """Score a JSONL file (--in/--out) or the database backlog (--backlog)."""
    from pathlib import Path

    jobs = _jobs()
    if backlog:
        if in_path or out_path:
            raise click.UsageError("use either --backlog or --in/--out, not both")
        with click.progressbar(length=1, label="Phân loại / classifying", file=sys.stderr) as bar:

            def step(done: int, total: int) -> None:
                bar.length = max(total, 1)
                bar.update(done - bar.pos)

            n = jobs.classify_backlog(app.sessions(), app.settings, batch=batch, progress=step)
        click.echo(f"classified {n} article(s)")
        return
    if not in_path or not out_path:
        raise click.UsageError("give --in ITEMS.jsonl and --out SCORED.jsonl (or --backlog)")
    from classify.batch import count_lines, score_file

    src, dst = Path(in_path), Path(out_path)
    total = count_lines(src)
    with app.sessions()() as session:
        clf = jobs.load_classifier(session, app.settings)
    with click.progressbar(length=max(total, 1), label="Phân loại / classifying", file=sys.stderr) as bar:
        report = score_file(clf, src, dst, progress=bar.update)
    for bad in report.bad:
        click.echo(f"{src}:{bad.line}: skipped: {bad.reason}", err=True)
    click.echo(f"scored {report.scored} item(s), skipped {len(report.bad)} bad line(s) -> {dst}")


@main.command("train")
@click.option("--out", "out_dir", type=click.Path(file_okay=False),
              help="Model folder (default: NQ71_DATA_DIR/models; the shipped model: --out classify/models).")
@click.option("--labels", "labels", multiple=True, type=click.Path(dir_okay=False),
              help="The department's labelled JSONL (edu/nq71/group); repeatable. Default: NQ71_LABELLED_FILES.")
@click.option("--no-db", is_flag=True, help="Seed set only (ignore reviewers' verdicts in the database).")
@pass_app
def train_cmd(app: App, out_dir: str | None, labels: tuple[str, ...], no_db: bool) -> None:
    """Fit the models on the seed set, the department's labels and reviewers' verdicts; save model + sidecar."""
    from pathlib import Path

    jobs = _jobs()
    target = Path(out_dir) if out_dir else jobs.trained_model_dir(app.settings)
    label_paths = [Path(p) for p in labels] if labels else None
    with click.progressbar(length=1, label="Huấn luyện / training", file=sys.stderr) as bar:

        def step(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - bar.pos)

        if no_db:
            meta = jobs.train_model(None, app.settings, target, progress=step, labels=label_paths)
        else:
            with app.sessions()() as session:
                meta = jobs.train_model(session, app.settings, target, progress=step, labels=label_paths)
    click.echo(f"model {meta['model_version']} saved to {target} in {meta['train_seconds']} s")
    click.echo("items: " + ", ".join(f"{k} {v}" for k, v in meta["counts"].items()))
    scores = meta["scores"]
    if "overall" in scores:
        click.echo("5-fold CV on the department's labels: " + ", ".join(
            f"{k} {v['mean']} [{v['ci95'][0]}, {v['ci95'][1]}]" for k, v in scores["overall"].items()))
    else:
        click.echo("cross-validated: " + ", ".join(f"{k} {v}" for k, v in scores.items()))


def _print_reports(reports: list[Any]) -> None:
    for rep in reports:
        click.echo(f"\n== {rep.task} (n={rep.n})")
        click.echo(f"{'label':>10} {'precision':>10} {'recall':>8} {'f1':>8} {'support':>8}")
        for lab, m in rep.per_label.items():
            click.echo(f"{lab:>10} {m['precision']:>10.3f} {m['recall']:>8.3f} {m['f1']:>8.3f} {m['support']:>8}")
        if rep.confusion:
            click.echo("confusion (rows = gold, columns = predicted): " + " ".join(rep.labels))
            for lab, row in zip(rep.labels, rep.confusion):
                click.echo(f"{lab:>10} " + " ".join(f"{v:>6}" for v in row))
        for key, value in rep.extra.items():
            click.echo(f"{key}: {value}")


@main.command("eval")
@click.option("--gold", "gold_path", required=True, type=click.Path(dir_okay=False), help="Labelled JSONL file.")
@click.option("--claims", "claims_path", type=click.Path(dir_okay=False),
              help="Claims JSONL (id, text, verdict) to match against; default: fixtures/labelled/claims.jsonl.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object (for scripts).")
@pass_app
def eval_cmd(app: App, gold_path: str, claims_path: str | None, as_json: bool) -> None:
    """Precision, recall, F1 per label and confusion matrices on a gold file (seed schema)."""
    from pathlib import Path

    from classify.api import Classifier
    from classify.evaluate import eval_gold
    from classify.api import ClaimRef
    from classify.model import read_claims, read_labelled, seed_claims

    gold = read_labelled(Path(gold_path))
    clf = Classifier.load(_jobs().model_dir(app.settings), suggest=app.settings.claim_suggest_threshold,
                          auto=app.settings.claim_auto_threshold)
    claim_rows = read_claims(Path(claims_path)) if claims_path else seed_claims()
    clf.set_claims([ClaimRef(c["id"], c["text"], c["verdict"]) for c in claim_rows])
    with click.progressbar(length=len(gold), label="Đánh giá / evaluating", file=sys.stderr) as bar:
        reports = eval_gold(clf, gold, progress=lambda done, total: bar.update(done - bar.pos))
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in reports], ensure_ascii=False))
        return
    click.echo(f"model {clf.model_version}, {len(gold)} gold items from {gold_path}")
    _print_reports(reports)


@main.command("eval-real")
@click.option("--data", "data_dir", default="../shared/data", show_default=True, type=click.Path(),
              help="The shared real-data folder (never copied into the project).")
@click.option("--limit", type=int, default=None, help="Score a random sample of this many stream items / UIT rows.")
@click.option("--sample", type=int, default=50, show_default=True, help="Tagged stream items to list for reading.")
@click.option("--seed", "sample_seed", type=int, default=71, show_default=True, help="Random seed of the reading sample.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object (for scripts).")
@click.option("--dev-only", is_flag=True, help="Only the 5-fold CV on the labelled dev set (and its learning curve).")
@pass_app
def eval_real_cmd(
    app: App, data_dir: str, limit: int | None, sample: int, sample_seed: int, as_json: bool, dev_only: bool
) -> None:
    """Quality on real data: dev-set CV (education, NQ71, task group), UIT-ViON, VnExpress, vnnews-v2, the stream."""
    from pathlib import Path

    from classify.api import Classifier
    from classify.devcv import eval_dev, format_dev
    from classify.evaluate import eval_stream, eval_uit_vion, eval_vnexpress_titles, eval_vnnews

    data = Path(data_dir)
    if not data.is_dir():
        raise DataMissingError(f"{data} not found: pass --data pointing at the shared data folder (../shared/data)")
    # the dev CV trains its own fold models: it needs no saved model
    clf = None if dev_only else Classifier.load(_jobs().model_dir(app.settings))
    out: dict[str, Any] = {"model_version": clf.model_version if clf else None}
    steps: list[tuple[str, Callable[..., dict[str, Any]]]] = [("dev_cv", lambda p: eval_dev(data, progress=p))]
    steps += [] if clf is None else [
        ("uit_vion", lambda p: eval_uit_vion(clf, data, limit, progress=p)),
        ("vnexpress_titles", lambda p: eval_vnexpress_titles(clf, data, progress=p)),
        ("vnnews", lambda p: eval_vnnews(clf, data, progress=p)),
        ("stream", lambda p: eval_stream(clf, data, limit, sample, progress=p, sample_seed=sample_seed)),
        *_story_steps(data, limit),
    ]
    for key, run in steps:
        with click.progressbar(length=1, label=key, file=sys.stderr) as bar:

            def step(done: int, total: int, bar: Any = bar) -> None:
                bar.length = total
                bar.update(done - bar.pos)

            out[key] = run(step)
    if as_json:
        click.echo(json.dumps(out, ensure_ascii=False))
        return
    for line in format_dev(out["dev_cv"]):
        click.echo(line)
    if clf is None:
        return
    click.echo(f"model {clf.model_version}")
    for key in ("uit_vion", "vnexpress_titles"):
        r = out[key]
        click.echo(f"{r['dataset']}: education F1 {r['f1']:.3f} (P {r['precision']:.3f}, R {r['recall']:.3f}, n {r['n']})")
    r = out["vnnews"]
    click.echo(f"{r['dataset']}: risk ROC AUC {r['roc_auc']:.3f} (n {r['n']}, fake {r['fake']})")
    r = out["stream"]
    click.echo(f"{r['dataset']}: {r['n']} items, education {r['education']}, explicit {r['explicit']}, "
               f"task {r['task']}, themes {r['themes']}")
    if "education_vs_section" in r:
        e = r["education_vs_section"]
        click.echo(f"  education vs the feed's own 'Giáo dục' section: P {e['precision']:.3f} R {e['recall']:.3f} F1 {e['f1']:.3f}")
    click.echo(f"  sample of {len(r['sample'])} tagged items (read them to judge precision):")
    for s in r["sample"]:
        click.echo(f"  - [{s['relevance']} {s['score']:.2f} {s['themes']}] {s['title']}  ({s['source']})")
    _print_stories(out)


# --- stories and debunks in eval-real (classify/story_eval.py) --------------------------------
def _story_steps(data: Any, limit: int | None) -> list[tuple[str, Callable[..., dict[str, Any]]]]:
    """Same-story pairs (5-fold CV), the stream clustered incrementally, and the debunk tag."""
    from classify.story_eval import eval_debunk, eval_story_pairs, eval_story_stream

    return [("story_pairs", lambda p: eval_story_pairs(data, progress=p)),
            ("story_stream", lambda p: eval_story_stream(data, limit, progress=p)),
            ("debunk", lambda p: eval_debunk(data))]


def _print_stories(out: dict[str, Any]) -> None:
    from classify.story_eval import report_lines

    for line in report_lines(out):
        click.echo(line)


@main.group(cls=Group)
def claims() -> None:
    """The registry of confirmed false or distorted claims."""


@claims.command("add")
@click.option("--text", required=True, help="The false statement, in one sentence.")
@click.option("--verdict", default="tin_gia", show_default=True,
              type=click.Choice(["tin_gia", "tin_sai_su_that", "tin_xac_thuc", "khong_lien_quan"]))
@click.option("--url", "refutation_url", default=None, help="Link to the official refutation.")
@click.option("--days", default=30, show_default=True, help="Re-check articles of the last N days.")
@pass_app
def claims_add(app: App, text: str, verdict: str, refutation_url: str | None, days: int) -> None:
    """Add a claim and re-check the last 30 days of articles against it."""
    from store.classifications import add_claim

    jobs = _jobs()
    with app.sessions()() as session, session.begin():
        claim = add_claim(session, text, verdict, refutation_url)
        clf = jobs.load_classifier(session, app.settings)
        matched = jobs.recheck_claim(session, clf, claim.id, app.settings, days=days)
        claim_id = claim.id
    click.echo(f"claim #{claim_id} added; {matched} article(s) of the last {days} days match it")


@claims.command("list")
@click.option("--all", "include_inactive", is_flag=True, help="Also inactive claims.")
@pass_app
def claims_list(app: App, include_inactive: bool) -> None:
    """Claims with their verdict, refutation link and number of matching articles."""
    from store.classifications import list_claims

    with app.sessions()() as session:
        rows = list_claims(session, include_inactive)
    if not rows:
        click.echo("No claims yet: add one with `nq71 claims add --text ... --verdict tin_gia --url ...`.")
    for claim, n in rows:
        flag = "" if claim.active else " [inactive]"
        click.echo(f"#{claim.id} [{claim.verdict.value}] {claim.text}  ({n} matches){flag}")
        if claim.refutation_url:
            click.echo(f"    {claim.refutation_url}")


# --- users, serve (review/) -------------------------------------------------------------------
from store.review import ReviewError  # noqa: E402  (light: sqlalchemy and our models only)

from review.keys import SecretKeyError  # noqa: E402

USER_ERRORS += (ReviewError, SecretKeyError)


@main.group(cls=Group)
def users() -> None:
    """Accounts for the review web app (argon2 password hashes)."""


@users.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["reviewer", "supervisor", "admin"]), required=True, help="Vai trò / role.")
@click.option("--display-name", default=None, help="Họ tên hiển thị.")
@pass_app
def users_add(app: App, username: str, role: str, display_name: str | None) -> None:
    """Create a user; the password is asked for (or read as one line from stdin), never taken from argv."""
    from review.users import create_user
    from store.models import Role

    password = _read_password()
    with app.sessions()() as session, session.begin():
        user = create_user(session, username, password, Role(role), display_name)
        name, user_role = user.username, user.role.value
    click.echo(f"Đã tạo người dùng {name} ({user_role}).")


def _read_password() -> str:
    """A password asked for twice on a terminal, or one line of stdin; never taken from argv."""
    if sys.stdin.isatty():
        return str(click.prompt("Mật khẩu / password", hide_input=True, confirmation_prompt=True))
    return sys.stdin.readline().rstrip("\r\n")


@users.command("password")
@click.argument("username")
@pass_app
def users_password(app: App, username: str) -> None:
    """Set a new password (asked for, or one line of stdin); every open session of the user ends."""
    from review.users import set_password

    password = _read_password()
    with app.sessions()() as session, session.begin():
        name = set_password(session, username, password).username
    click.echo(f"Đã đổi mật khẩu của {name}; mọi phiên đăng nhập của tài khoản này đã kết thúc.")


@users.command("list")
@pass_app
def users_list(app: App) -> None:
    """Users with their role and whether they are active."""
    from store.review import list_users

    with app.sessions()() as session:
        for user in list_users(session):
            state = "active" if user.active else "inactive"
            click.echo(f"{user.username:24} {user.role.value:10} {state}")


@main.command("serve")
@click.option("--host", default=None, help="Địa chỉ lắng nghe (mặc định NQ71_HOST, 127.0.0.1).")
@click.option("--port", default=None, type=click.IntRange(1, 65535), help="Cổng (mặc định NQ71_PORT, 8071).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Số tiến trình phục vụ / uvicorn worker processes (about one per core).")
@pass_app
def serve(app: App, host: str | None, port: int | None, workers: int) -> None:
    """Serve the reviewers' web app (uvicorn) on the configured database."""
    import uvicorn

    from review.app import create_app
    from review.keys import session_key

    app.sessions()  # upgrade an empty SQLite database (and find a database that is down) before the first request
    session_key(app.settings.secret_key, app.settings.data_dir)  # made once here, before workers race for it
    settings = app.settings.replace(**({"host": host} if host else {}), **({"port": port} if port else {}))
    click.echo(f"Hàng đợi thẩm định: http://{settings.host}:{settings.port}/  ({workers} worker(s); Ctrl+C để dừng)")
    if workers == 1:
        uvicorn.run(create_app(settings, warm=True), host=settings.host, port=settings.port, log_level=settings.log_level.lower())
        return
    # several processes: each builds its own app (engine, pool) from the same NQ71_* environment
    uvicorn.run("review.app:app_from_environment", factory=True, workers=workers, host=settings.host, port=settings.port,
                log_level=settings.log_level.lower())


# --- report, run, demo (report/, scheduler.py) ------------------------------------------------
from report.weeks import PeriodError  # noqa: E402  (light module: no pandas/matplotlib at start-up)

USER_ERRORS += (PeriodError,)
REPORT_FORMATS = ("table", "csv", "xlsx", "png", "docx")


@main.group(cls=Group)
def report() -> None:
    """Coverage reports per outlet (weekly, any period), alerts and scheduled-job runs."""


def _say_if_empty(app: App, session: Session) -> None:
    """A report on a database with no articles says which database it read (a newcomer's usual slip)."""
    from store.models import Article

    if session.scalar(select(Article.id).limit(1)) is None:
        shown = app.engine.url.render_as_string(hide_password=True)
        click.echo(f"Chú ý / note: {shown} chưa có bài nào / has no articles yet; "
                   "dữ liệu demo / the demo's data: nq71 --db demo report ...", err=True)


def _report_done(text: str, path: Any) -> None:
    if text and path is None:
        click.echo(text)
    if path is not None:
        click.echo(f"Đã ghi / written: {path}")


@report.command("weekly")
@click.option("--week", metavar="YYYY-Www", help="ISO week, e.g. 2026-W47 (default: last complete week).")
@click.option("--weeks", type=click.IntRange(1, 260), default=1, show_default=True, help="This many weeks ending with --week.")
@click.option("--format", "fmt", type=click.Choice(REPORT_FORMATS), default="table", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), help="Output file (default: NQ71_REPORTS_DIR/bao-cao-nq71-<week>.<ext>).")
@pass_app
def report_weekly(app: App, week: str | None, weeks: int, fmt: str, out: str | None) -> None:
    """Weekly coverage per outlet (Asia/Ho_Chi_Minh ISO weeks): table, CSV, XLSX, PNG chart or DOCX report."""
    from pathlib import Path

    from report.files import weekly_output

    with app.sessions()() as session:
        _say_if_empty(app, session)
        text, path = weekly_output(session, app.settings, fmt, week, weeks, Path(out) if out else None)
    _report_done(text, path)


@report.command("period")
@click.option("--from", "first", required=True, metavar="DATE", help="First day, 2026-07-01 or 01/07/2026.")
@click.option("--to", "last", required=True, metavar="DATE", help="Last day (included).")
@click.option("--format", "fmt", type=click.Choice(REPORT_FORMATS), default="table", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), help="Output file (default: under NQ71_REPORTS_DIR).")
@pass_app
def report_period(app: App, first: str, last: str, fmt: str, out: str | None) -> None:
    """Coverage over whole days (a quarter, a year): for "sơ kết, tổng kết" reports to Sở GD&ĐT."""
    from pathlib import Path

    from report.files import period_output
    from report.weeks import parse_day

    with app.sessions()() as session:
        _say_if_empty(app, session)
        text, path = period_output(session, app.settings, fmt, parse_day(first), parse_day(last), Path(out) if out else None)
    _report_done(text, path)


@report.command("alerts")
@click.option("--check", is_flag=True, help="Evaluate the last complete week and feed health now (and e-mail when SMTP is set).")
@click.option("--limit", type=click.IntRange(1, 1000), default=30, show_default=True)
@pass_app
def report_alerts(app: App, check: bool, limit: int) -> None:
    """Recent alerts: volume out of range, zero items, feeds failing for more than 24 hours."""
    from report.alerts import check_alerts, recent_alerts, send_pending

    sessions = app.sessions()
    if check:
        with sessions() as session, session.begin():
            new = check_alerts(session, app.settings)
        with sessions() as session, session.begin():
            sent = send_pending(session, app.settings)
        click.echo(f"{len(new)} new alert(s); {sent} e-mailed")
    with sessions() as session:
        for a in recent_alerts(session, limit):
            mark = "" if a.sent_at else " (chưa gửi thư)" if app.settings.smtp_host else ""
            click.echo(f"{a.created_at:%Y-%m-%d %H:%M}  {a.kind:12}  {a.period:10}  {a.message}{mark}")


@report.command("runs")
@click.option("--limit", type=click.IntRange(1, 1000), default=30, show_default=True)
@pass_app
def report_runs(app: App, limit: int) -> None:
    """Recent scheduled-job runs: ok, error, missed, running."""
    from store.reports import recent_job_runs

    with app.sessions()() as session:
        for r in recent_job_runs(session, limit):
            took = f"{(r.finished_at - r.started_at).total_seconds():.1f}s" if r.finished_at else "…"
            first = (r.message or "").strip().splitlines()[:1]
            click.echo(f"{r.started_at:%Y-%m-%d %H:%M:%S}  {r.job_id:20} {r.status.value:8} {took:>8}  {first[0] if first else ''}")


def _serve(settings: Settings, engine: Engine, sessions: sessionmaker[Session], web: bool, banner: Callable[[], None]) -> None:
    """Scheduler plus (unless web is False) the review app in this process, until SIGINT/SIGTERM."""
    import scheduler as sched

    if settings.log_level != "DEBUG":  # one line per job run is enough; JobRun rows hold the details
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    sch = sched.build_scheduler(settings, engine, sessions)
    sched.start(sch, sessions)
    # our SIGINT/SIGTERM handlers only set an event: uvicorn re-raises the signal it caught after its
    # graceful stop, and the default SIGTERM action would kill us before the scheduler shut down
    try:
        with sched.stop_signals() as stop:
            if web:
                import uvicorn

                from review.app import create_app

                server = uvicorn.Server(uvicorn.Config(create_app(settings), host=settings.host, port=settings.port,
                                                      log_level=settings.log_level.lower(), access_log=False))
                banner()
                server.run()
            else:
                banner()
                stop.wait()
    finally:
        click.echo("Đang dừng / stopping: waiting for running jobs to finish...", err=True)
        sched.shutdown(sch)


@main.command("run")
@click.option("--host", help="Listen address (default: NQ71_HOST).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default: NQ71_PORT).")
@click.option("--no-web", is_flag=True, help="Only the scheduler (the web app runs elsewhere).")
@click.option("--list", "list_jobs", is_flag=True, help="Register the jobs, print them with their next run, exit.")
@pass_app
def run_cmd(app: App, host: str | None, port: int | None, no_web: bool, list_jobs: bool) -> None:
    """Production start: migrations, sources sync, then the scheduler and the review app together."""
    from store.sources import parse_sources, sync_sources

    settings = app.settings.replace(**{k: v for k, v in (("host", host), ("port", port)) if v is not None})
    upgrade(app.engine)
    sessions = make_session_factory(app.engine)
    specs = parse_sources(settings.sources)
    with sessions() as session, session.begin():
        result = sync_sources(session, specs)
    click.echo(f"sources: {len(specs)} outlet(s) from {settings.sources}; "
               f"{'changed: ' + str(len(result.changes)) if result.changed else 'unchanged'}", err=True)
    if list_jobs:
        import scheduler as sched

        sch = sched.build_scheduler(settings, app.engine, sessions)
        sch.start(paused=True)
        for job in sched.job_table(sch):
            click.echo(f"{job['id']:20} next {job['next_run_time']:%Y-%m-%d %H:%M %Z}  grace {job['misfire_grace_time']}s  {job['trigger']}")
        sch.shutdown(wait=False)
        return
    url = f"http://{settings.host}:{settings.port}/"
    import workers  # classification runs in its own processes; the scheduled crawls leave it to them

    pool = workers.Pool(settings, workers.default_procs(settings)).start()
    try:
        _serve(settings.replace(crawl_classify=False), app.engine, sessions, not no_web,
               lambda: click.echo(f"nq71 is running: scheduler and {len(pool.procs)} classification worker(s) started; "
                                  + (f"giao diện / UI at {url}" if not no_web else "no web app (--no-web)")))
    finally:
        pool.close()


DEMO_USER = "demo"
DEMO_PASSWORD = "nq71-demo-2026"


@main.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True, help="Listen address for the UI.")
@click.option("--port", type=click.IntRange(0, 65535), help="UI port (default: NQ71_PORT; 0 = any free port).")
@click.option("--no-browser", is_flag=True, help="Do not open a web browser.")
@click.option("--reset", is_flag=True, help="Start from an empty demo database.")
@pass_app
def demo_cmd(app: App, host: str, port: int | None, no_browser: bool, reset: bool) -> None:
    """Offline demo: bundled fixture outlets served on 127.0.0.1, a first crawl and classification, then the UI."""
    import socket
    import webbrowser

    from sqlalchemy import select

    import scheduler as sched
    from crawler.sitesim import render_sources, start_site_server
    from store.models import Role, User
    from store.sources import parse_sources, sync_sources

    base = app.settings
    db_path = demo_database(base)
    demo_dir = db_path.parent
    demo_dir.mkdir(parents=True, exist_ok=True)
    if reset:
        for suffix in ("", "-wal", "-shm"):
            db_path.with_name(db_path.name + suffix).unlink(missing_ok=True)
    if port == 0 or port is None and base.port == 0:
        with socket.socket() as probe:
            probe.bind((host, 0))
            port = int(probe.getsockname()[1])
    site = start_site_server(host="127.0.0.1", port=0)
    try:
        sources_file = demo_dir / "sources.toml"
        sources_file.write_text(render_sources(site.base_url), encoding="utf-8")
        # local fixture sites: politeness off (no delay, no throttling); the demo never touches the internet
        from review.keys import stored_key

        secret = base.secret_key or stored_key(demo_dir)  # the demo's own key, kept so logins survive a restart
        settings = base.replace(
            database_url=f"sqlite:///{db_path}", sources=sources_file, reports_dir=demo_dir / "reports", secret_key=secret,
            download_delay=0.0, autothrottle=False, concurrency_per_host=8, download_timeout=10.0,
            host=host, port=port or base.port, smtp_host="",
        )
        engine = make_engine(settings.database_url)
        upgrade(engine)
        sessions = make_session_factory(engine)
        with sessions() as session, session.begin():
            sync_sources(session, parse_sources(sources_file))
            if session.scalar(select(User.id).where(User.username == DEMO_USER)) is None:
                from review.users import create_user

                create_user(session, DEMO_USER, DEMO_PASSWORD, Role.reviewer, display_name="Người thẩm định (demo)")
        click.echo(f"Nguồn tin mẫu / fixture outlets: {site.base_url} (sources: {sources_file})")
        sched.configure(settings, sessions)
        click.echo("Thu thập lần đầu / first crawl...", err=True)
        try:
            stats = sched.run_now("crawl_all")
            click.echo(str(stats.get("output", "")).strip(), err=True)
        except Exception as exc:  # the UI is still worth showing with whatever was stored
            click.echo(f"first crawl failed: {str(exc).splitlines()[0]}", err=True)
        click.echo("Phân loại / classifying...", err=True)
        try:
            classified = sched.run_now("classify_backlog")
            click.echo(f"classified: {classified.get('classified')}", err=True)
        except Exception as exc:
            click.echo(f"classification failed: {str(exc).splitlines()[0]}", err=True)
        try:
            sched.run_now("alerts")
        except Exception as exc:
            click.echo(f"alerts failed: {str(exc).splitlines()[0]}", err=True)
        url = f"http://{settings.host}:{settings.port}/"

        def banner() -> None:
            click.echo(f"Giao diện / UI: {url}  —  đăng nhập / login: {DEMO_USER} / {DEMO_PASSWORD}")
            click.echo("Báo cáo từ dữ liệu demo / reports on the demo's data: nq71 --db demo report weekly")
            click.echo("Dừng / stop: Ctrl+C")
            if not no_browser:
                webbrowser.open(url)

        _serve(settings, engine, sessions, True, banner)
    finally:
        site.stop()


if __name__ == "__main__":
    main()
