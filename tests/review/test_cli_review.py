"""`nq71 users add` and `nq71 serve` as a user runs them (real subprocesses, real SQLite file)."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NQ71_")}
    env.update({"NQ71_DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'nq71.db'}", "NQ71_DATA_DIR": str(tmp_path / "var")})
    return env


def run(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cli", *args], cwd=ROOT, env=_env(tmp_path), input=stdin, capture_output=True, text=True, timeout=120)


def test_users_add_reads_the_password_from_stdin(tmp_path: Path) -> None:
    ok = run(tmp_path, "users", "add", "giamsat.hoa", "--role", "supervisor", stdin="mật-khẩu-đủ-dài-2026\n")
    assert ok.returncode == 0, ok.stderr
    assert "Đã tạo người dùng giamsat.hoa (supervisor)" in ok.stdout
    assert "giamsat.hoa" in run(tmp_path, "users", "list").stdout
    dup = run(tmp_path, "users", "add", "giamsat.hoa", "--role", "reviewer", stdin="mật-khẩu-đủ-dài-2026\n")
    assert dup.returncode == 2 and "đã có người dùng" in dup.stderr and "Traceback" not in dup.stderr
    short = run(tmp_path, "users", "add", "thamdinh.lan", "--role", "reviewer", stdin="ngan\n")
    assert short.returncode == 2 and "ít nhất 10 ký tự" in short.stderr
    bad_role = run(tmp_path, "users", "add", "x.y.z", "--role", "boss", stdin="mật-khẩu-đủ-dài-2026\n")
    assert bad_role.returncode == 2


def test_users_password_sets_a_new_one_and_refuses_a_short_one(tmp_path: Path) -> None:
    assert run(tmp_path, "users", "add", "thamdinh.lan", "--role", "reviewer", stdin="mật-khẩu-đủ-dài-2026\n").returncode == 0
    ok = run(tmp_path, "users", "password", "thamdinh.lan", stdin="mật-khẩu-mới-tháng-12\n")
    assert ok.returncode == 0 and "mọi phiên đăng nhập" in ok.stdout, ok.stderr
    short = run(tmp_path, "users", "password", "thamdinh.lan", stdin="ngan\n")
    unknown = run(tmp_path, "users", "password", "khong.co.ai", stdin="mật-khẩu-mới-tháng-12\n")
    assert short.returncode == unknown.returncode == 2 and "Traceback" not in short.stderr + unknown.stderr


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_answers_on_the_given_port(tmp_path: Path, workers: int) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                             "--workers", str(workers)], cwd=ROOT,
                            env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as r:
                    body = r.read().decode()
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.3)
        assert "Đăng nhập" in body
        key = tmp_path / "var" / "secret.key"  # no NQ71_SECRET_KEY: a random key, readable by the owner only
        assert stat.S_IMODE(key.stat().st_mode) == 0o600 and len(key.read_text().strip()) >= 32
    finally:
        proc.terminate()
        proc.wait(timeout=20)
