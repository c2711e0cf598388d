"""The build backend asks for NVIDIA's cuBLAS package exactly where the CUDA plugin will build."""

from __future__ import annotations

import importlib.util
import stat
from pathlib import Path

import pytest

BACKEND = Path(__file__).resolve().parents[1] / "tools" / "build_backend" / "xhal_build_backend.py"


@pytest.fixture()
def backend(monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    pytest.importorskip("scikit_build_core")
    spec = importlib.util.spec_from_file_location("xhal_build_backend_under_test", BACKEND)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    for var in ("CUDACXX", "CUDA_HOME", "CUDA_PATH", "XHAL_CUDA"):
        monkeypatch.delenv(var, raising=False)
    return module


def _fake_nvcc(tmp_path: Path, release: str) -> Path:
    nvcc = tmp_path / "nvcc"
    nvcc.write_text(f"#!/bin/sh\necho 'Cuda compilation tools, release {release}, V{release}.1'\n")
    nvcc.chmod(nvcc.stat().st_mode | stat.S_IEXEC)
    return nvcc


@pytest.mark.parametrize(("release", "package"), [("13.0", "nvidia-cublas>=13,<14"),
                                                  ("12.8", "nvidia-cublas-cu12>=12,<13")])
def test_cuda_major_picks_the_cublas_package(backend, tmp_path: Path,  # noqa: ANN001
                                             monkeypatch: pytest.MonkeyPatch, release: str,
                                             package: str) -> None:
    monkeypatch.setenv("CUDACXX", str(_fake_nvcc(tmp_path, release)))
    assert backend.cuda_build_requirements() == [package]


def test_unknown_cuda_major_asks_for_nothing(backend, tmp_path: Path,  # noqa: ANN001
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDACXX", str(_fake_nvcc(tmp_path, "11.8")))
    assert backend.cuda_build_requirements() == []


def test_xhal_cuda_off_asks_for_nothing(backend, tmp_path: Path,  # noqa: ANN001
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDACXX", str(_fake_nvcc(tmp_path, "13.0")))
    monkeypatch.setenv("XHAL_CUDA", "OFF")
    assert backend.cuda_build_requirements() == []


def test_no_nvcc_asks_for_nothing(backend, tmp_path: Path,  # noqa: ANN001
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no nvcc here
    monkeypatch.setattr(backend, "_nvcc", lambda: None)
    assert backend.cuda_build_requirements() == []


def test_wheel_requirements_keep_scikit_build_cores(backend, tmp_path: Path,  # noqa: ANN001
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDACXX", str(_fake_nvcc(tmp_path, "13.0")))
    monkeypatch.chdir(BACKEND.parents[2])  # scikit-build-core reads ./pyproject.toml
    reqs = backend.get_requires_for_build_wheel({})
    assert "nvidia-cublas>=13,<14" in reqs
