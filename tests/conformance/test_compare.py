"""compare(): tolerance edges, NaN / Inf placement, exact integers, shape and dtype checks."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

from xhal.conformance.compare import compare, tolerance


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, ml_dtypes.bfloat16])
def test_one_ulp_beyond_tolerance_is_rejected(dtype: type) -> None:
    rtol = 1e-2 if dtype in (np.float16, ml_dtypes.bfloat16) else 1e-6
    expected = np.array([1.0, 2.0], dtype=dtype)
    limit = 1.0 + rtol  # |got - 1| <= rtol * 1
    # Largest representable value within tolerance, and the next one up.
    inside = np.array(limit).astype(dtype)
    if float(inside) > limit:
        inside = _prev(inside)
    outside = _next(inside)
    assert float(inside) <= limit < float(outside)
    ok = compare(np.array([inside, 2.0], dtype=dtype), expected, rtol=rtol, atol=0.0)
    assert ok.ok, ok.message
    bad = compare(np.array([outside, 2.0], dtype=dtype), expected, rtol=rtol, atol=0.0)
    assert not bad.ok
    assert bad.mismatches == 1 and bad.first_mismatch == (0,)
    assert bad.max_abs_err == pytest.approx(float(outside) - 1.0)
    assert "1 of 2 elements differ" in bad.message


def _next(x: np.ndarray) -> np.ndarray:
    """The next representable value above x (works for ml_dtypes too)."""
    bits = x.reshape(1).view(_uint(x.dtype))
    return (bits + 1).view(x.dtype).reshape(())


def _prev(x: np.ndarray) -> np.ndarray:
    bits = x.reshape(1).view(_uint(x.dtype))
    return (bits - 1).view(x.dtype).reshape(())


def _uint(dtype: np.dtype) -> type:
    return {2: np.uint16, 4: np.uint32, 8: np.uint64}[np.dtype(dtype).itemsize]


def test_atol_applies_near_zero() -> None:
    expected = np.array([0.0, 1e-8], dtype=np.float32)
    assert compare(np.array([5e-8, 0.0], dtype=np.float32), expected, rtol=0.0, atol=1e-7).ok
    assert not compare(np.array([2e-7, 0.0], dtype=np.float32), expected, rtol=0.0, atol=1e-7).ok


def test_nan_must_match_nan_positions() -> None:
    expected = np.array([1.0, np.nan, 3.0], dtype=np.float32)
    assert compare(expected.copy(), expected, rtol=1e-6).ok
    missing = compare(np.array([1.0, 2.0, 3.0], dtype=np.float32), expected, rtol=1e-6)
    assert not missing.ok and missing.first_mismatch == (1,)
    extra = compare(np.array([np.nan, np.nan, 3.0], dtype=np.float32), expected, rtol=1e-6)
    assert not extra.ok and extra.first_mismatch == (0,) and extra.mismatches == 1
    # NaN is never "close" to anything, whatever the tolerance.
    assert not compare(np.array([np.nan]), np.array([1.0]), rtol=1e9, atol=1e9).ok


def test_infinities_must_match_exactly() -> None:
    expected = np.array([np.inf, -np.inf, 1.0], dtype=np.float64)
    assert compare(expected.copy(), expected, rtol=1e-3).ok
    assert not compare(np.array([-np.inf, -np.inf, 1.0]), expected, rtol=1e-3).ok  # sign
    assert not compare(np.array([1e308, -np.inf, 1.0]), expected, rtol=1.0, atol=1e308).ok
    assert not compare(np.array([np.inf, -np.inf, np.inf]), expected, rtol=1.0, atol=1e308).ok


def test_signed_zero_is_not_compared() -> None:
    assert compare(np.array([-0.0, 0.0]), np.array([0.0, -0.0])).ok


def test_integers_are_exact() -> None:
    expected = np.array([[1, 2], [3, np.iinfo(np.int64).min]], dtype=np.int64)
    assert compare(expected.copy(), expected, rtol=0.5, atol=10).ok
    got = expected.copy()
    got[1, 0] = 4
    res = compare(got, expected)
    assert not res.ok and res.first_mismatch == (1, 0) and res.max_abs_err == 1.0
    assert "got 4, expected 3" in res.message
    assert not compare(np.array([True, False]), np.array([True, True])).ok


def test_shape_and_dtype_must_match() -> None:
    a = np.zeros((2, 3), dtype=np.float32)
    res = compare(np.zeros((3, 2), dtype=np.float32), a)
    assert not res.ok and "shape [3, 2] != expected [2, 3]" in res.message
    res = compare(np.zeros((2, 3), dtype=np.float64), a)
    assert not res.ok and "dtype float64 != expected float32" in res.message
    assert not compare(np.zeros((1,), dtype=np.float32), np.zeros((), dtype=np.float32)).ok
    assert compare(np.zeros((0, 3), dtype=np.int32), np.zeros((0, 3), dtype=np.int32)).ok


def test_error_statistics() -> None:
    expected = np.array([1.0, 2.0, 4.0])
    res = compare(np.array([1.5, 2.0, 4.4]), expected, rtol=0.0, atol=0.0)
    assert res.mismatches == 2 and res.total == 3
    assert res.max_abs_err == pytest.approx(0.5)
    assert res.max_rel_err == pytest.approx(0.5)


def test_tolerance_reads_the_spec() -> None:
    spec = {"tolerance": {"float32": {"rtol": 1e-6, "atol": 0.0}}}
    assert tolerance(spec, "float32") == (1e-6, 0.0)
    assert tolerance(spec, "int32") == (0.0, 0.0)
