"""The CUDA plugin where there is a CUDA compiler: it is built, it loads, and on a machine without
a GPU (CI) it reports zero devices with the reason instead of failing anything.

Kernels are checked by the conformance suite on a GPU (conformance/gpu_check.sh); here only what
holds on every machine with nvcc."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures"))
import xhal_testutil as tu  # noqa: E402

import xhal  # noqa: E402


def _nvcc() -> str | None:
    return shutil.which("nvcc") or next(
        (str(p) for p in [Path("/usr/local/cuda/bin/nvcc")] if p.is_file()), None)


def _has_gpu() -> bool:
    return any(Path("/dev").glob("nvidia[0-9]*"))


pytestmark = pytest.mark.skipif(_nvcc() is None, reason="no nvcc: the CUDA plugin is not built")


def _cuda_plugin() -> dict:
    found = [p for p in xhal.plugins() if p["device_type"] == "xhal.cuda"]
    assert found, ("nvcc is present but xhal.cuda did not load; skipped plugins: "
                   f"{xhal.skipped_plugins()}")
    return found[0]


def test_plugin_is_built_and_installed() -> None:
    assert (tu.plugins_dir() / "libxhal_cuda.so").is_file()


def test_plugin_loads() -> None:
    info = _cuda_plugin()
    assert info["path"].endswith("libxhal_cuda.so")


@pytest.mark.skipif(_has_gpu(), reason="this machine has a GPU")
def test_without_a_gpu_zero_devices_and_the_reason() -> None:
    info = _cuda_plugin()
    assert info["device_count"] == 0
    reason = info["no_device_reason"]
    assert "CUDA" in reason or "cuBLAS" in reason, reason
    assert not any(d.device_type == "xhal.cuda" for d in xhal.devices())


@pytest.mark.skipif(_has_gpu(), reason="this machine has a GPU")
def test_devices_verbose_names_the_reason() -> None:
    out = tu.run([sys.executable, "-m", "xhal", "devices", "-v"]).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("xhal.cuda"))
    assert "no device" in line, out


@pytest.mark.skipif(_has_gpu(), reason="this machine has a GPU")
def test_conformance_reports_cuda_as_no_device_not_failed() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "xhal", "conformance", "--filter", "relu", "--json", os.devnull],
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "xhal.cuda" in proc.stdout and "no device" in proc.stdout, proc.stdout[-3000:]
    assert proc.stdout.strip().splitlines()[-1].endswith(" failed")
    assert " 0 failed" in proc.stdout.strip().splitlines()[-1]


def test_cublas_missing_is_a_reason_not_a_crash(tmp_path: Path) -> None:
    """With cuBLAS pointed at nothing the plugin still loads (cuBLAS is opened at run time)."""
    code = ("import xhal, json; print(json.dumps([p for p in xhal.plugins() "
            "if p['device_type'] == 'xhal.cuda']))")
    env = dict(os.environ, XHAL_CUBLAS_LIBRARY=str(tmp_path / "libcublas.so.missing"))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "xhal.cuda" in proc.stdout
