"""Dtypes, value domains and special values for generated conformance data.

A spec's ``conformance.values`` names a domain per input (default ``any``):

- ``any``: floats uniform in [-10, 10]; integers half from the whole dtype range (so that add,
  sub and mul wrap around) and half from [-100, 100].
- ``nonzero``: as ``any`` with zeros replaced by 1 (divisors).
- ``positive``: floats in [0.001, 10], integers in [1, 100].
- ``small``: floats in [-1, 1], integers in [-3, 3] (accumulating ops stay exact in integers
  and well conditioned in floats).

Special values (NaN, +-Inf, -0.0, the smallest subnormal, +-max finite) and integer edges
(min, min+1, -1, 0, 1, max-1, max) are filtered by the same domains; ``small`` drops the max
finite values because sums of them overflow in an order-dependent way.
"""

from __future__ import annotations

from typing import Any

import numpy as np

DOMAINS = ("any", "nonzero", "positive", "small")


def numpy_dtype(name: str) -> np.dtype:
    """numpy dtype for an xhal dtype name (bfloat16 comes from ml_dtypes)."""
    try:
        return np.dtype(name)
    except TypeError:
        import ml_dtypes

        return np.dtype(getattr(ml_dtypes, name))


def is_float(dtype: np.dtype) -> bool:
    """True for IEEE-like floating types, ml_dtypes' bfloat16 included."""
    return dtype.kind == "f" or dtype.name in ("bfloat16", "float8_e4m3fn", "float8_e5m2")


def is_int(dtype: np.dtype) -> bool:
    return dtype.kind in "iu"


def finfo(dtype: np.dtype) -> Any:
    if dtype.kind == "f":
        return np.finfo(dtype)
    import ml_dtypes

    return ml_dtypes.finfo(dtype)


def _allowed(value: float, domain: str) -> bool:
    if domain == "nonzero":
        return value != 0
    if domain == "positive":
        return value > 0  # NaN compares False, so it is excluded too
    if domain == "small":
        return not (np.isfinite(value) and abs(value) > 3)
    return True


def special_values(dtype: np.dtype, domain: str = "any") -> list[tuple[str, float]]:
    """(label, value) pairs of the IEEE special values of a float dtype that ``domain`` allows."""
    info = finfo(dtype)
    values = [
        ("nan", float("nan")),
        ("inf", float("inf")),
        ("-inf", float("-inf")),
        ("-0", -0.0),
        ("subnormal", float(info.smallest_subnormal)),
        ("-subnormal", -float(info.smallest_subnormal)),
        ("max", float(info.max)),
        ("-max", -float(info.max)),
    ]
    return [(label, v) for label, v in values if _allowed(v, domain)]


ORDINARY = (0.0, 1.0, -2.5, 0.75)


def float_grid_values(dtype: np.dtype, domain: str = "any") -> list[float]:
    """Special values plus a few ordinary ones, for exhaustive pairings."""
    return [v for _, v in special_values(dtype, domain)] + [
        v for v in ORDINARY if _allowed(v, domain)
    ]


def int_edges(dtype: np.dtype, domain: str = "any") -> list[int]:
    """Overflow edges of an integer dtype (min, min+1, -1, 0, 1, max-1, max) in ``domain``."""
    info = np.iinfo(dtype)
    lo, hi = int(info.min), int(info.max)
    edges = sorted({v for v in (lo, lo + 1, -1, 0, 1, hi - 1, hi) if lo <= v <= hi})
    return [v for v in edges if _allowed(v, domain)]


def random_array(
    rng: np.random.Generator, dtype: np.dtype, shape: tuple[int, ...], domain: str = "any"
) -> np.ndarray:
    """Deterministic (given ``rng``) data of ``dtype`` and ``shape`` drawn from ``domain``."""
    if domain not in DOMAINS:
        raise ValueError(f"unknown value domain {domain!r} (known: {', '.join(DOMAINS)})")
    if dtype == np.bool_:
        return rng.integers(0, 2, size=shape).astype(np.bool_)
    if is_int(dtype):
        info = np.iinfo(dtype)
        lo, hi = int(info.min), int(info.max)
        if domain == "small":
            return rng.integers(max(lo, -3), 4, size=shape).astype(dtype)
        if domain == "positive":
            return rng.integers(1, min(hi, 100) + 1, size=shape).astype(dtype)
        wide = rng.integers(lo, hi, size=shape, dtype=dtype, endpoint=True)
        narrow = rng.integers(max(lo, -100), 101, size=shape).astype(dtype)
        out = np.where(rng.random(size=shape) < 0.5, wide, narrow).astype(dtype)
        if domain == "nonzero":
            out[out == 0] = 1
        return out
    if is_float(dtype):
        if domain == "small":
            raw = rng.uniform(-1.0, 1.0, size=shape)
        elif domain == "positive":
            raw = rng.uniform(1e-3, 10.0, size=shape)
        else:
            raw = rng.uniform(-10.0, 10.0, size=shape)
        out = np.asarray(raw).astype(dtype)
        if domain == "nonzero":
            out[out == 0] = 1
        return out
    raise TypeError(f"no value generator for dtype {dtype}")
