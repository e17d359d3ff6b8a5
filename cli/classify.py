"""Commands of the classify room: classify, train, eval, eval-real and the claim registry."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import click

from classify.errors import DataMissingError
from cli.base import App, pass_app
from cli.errors import Group


def _jobs() -> Any:
    """The top-level jobs module (classify/store glue), imported late: it loads scikit-learn and underthesea."""
    import jobs

    return jobs


@click.command("classify")
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


@click.command("train")
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


@click.command("eval")
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


@click.command("eval-real")
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


@click.group(cls=Group)
def claims() -> None:
    """The registry of confirmed false or distorted claims."""


@claims.command("add")
@click.option("--text", required=True, help="The false statement, in one sentence.")
@click.option("--verdict", default="tin_gia", show_default=True,
              help="tin_gia or tin_sai_su_that: the registry holds only claims judged false.")
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
