"""Every CPU convolution path passes conformance: the blocked AVX-512 kernel (conv_gemm.cpp, the
default on AVX-512 machines) and im2col + OpenBLAS (what XHAL_CPU_ISA=avx2 or baseline selects,
and what other machines run)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize("isa", ["avx512", "avx2", "baseline"])
def test_conv_conformance_on_each_path(isa: str, tmp_path: Path) -> None:
    report = tmp_path / "conv.json"
    env = dict(os.environ, XHAL_CPU_ISA=isa, XHAL_CPU_THREADS="2")
    proc = subprocess.run(
        [sys.executable, "-m", "xhal", "conformance", "--device", "cpu:0", "--no-runtime",
         "--filter", "conv*", "--json", str(report)],
        capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    data = json.loads(report.read_text())
    ops = {c["op"] for c in data["cases"] if c["outcome"] == "pass"}
    assert {"conv", "conv_transpose"} <= ops
    assert data["summary"]["failed"] == 0
