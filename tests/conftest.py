"""Fixtures shared by the test modules."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable

import pytest


@pytest.fixture
def run_as_script() -> Callable[..., None]:
    """Runs a test module's `__main__` block in a fresh process with extra environment variables
    and asserts that it succeeds: for settings the CPU plugin reads once per process
    (XHAL_CPU_ISA, XHAL_CPU_THREADS)."""

    def run(path: str, **env: str) -> None:
        proc = subprocess.run(
            [sys.executable, path],
            env=dict(os.environ, **env),
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        where = " ".join(f"{name}={value}" for name, value in env.items())
        assert proc.returncode == 0, f"{where}:\n{proc.stdout}\n{proc.stderr}"

    return run
