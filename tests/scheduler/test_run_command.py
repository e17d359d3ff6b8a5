"""`nq71 run`: migrations, sources sync, scheduler (and the web app) in one process; clean stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import text

from store.db import make_engine

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(args: list[str], tmp_path: Path) -> tuple[subprocess.Popen[str], str]:
    db = f"sqlite:///{tmp_path / 'run.db'}"
    env = {**os.environ, "NQ71_DATABASE_URL": db, "NQ71_DATA_DIR": str(tmp_path / "var"),
           "NQ71_REPORTS_DIR": str(tmp_path / "var" / "reports"), "NQ71_LOG_LEVEL": "WARNING",
           "NQ71_SECRET_KEY": "run-command-test-secret-0123456789"}
    proc = subprocess.Popen([sys.executable, "-m", "cli", "run", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, db


def read_until(proc: subprocess.Popen[str], needle: str, seconds: float = 60) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + seconds
    seen = ""
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        seen += line
        if needle in line:
            return seen
    proc.kill()
    raise AssertionError(f"{needle!r} not printed; got {seen!r}; stderr {proc.stderr.read() if proc.stderr else ''}")


def test_run_scheduler_only_syncs_sources_and_stops_on_sigint(tmp_path: Path) -> None:
    proc, db = start(["--no-web"], tmp_path)
    try:
        read_until(proc, "nq71 is running")
        engine = make_engine(db)
        with engine.connect() as conn:
            jobs = {r[0] for r in conn.execute(text("SELECT id FROM apscheduler_jobs"))}
            outlets = conn.execute(text("SELECT count(*) FROM outlet")).scalar()
        assert "weekly_report" in jobs and len(jobs) == 7
        assert outlets and outlets > 5  # config/sources.toml synced
        # an article stored by a crawl elsewhere: the classification workers `nq71 run` started take it
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO article (url, outlet_id, title, summary, text, collected_at, updated_at, revision, "
                              "date_source, origin, extraction, page_attempts) SELECT 'https://vi.du/tin-1', min(id), "
                              "'Hải Phòng tuyển thêm giáo viên tiểu học cho năm học mới', 'Sở Giáo dục và Đào tạo thông báo "
                              "chỉ tiêu tuyển dụng.', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1, 'none', 'feed', 'ok', 0 "
                              "FROM outlet"))
        for _ in range(600):  # failsafe: at most 5 minutes while the worker loads the model on a busy machine
            with engine.connect() as conn:
                if conn.execute(text("SELECT count(*) FROM classification")).scalar():
                    break
            time.sleep(0.5)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM classification")).scalar() == 1
            assert conn.execute(text("SELECT classify_due FROM article")).scalar() == 0
        engine.dispose()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
        assert "stopping" in (proc.stderr.read() if proc.stderr else "")
    finally:
        if proc.poll() is None:
            proc.kill()


def test_run_serves_the_review_app_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    proc, _ = start(["--port", str(port)], tmp_path)
    try:
        out = read_until(proc, "giao diện / UI at")
        assert f"http://127.0.0.1:{port}/" in out
        deadline = time.monotonic() + 30
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/login", timeout=5)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        assert r.status_code == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0  # not killed by the signal: the scheduler was shut down first
        assert "stopping" in (proc.stderr.read() if proc.stderr else "")
    finally:
        if proc.poll() is None:
            proc.kill()


def test_run_list_prints_jobs_with_next_run(tmp_path: Path) -> None:
    proc, _ = start(["--list"], tmp_path)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "weekly_report" in out and "+07" in out and "crawl_feeds" in out
