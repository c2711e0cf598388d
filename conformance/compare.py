"""Compare a device's output with the reference under a spec's per-dtype tolerance.

Rules: shape and dtype must match exactly; integers and bools must be equal; for floats, NaN
must be where the reference has NaN and nowhere else, an infinity must be matched exactly
(sign included), and finite values must satisfy ``|got - expected| <= atol + rtol * |expected|``
(evaluated in float64). The sign of zero is not compared (the specs allow either).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .values import is_float


@dataclass(frozen=True)
class Comparison:
    """Outcome of one output comparison; ``message`` explains a failure in one line."""

    ok: bool
    message: str = ""
    max_abs_err: float | None = None  # over elements finite in both
    max_rel_err: float | None = None  # over those with a nonzero expected value
    mismatches: int = 0
    total: int = 0
    first_mismatch: tuple[int, ...] | None = None


def _shape(shape: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


def _item(value: np.generic) -> str:
    """A scalar as plain text (``1.5``, not ``np.float16(1.5)``)."""
    return repr(value.item()) if value.dtype.kind in "biuf" else str(value)


def _max(values: np.ndarray) -> float | None:
    return float(values.max()) if values.size else None


def compare(
    got: np.ndarray, expected: np.ndarray, *, rtol: float = 0.0, atol: float = 0.0
) -> Comparison:
    """Compare ``got`` with ``expected``; see the module docstring for the rules."""
    got = np.asarray(got)
    expected = np.asarray(expected)
    if got.shape != expected.shape:
        return Comparison(
            False,
            f"shape {_shape(got.shape)} != expected {_shape(expected.shape)}",
            total=expected.size,
        )
    if got.dtype != expected.dtype:
        return Comparison(
            False, f"dtype {got.dtype} != expected {expected.dtype}", total=expected.size
        )
    if expected.size == 0:
        return Comparison(True, total=0)
    if is_float(expected.dtype):
        g = got.astype(np.float64)
        e = expected.astype(np.float64)
        nan_g, nan_e = np.isnan(g), np.isnan(e)
        finite = np.isfinite(g) & np.isfinite(e)
        with np.errstate(all="ignore"):
            abs_err = np.where(finite, np.abs(g - e), 0.0)
            bad = nan_g != nan_e
            bad |= ~nan_g & ~nan_e & ~finite & (g != e)  # an infinity on either side
            bad |= finite & (abs_err > atol + rtol * np.abs(e))
            rel_mask = finite & (e != 0)
            rel_err = abs_err[rel_mask] / np.abs(e[rel_mask])
        max_abs, max_rel = _max(abs_err[finite]), _max(rel_err)
        tol = f" (rtol {rtol:g}, atol {atol:g})"
    else:
        bad = got != expected
        diff = np.abs(got[bad].astype(np.float64) - expected[bad].astype(np.float64))
        max_abs = _max(diff) if bad.any() else 0.0
        nz = expected[bad] != 0
        max_rel = (
            _max(diff[nz] / np.abs(expected[bad][nz].astype(np.float64))) if bad.any() else 0.0
        )
        tol = " (exact)"
    count = int(np.count_nonzero(bad))
    if count == 0:
        return Comparison(True, "", max_abs, max_rel, 0, expected.size, None)
    first = tuple(int(i) for i in np.unravel_index(int(np.flatnonzero(bad)[0]), expected.shape))
    message = (
        f"{count} of {expected.size} elements differ{tol}; first at {list(first)}: "
        f"got {_item(got[first])}, expected {_item(expected[first])}"
    )
    if max_abs is not None:
        message += f"; max abs err {max_abs:.3g}"
    if max_rel is not None:
        message += f", max rel err {max_rel:.3g}"
    return Comparison(False, message, max_abs, max_rel, count, expected.size, first)


def tolerance(spec: Mapping, dtype: str) -> tuple[float, float]:
    """(rtol, atol) of ``spec`` for ``dtype``; exact when the spec has no entry."""
    t = spec.get("tolerance", {}).get(dtype)
    return (float(t["rtol"]), float(t["atol"])) if t else (0.0, 0.0)
