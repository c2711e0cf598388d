"""numpy references of the elementwise unary ops and activations (ONNX semantics).

Exactly rounded ops (neg, abs, floor, ceil, round, sign, clip, cast, identity) are computed in
the dtype itself. Transcendental ops and activations are computed in float64 for every float
dtype (float64 too: numpy has nothing wider) and rounded once, in forms that avoid cancellation
(``expm1``, ``log1p``, ``erfc``), so that the tolerance is spent on the kernel alone. Float
attributes are ONNX ``float`` (float32): they are rounded to float32 before use.
"""

from __future__ import annotations

import math

import numpy as np

from ..values import is_float, is_int, numpy_dtype
from . import UNDEFINED, reference

Array = np.ndarray


def _done(result: object, dtype: np.dtype) -> Array:
    return np.asarray(result).astype(dtype, order="C")


def _f64(X: Array) -> Array:
    return X.astype(np.float64)


def _f32(value: float) -> float:
    """An attribute value as the float32 the kernels receive."""
    return float(np.float32(value))


def _map(X: Array, fn) -> Array:  # noqa: ANN001 - a numpy ufunc-like callable
    with np.errstate(all="ignore"):
        return _done(fn(_f64(X)), X.dtype)


# --------------------------------------------------------------------------------------------
# Exactly rounded
# --------------------------------------------------------------------------------------------


@reference
def neg(X: Array) -> Array:
    """Integers wrap around (-MIN == MIN)."""
    with np.errstate(all="ignore"):
        return _done(np.negative(X), X.dtype)


@reference
def abs(X: Array) -> Array:  # noqa: A001 - the spec's reference name
    """Signed integers wrap around (|MIN| == MIN)."""
    with np.errstate(all="ignore"):
        return _done(np.abs(X), X.dtype)


@reference
def floor(X: Array) -> Array:
    return _done(np.floor(X), X.dtype)


@reference
def ceil(X: Array) -> Array:
    return _done(np.ceil(X), X.dtype)


@reference
def round(X: Array) -> Array:  # noqa: A001 - the spec's reference name
    """Halves to even (numpy's rule, and ONNX's)."""
    return _done(np.round(X), X.dtype)


@reference
def sign(X: Array) -> Array:
    return _done(np.sign(X), X.dtype)


@reference
def reciprocal(X: Array) -> Array:
    # float32 is exact enough for the half types (division rounded twice is innocuous at 24 bits)
    with np.errstate(all="ignore"):
        return _done(np.float64(1.0) / _f64(X), X.dtype)


@reference
def logical_not(X: Array) -> Array:
    return _done(np.logical_not(X), X.dtype)


@reference
def identity(X: Array) -> Array:
    return X.copy()


@reference
def clip(X: Array, min: Array | None = None, max: Array | None = None) -> Array:  # noqa: A002
    """min(max(X, min), max) with absent bounds left out; NaN stays NaN."""
    y = X.copy()
    with np.errstate(all="ignore"):
        if min is not None:
            lo = np.asarray(min, dtype=X.dtype).reshape(-1)[0]
            y = np.where(y < lo, lo, y)
        if max is not None:
            hi = np.asarray(max, dtype=X.dtype).reshape(-1)[0]
            y = np.where(y > hi, hi, y)
    return _done(y, X.dtype)


# --------------------------------------------------------------------------------------------
# Transcendental
# --------------------------------------------------------------------------------------------


@reference
def log(X: Array) -> Array:
    return _map(X, np.log)


@reference
def sqrt(X: Array) -> Array:
    return _map(X, np.sqrt)


@reference
def sin(X: Array) -> Array:
    return _map(X, np.sin)


@reference
def cos(X: Array) -> Array:
    return _map(X, np.cos)


@reference
def tanh(X: Array) -> Array:
    return _map(X, np.tanh)


_erf = np.vectorize(math.erf, otypes=[np.float64])
_erfc = np.vectorize(math.erfc, otypes=[np.float64])


@reference
def erf(X: Array) -> Array:
    return _map(X, lambda x: _erf(x) if x.size else x)


# --------------------------------------------------------------------------------------------
# Activations
# --------------------------------------------------------------------------------------------


@reference
def leaky_relu(X: Array, *, alpha: float = 0.01) -> Array:
    a = _f32(alpha)
    return _map(X, lambda x: np.where(x < 0, a * x, x))


@reference
def elu(X: Array, *, alpha: float = 1.0) -> Array:
    a = _f32(alpha)
    return _map(X, lambda x: np.where(x < 0, a * np.expm1(x), x))


@reference
def selu(
    X: Array, *, alpha: float = 1.67326319217681884765625, gamma: float = 1.05070102214813232421875
) -> Array:
    a, g = _f32(alpha), _f32(gamma)
    return _map(X, lambda x: np.where(x > 0, g * x, g * (a * np.expm1(x))))


@reference
def hard_sigmoid(X: Array, *, alpha: float = 0.2, beta: float = 0.5) -> Array:
    a, b = _f32(alpha), _f32(beta)

    def f(x: Array) -> Array:
        v = a * x + b
        return np.where(np.isnan(v), v, np.minimum(np.maximum(v, 0.0), 1.0))

    return _map(X, f)


@reference
def hard_swish(X: Array) -> Array:
    a = _f32(1.0 / 6.0)

    def f(x: Array) -> Array:
        v = a * x + 0.5
        return x * np.where(np.isnan(v), v, np.minimum(np.maximum(v, 0.0), 1.0))

    return _map(X, f)


@reference
def softplus(X: Array) -> Array:
    """max(X, 0) + log1p(exp(-|X|)): no overflow; +Inf -> +Inf, -Inf -> 0."""
    return _map(X, lambda x: np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x))))


@reference
def gelu(X: Array, *, approximate: str = "none") -> Array:
    """0.5 * X * erfc(-X / sqrt(2)), or X * sigmoid(2u) for the tanh form (no cancellation)."""
    if approximate == "tanh":

        def f(x: Array) -> Array:
            u = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x * x * x)
            return x / (1.0 + np.exp(-2.0 * u))

    else:

        def f(x: Array) -> Array:
            return (0.5 * x) * (_erfc(-x * math.sqrt(0.5)) if x.size else x)

    return _map(X, f)


# --------------------------------------------------------------------------------------------
# Cast
# --------------------------------------------------------------------------------------------


@reference
def cast(X: Array, *, to: str) -> Array:
    """ONNX Cast: float -> int truncates toward zero (then wraps to the target's width, xhal's
    definition of ONNX's out-of-range case); x -> bool is x != 0; bool -> x is 0 / 1."""
    want = numpy_dtype(to) if isinstance(to, str) else np.dtype(to)
    with np.errstate(all="ignore"):
        if want == np.bool_:
            return _done(X != 0, want)
        if is_int(want) and is_float(X.dtype):
            return _done(np.trunc(_f64(X)).astype(np.int64), want)
        if X.dtype == np.bool_:
            return _done(X.astype(np.uint8), want)
        return _done(X, want)


def _cast_undefined(X: Array) -> Array:
    """NaN, +-Inf and values beyond int64 have no integer value; the target is not known here,
    so they are left out for every target."""
    if not is_float(X.dtype):
        return np.zeros(X.shape, dtype=bool)
    x = _f64(X)
    return ~np.isfinite(x) | (np.abs(x) >= 2.0**63)


UNDEFINED["cast"] = _cast_undefined
