"""`nq71 demo` in a subprocess, offline, on a temporary SQLite file and a free port: the UI answers with a filled queue.

How fast it gets there is measured by tests/bench/bench_demo.py, not asserted here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import distinct, func, select

from demo_run import DemoRun, logged_in, start_demo
from report.weekly import weekly_coverage
from report.weeks import current_week, previous_week
from settings import Settings
from store.db import make_engine, make_session_factory
from store.models import Article, Claim, ClaimMatch, ReviewItem, Verdict


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    run = start_demo(tmp_path_factory.mktemp("demo") / "var")
    try:
        yield run
    finally:
        if run.proc.poll() is None:
            run.proc.kill()


def test_demo_serves_a_filled_queue_dashboard_and_weekly_report(demo: DemoRun) -> None:
    assert demo.url.startswith("http://127.0.0.1:")
    with logged_in(demo) as client:
        queue = client.get("/api/queue").json()
        assert queue["total"] > 0, queue
        dashboard = client.get("/dashboard")
        assert dashboard.status_code == 200 and "Hải Phòng" in dashboard.text
    engine = make_engine(f"sqlite:///{demo.database}")
    settings = Settings(database_url=f"sqlite:///{demo.database}")
    with make_session_factory(engine)() as session:
        weeks = [weekly_coverage(session, p.label, settings) for p in (previous_week(settings.timezone), current_week(settings.timezone))]
    engine.dispose()
    assert sum(w.totals["items"] for w in weeks) > 0
    assert sum(w.totals["education"] for w in weeks) > 0  # classified, not only crawled


def test_demo_prints_the_summary_table_and_the_login_line_only(demo: DemoRun) -> None:
    out = demo.output
    for noise in ("Scrapy stats", "scheduler/dequeued", "'start_time'", "Warning", "WARNING", "INFO", "classified: 0",
                  "Traceback", "failed", "skipped"):
        assert noise not in out, (noise, out)
    lines = demo.stdout.strip().splitlines()
    assert lines[0].split() == ["outlet", "articles", "classified", "queued"], lines
    assert lines[-1].startswith("Giao diện / UI: http://127.0.0.1:") and "login: demo / " in lines[-1]
    total = next(line.split() for line in lines if line.startswith("total "))
    assert int(total[1]) == int(total[2]) > 0 and int(total[3]) >= 10  # everything stored was classified


def _queue(demo: DemoRun) -> list[tuple[int, int, str, int | None]]:
    """(item id, outlet id, status, story cluster) of every queued item in the demo's database."""
    engine = make_engine(f"sqlite:///{demo.database}")
    with make_session_factory(engine)() as session:
        rows = session.execute(select(ReviewItem.id, Article.outlet_id, ReviewItem.status, Article.cluster_id)
                               .join(Article, Article.id == ReviewItem.article_id)).all()
    engine.dispose()
    return [(i, o, s.value, c) for i, o, s, c in rows]


def test_demo_queue_is_worth_triaging(demo: DemoRun) -> None:
    queue = _queue(demo)
    assert len(queue) >= 10 and len({outlet for _, outlet, _, _ in queue}) >= 3, queue
    assert {status for _, _, status, _ in queue} == {"new", "in_progress", "escalated", "resolved"}
    engine = make_engine(f"sqlite:///{demo.database}")
    with make_session_factory(engine)() as session:
        story_outlets = dict(session.execute(select(Article.cluster_id, func.count(distinct(Article.outlet_id)))
                                             .where(Article.cluster_id.is_not(None)).group_by(Article.cluster_id)).all())
    engine.dispose()
    shared = [item for item, _, _, cluster in queue if story_outlets.get(cluster, 0) >= 2]
    assert shared, "no queued item whose story other outlets carry"
    with logged_in(demo) as client:
        page = client.get(f"/items/{shared[0]}").text
    story = page.split("Nguồn khác đưa cùng tin", 1)[1].split("</section>", 1)[0]
    assert '<ul class="story">' in story and story.count("<li>") >= 1, story


def test_demo_debunk_refutes_a_registered_false_claim(demo: DemoRun) -> None:
    engine = make_engine(f"sqlite:///{demo.database}")
    with make_session_factory(engine)() as session:
        claims = session.scalars(select(Claim).where(Claim.verdict.in_([Verdict.tin_gia, Verdict.tin_sai_su_that]))).all()
        assert claims, "the demo registered no false claim"
        linked = []
        for claim in claims:
            debunk = session.scalar(select(Article).where(Article.url == claim.refutation_url))
            matched = session.scalar(select(ClaimMatch.id).where(ClaimMatch.claim_id == claim.id,
                                                                 ClaimMatch.article_id == (debunk.id if debunk else -1)))
            stances = [m.get("stance") for m in (debunk.classification.claim_matches if debunk and debunk.classification else [])
                       if m.get("claim_id") == claim.id]
            linked += [claim.id] if matched and stances == ["refutes"] else []
    engine.dispose()
    assert linked, [(c.text, c.refutation_url) for c in claims]


def test_demo_stops_cleanly_on_sigterm(demo: DemoRun) -> None:
    assert demo.stop() == 0
