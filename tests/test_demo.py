"""`nq71 demo` in a subprocess, offline, on a temporary SQLite file and a free port: the UI answers with a filled queue.

How fast it gets there is measured by tests/bench/bench_demo.py, not asserted here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from demo_run import DemoRun, logged_in, start_demo
from report.weekly import weekly_coverage
from report.weeks import current_week, previous_week
from settings import Settings
from store.db import make_engine, make_session_factory


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


def test_demo_stops_cleanly_on_sigterm(demo: DemoRun) -> None:
    assert demo.stop() == 0
