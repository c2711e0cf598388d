"""Fixtures shared by the test modules."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable

import pytest


@pytest.fixture
def run_as_script() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Runs a test module's `__main__` block in a fresh process, with command-line arguments and
    extra environment variables, asserts that it succeeds and returns the finished process: for
    settings the CPU plugin reads once per process (XHAL_CPU_ISA, XHAL_CPU_THREADS,
    XHAL_CPU_STREAM_MIN_BYTES)."""

    def run(path: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [sys.executable, path, *args],
            env=dict(os.environ, **env),
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        where = " ".join([*args, *(f"{name}={value}" for name, value in env.items())])
        assert proc.returncode == 0, f"{where}:\n{proc.stdout}\n{proc.stderr}"
        return proc

    return run
