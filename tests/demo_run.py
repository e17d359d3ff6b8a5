"""`nq71 demo` as a user starts it, in a subprocess on a temporary data folder and a free port (test and benchmark)."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

ROOT = Path(__file__).resolve().parents[1]
LOGIN_RE = re.compile(r"(http://\S+/)\S*.*login: (\S+) / (\S+)")
CSRF_RE = re.compile(r'name="csrf" value="([^"]+)"')
HANG_GUARD_S = 900.0  # not a speed claim (bench_demo.py measures that): only so a hung demo fails instead of blocking CI


@dataclass
class DemoRun:
    """A running demo: its process, the UI address and login from the banner, and what it printed."""

    proc: subprocess.Popen[str]
    data_dir: Path
    stdout: str
    stderr_file: Path
    url: str
    user: str
    password: str
    seconds_to_login_line: float

    @property
    def database(self) -> Path:
        """The demo's SQLite file."""
        return self.data_dir / "demo" / "nq71-demo.db"

    @property
    def output(self) -> str:
        """Everything the demo printed so far, stdout then stderr."""
        return self.stdout + self.stderr_file.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> int:
        """SIGTERM, as Ctrl+C or a service manager stops it; the exit code."""
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=120)


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pump(stream: IO[str], lines: queue.Queue[str]) -> None:
    """Hand the demo's stdout over line by line; "" at the end."""
    for line in stream:
        lines.put(line)
    lines.put("")


def start_demo(data_dir: Path) -> DemoRun:
    """Start `nq71 demo` (the installed console script, from the repository root as `make demo` runs it); return at its login line."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NQ71_")}
    env["NQ71_DATA_DIR"] = str(data_dir)
    script = Path(sys.executable).with_name("nq71")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "cli"]
    stderr_file = data_dir.parent / "demo-stderr.txt"
    started = time.monotonic()
    with stderr_file.open("w", encoding="utf-8") as err:
        proc = subprocess.Popen([*command, "demo", "--port", str(free_port()), "--no-browser"], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=err, text=True)
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True).start()
    stdout = ""
    while (m := LOGIN_RE.search(stdout)) is None:
        try:
            line = lines.get(timeout=max(0.1, HANG_GUARD_S - (time.monotonic() - started)))
        except queue.Empty:
            proc.kill()
            raise AssertionError(f"no login line after {HANG_GUARD_S:.0f} s:\n{stdout}") from None
        if not line:  # end of output: the demo exited
            proc.wait(timeout=30)
            raise AssertionError(f"demo exited {proc.returncode}:\n{stdout}\n{stderr_file.read_text(encoding='utf-8')}")
        stdout += line
    return DemoRun(proc, data_dir, stdout, stderr_file, m[1], m[2], m[3], time.monotonic() - started)


@contextmanager
def logged_in(run: DemoRun) -> Iterator[httpx.Client]:
    """A client logged in to the demo's UI with the login it printed (waits for the server to listen)."""
    with httpx.Client(base_url=run.url, timeout=30) as client:
        yield _log_in(client, run)


def _log_in(client: httpx.Client, run: DemoRun) -> httpx.Client:
    for _ in range(200):
        try:
            page = client.get("/login")
            break
        except httpx.TransportError:
            time.sleep(0.3)
    token = CSRF_RE.search(page.text)
    assert token, page.text[:500]
    r = client.post("/login", data={"username": run.user, "password": run.password, "csrf": token[1], "next": "/queue"})
    assert r.status_code == 303, r.text[:500]
    return client
