"""A plain install works: the wheel, installed (not editable) into a clean venv, classifies and runs the demo from an empty folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_wheel_classifies_and_runs_the_demo_from_an_empty_folder() -> None:
    # the same check CI runs before the suite (.ci/wheel-check); the venv's python builds and makes the clean venv
    env = {**os.environ, "PY": sys.executable}
    result = subprocess.run([str(ROOT / ".ci" / "wheel-check")], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "synced the shipped sources: outlets: +" in result.stdout
    assert "classified one item from an empty folder" in result.stdout
    assert "its UI serves a queue of" in result.stdout and "wheel-check: passed" in result.stdout
