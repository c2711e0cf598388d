"""The PEP 517 backend of xhal: scikit-build-core, plus cuBLAS where the CUDA plugin can build.

The CUDA plugin compiles against cuBLAS's headers. The CUDA toolkit often lacks them (NVIDIA's
pip-installed toolkits ship cuBLAS as its own package), so where nvcc is found this adds NVIDIA's
cuBLAS package for the matching CUDA major to the build requirements. Everything else is
scikit-build-core's, unchanged. XHAL_CUDA=OFF in the environment turns this off.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from scikit_build_core.build import *  # noqa: F403 (re-export the whole backend)
from scikit_build_core.build import get_requires_for_build_editable as _skb_requires_editable
from scikit_build_core.build import get_requires_for_build_wheel as _skb_requires_wheel

# cuBLAS packages per CUDA major: CUDA 13 wheels are unsuffixed, CUDA 12 ones carry "-cu12".
_CUBLAS_PACKAGE = {13: "nvidia-cublas>=13,<14", 12: "nvidia-cublas-cu12>=12,<13"}


def _nvcc() -> str | None:
    for var in ("CUDACXX",):
        if os.environ.get(var) and Path(os.environ[var]).is_file():
            return os.environ[var]
    found = shutil.which("nvcc")
    if found:
        return found
    for root in (os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH"), "/usr/local/cuda"):
        if root and (Path(root) / "bin" / "nvcc").is_file():
            return str(Path(root) / "bin" / "nvcc")
    return None


def cuda_build_requirements() -> list[str]:
    """NVIDIA's cuBLAS package matching the CUDA compiler found here, or nothing."""
    if os.environ.get("XHAL_CUDA", "").upper() == "OFF":
        return []
    nvcc = _nvcc()
    if nvcc is None:
        return []
    try:
        out = subprocess.run([nvcc, "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return []
    match = re.search(r"release (\d+)\.", out.stdout)
    package = _CUBLAS_PACKAGE.get(int(match.group(1))) if match else None
    return [package] if package else []


def get_requires_for_build_wheel(config_settings=None):  # noqa: ANN001,ANN201 (PEP 517 hook)
    return [*_skb_requires_wheel(config_settings), *cuda_build_requirements()]


def get_requires_for_build_editable(config_settings=None):  # noqa: ANN001,ANN201
    return [*_skb_requires_editable(config_settings), *cuda_build_requirements()]
