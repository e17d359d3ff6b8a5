"""`nq71 demo` in a subprocess, offline, on a temporary SQLite file and a free port: the UI answers with a filled queue."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from report.weekly import weekly_coverage
from report.weeks import current_week, previous_week
from settings import Settings
from store.db import make_engine, make_session_factory

ROOT = Path(__file__).resolve().parents[1]
CSRF_RE = re.compile(r'name="csrf" value="([^"]+)"')


def test_demo_serves_a_filled_queue_dashboard_and_weekly_report(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    env = {k: v for k, v in os.environ.items() if not k.startswith("NQ71_")}
    env.update({"NQ71_DATA_DIR": str(tmp_path / "var"), "NQ71_LOG_LEVEL": "WARNING"})
    started = time.monotonic()
    # the installed console script from the repository root, as `make demo` runs it (sys.path then
    # holds the installed modules, not the working directory)
    script = Path(sys.executable).with_name("nq71")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "cli"]
    proc = subprocess.Popen([*command, "demo", "--port", str(port), "--no-browser"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        banner = ""
        while "Giao diện / UI" not in banner:
            line = proc.stdout.readline()
            assert line or proc.poll() is None, f"demo exited: {proc.stderr.read() if proc.stderr else ''}"
            banner += line
            assert time.monotonic() - started < 120, banner
        m = re.search(r"login: (\S+) / (\S+)", banner)
        assert m and f"http://127.0.0.1:{port}/" in banner
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as c:
            for _ in range(100):
                try:
                    page = c.get("/login")
                    break
                except httpx.TransportError:
                    time.sleep(0.3)
            r = c.post("/login", data={"username": m[1], "password": m[2], "csrf": CSRF_RE.search(page.text)[1], "next": "/queue"})  # type: ignore[index]
            assert r.status_code == 303
            queue = c.get("/api/queue").json()
            assert queue["total"] > 0, queue
            dashboard = c.get("/dashboard")
            assert dashboard.status_code == 200 and "Hải Phòng" in dashboard.text
        assert time.monotonic() - started < 120  # "within a minute" on a free machine; 2 shared cores here
        db = tmp_path / "var" / "demo" / "nq71-demo.db"
        engine = make_engine(f"sqlite:///{db}")
        settings = Settings(database_url=f"sqlite:///{db}")
        with make_session_factory(engine)() as session:
            weeks = [weekly_coverage(session, p.label, settings) for p in (previous_week(settings.timezone), current_week(settings.timezone))]
        engine.dispose()
        assert sum(w.totals["items"] for w in weeks) > 0
        assert sum(w.totals["education"] for w in weeks) > 0  # classified, not only crawled
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=90) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
