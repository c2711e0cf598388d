"""References of the elementwise binary family: pow, mod, min/max, comparisons, logic, where.

(add, sub, mul and div live in the package's ``__init__``.) Float16 and bfloat16 are computed
in float32 and rounded once; pow's floating results in float64, as the spec says.
"""

from __future__ import annotations

import numpy as np

from ..values import is_float, is_int
from . import UNDEFINED, Array, _done, reference


def _f32(x: Array) -> Array:
    """float16/bfloat16 widened to float32; other dtypes unchanged."""
    return x.astype(np.float32) if is_float(x.dtype) and x.dtype.itemsize == 2 else x


# --------------------------------------------------------------------------------------------
# pow
# --------------------------------------------------------------------------------------------


def _pow_f64(X: Array, Y: Array) -> Array:
    with np.errstate(all="ignore"):
        return np.power(X.astype(np.float64), Y.astype(np.float64))


@reference
def pow(X: Array, Y: Array) -> Array:  # noqa: A001 - the spec's reference name
    """Floats: C pow in float64, rounded once. Integers: trunc(pow(x, y)) (defined part only)."""
    r = _pow_f64(X, Y)
    if is_int(X.dtype):
        with np.errstate(all="ignore"):
            r = np.trunc(np.where(np.isfinite(r), r, 0))
            info = np.iinfo(X.dtype)
            r = np.clip(r, info.min, info.max)
        return _done(r.astype(X.dtype), X.dtype)
    return _done(r, X.dtype)


def _pow_undefined(X: Array, Y: Array) -> Array:
    shape = np.broadcast_shapes(X.shape, Y.shape)
    if not is_int(X.dtype):
        return np.zeros(shape, dtype=bool)
    r = _pow_f64(X, Y)
    info = np.iinfo(X.dtype)
    with np.errstate(all="ignore"):
        bad = ~np.isfinite(r) | (np.abs(r) >= 2.0**53)
        t = np.where(bad, 0, np.trunc(r))
        bad = bad | (t < float(info.min)) | (t > float(info.max))
    return np.broadcast_to(bad, shape)


UNDEFINED["pow"] = _pow_undefined


# --------------------------------------------------------------------------------------------
# mod
# --------------------------------------------------------------------------------------------


@reference
def mod(A: Array, B: Array, *, fmod: int = 0) -> Array:
    """ONNX Mod-28. Integers: C remainder (fmod=1) or Python-style (fmod=0), MIN mod -1 = 0.
    Floats: C fmod (fmod=1) or numpy's np.mod (fmod=0), in float32 for the 2-byte types."""
    dt = A.dtype
    with np.errstate(all="ignore"):
        if is_int(dt):
            a = A.astype(np.int64)
            b = B.astype(np.int64)
            safe = np.where(b == 0, 1, b)
            r = np.fmod(a, safe)  # C remainder: sign of the dividend
            if not fmod:
                r = np.where((r != 0) & ((r < 0) != (safe < 0)), r + safe, r)
            return _done(r.astype(dt), dt)
        a, b = _f32(A), _f32(B)
        r = np.fmod(a, b) if fmod else np.mod(a, b)
        return _done(r, dt)


def _mod_undefined(A: Array, B: Array) -> Array:
    shape = np.broadcast_shapes(A.shape, B.shape)
    if not is_int(A.dtype):
        return np.zeros(shape, dtype=bool)
    return np.broadcast_to(B == 0, shape)


UNDEFINED["mod"] = _mod_undefined


# --------------------------------------------------------------------------------------------
# min, max (variadic); NaN propagates
# --------------------------------------------------------------------------------------------


def _fold(fn, data: tuple[Array, ...]) -> Array:
    if not data:
        raise ValueError("min/max need at least one input")
    dt = data[0].dtype
    out = _f32(data[0])
    out = np.broadcast_to(out, np.broadcast_shapes(*(d.shape for d in data)))
    with np.errstate(all="ignore"):
        for d in data[1:]:
            out = fn(out, _f32(d))
    return _done(out, dt)


@reference
def min(*data_0: Array) -> Array:  # noqa: A001 - the spec's reference name
    return _fold(np.minimum, data_0)


@reference
def max(*data_0: Array) -> Array:  # noqa: A001 - the spec's reference name
    return _fold(np.maximum, data_0)


# --------------------------------------------------------------------------------------------
# Comparisons (bool results) and logic
# --------------------------------------------------------------------------------------------


def _compare(fn, A: Array, B: Array) -> Array:
    with np.errstate(all="ignore"):
        return _done(fn(_f32(A), _f32(B)), np.dtype(bool))


@reference
def equal(A: Array, B: Array) -> Array:
    return _compare(np.equal, A, B)


@reference
def less(A: Array, B: Array) -> Array:
    return _compare(np.less, A, B)


@reference
def greater(A: Array, B: Array) -> Array:
    return _compare(np.greater, A, B)


@reference
def less_or_equal(A: Array, B: Array) -> Array:
    return _compare(np.less_equal, A, B)


@reference
def greater_or_equal(A: Array, B: Array) -> Array:
    return _compare(np.greater_equal, A, B)


@reference
def logical_and(A: Array, B: Array) -> Array:
    return _done(np.logical_and(A, B), np.dtype(bool))


@reference
def logical_or(A: Array, B: Array) -> Array:
    return _done(np.logical_or(A, B), np.dtype(bool))


@reference
def logical_xor(A: Array, B: Array) -> Array:
    return _done(np.logical_xor(A, B), np.dtype(bool))


# --------------------------------------------------------------------------------------------
# where
# --------------------------------------------------------------------------------------------


@reference
def where(condition: Array, X: Array, Y: Array) -> Array:
    return _done(np.where(condition, X, Y), X.dtype)
