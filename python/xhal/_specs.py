"""The operator catalog: the generated dump of op_specs/ (``_specs.json``), loaded once."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

_PACKAGE_DIR = Path(__file__).parent


@functools.cache
def specs() -> dict[str, Any]:
    """``{"dtypes": {...}, "ops": {name: spec}}`` as written in op_specs/ (JSON-compatible)."""
    return json.loads((_PACKAGE_DIR / "_specs.json").read_text(encoding="utf-8"))


def op_spec(op: str) -> dict[str, Any]:
    try:
        return specs()["ops"][op]
    except KeyError:
        raise ValueError(f"unknown op {op!r}") from None


def spec_dir() -> Path:
    """The installed copy of op_specs/."""
    return _PACKAGE_DIR / "op_specs"


def cmake_dir() -> Path:
    """The directory holding xhalConfig.cmake (pass it as -Dxhal_DIR=...)."""
    return _PACKAGE_DIR / "lib" / "cmake" / "xhal"
