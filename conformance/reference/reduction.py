"""References of the reduction family: reduce_mean/max/min/prod, arg_max/arg_min, log_softmax,
cumsum and top_k (ONNX semantics; see each spec's doc). reduce_sum and softmax live in the
package's ``__init__``.

Floats that accumulate are computed one step wider and rounded once (float16/bfloat16 in
float32, float32 in float64); integers are exact in their dtype, wrapping where ONNX does.
"""

from __future__ import annotations

import numpy as np

from ..values import is_float, is_int
from . import _done, _wide, reference

Array = np.ndarray


def _reduced_axes(
    data: Array, axes: Array | None, noop_with_empty_axes: int
) -> tuple[int, ...] | None:
    """The normalised axes to reduce, or None for the identity (empty axes and the noop flag)."""
    listed = [] if axes is None else [int(a) for a in np.asarray(axes).reshape(-1)]
    if not listed:
        return None if noop_with_empty_axes else tuple(range(data.ndim))
    return tuple(sorted({a + data.ndim if a < 0 else a for a in listed}))


def _out_shape(data: Array, norm: tuple[int, ...], keepdims: int) -> tuple[int, ...]:
    if keepdims:
        return tuple(1 if i in norm else d for i, d in enumerate(data.shape))
    return tuple(d for i, d in enumerate(data.shape) if i not in norm)


def _identity_value(dtype: np.dtype, which: str) -> object:
    """The result of max/min over nothing: -Inf/+Inf, the integer minimum/maximum, False/True."""
    if dtype == np.bool_:
        return which == "min"
    if is_int(dtype):
        info = np.iinfo(dtype)
        return info.min if which == "max" else info.max
    return -np.inf if which == "max" else np.inf


def _extreme(data: Array, axes: Array | None, keepdims: int, noop: int, which: str) -> Array:
    norm = _reduced_axes(data, axes, noop)
    if norm is None:
        return _done(data.copy(), data.dtype)
    shape = _out_shape(data, norm, keepdims)
    if any(data.shape[a] == 0 for a in norm):
        return np.full(shape, _identity_value(data.dtype, which), dtype=data.dtype)
    fn = np.max if which == "max" else np.min
    with np.errstate(all="ignore"):
        y = np.asarray(fn(data, axis=norm, keepdims=bool(keepdims))).reshape(shape)
    return _done(y, data.dtype)


@reference
def reduce_max(
    data: Array, axes: Array | None = None, *, keepdims: int = 1, noop_with_empty_axes: int = 0
) -> Array:
    """ONNX ReduceMax-20: NaN propagates; an empty set gives -Inf / the dtype's min / False."""
    return _extreme(data, axes, keepdims, noop_with_empty_axes, "max")


@reference
def reduce_min(
    data: Array, axes: Array | None = None, *, keepdims: int = 1, noop_with_empty_axes: int = 0
) -> Array:
    """ONNX ReduceMin-20: NaN propagates; an empty set gives +Inf / the dtype's max / True."""
    return _extreme(data, axes, keepdims, noop_with_empty_axes, "min")


@reference
def reduce_mean(
    data: Array, axes: Array | None = None, *, keepdims: int = 1, noop_with_empty_axes: int = 0
) -> Array:
    """ONNX ReduceMean-18. Integers: int64 sum, quotient truncated toward zero; empty gives 0.
    Floats: one step wider, empty gives NaN."""
    norm = _reduced_axes(data, axes, noop_with_empty_axes)
    if norm is None:
        return _done(data.copy(), data.dtype)
    shape = _out_shape(data, norm, keepdims)
    count = int(np.prod([data.shape[a] for a in norm]))
    with np.errstate(all="ignore"):
        if is_int(data.dtype):
            if count == 0:
                return np.zeros(shape, dtype=data.dtype)
            s = np.sum(data.astype(np.int64), axis=norm, dtype=np.int64).reshape(shape)
            q = np.abs(s) // count * np.sign(s)  # truncation toward zero
            return _done(q, data.dtype)
        w = _wide(data.dtype)
        if count == 0:
            return np.full(shape, np.nan, dtype=data.dtype)
        s = np.sum(data.astype(w), axis=norm, dtype=w).reshape(shape)
        return _done(s / w.type(count), data.dtype)


@reference
def reduce_prod(
    data: Array, axes: Array | None = None, *, keepdims: int = 1, noop_with_empty_axes: int = 0
) -> Array:
    """ONNX ReduceProd-18. Integers wrap in the dtype; floats one step wider; empty gives 1."""
    norm = _reduced_axes(data, axes, noop_with_empty_axes)
    if norm is None:
        return _done(data.copy(), data.dtype)
    shape = _out_shape(data, norm, keepdims)
    acc = data.dtype if not is_float(data.dtype) else _wide(data.dtype)
    with np.errstate(all="ignore"):
        y = np.prod(data.astype(acc), axis=norm, dtype=acc).reshape(shape)
    return _done(y, data.dtype)


def _arg(data: Array, axis: int, keepdims: int, select_last_index: int, which: str) -> Array:
    """numpy's argmax/argmin (the first NaN wins), reversed for the last index of ties."""
    axis = axis + data.ndim if axis < 0 else axis
    shape = list(data.shape)
    shape[axis] = 1
    if not keepdims:
        del shape[axis]
    if int(np.prod(shape)) == 0:
        return np.zeros(shape, dtype=np.int64)
    x = data.astype(np.float32) if data.dtype.name == "bfloat16" else data
    fn = np.argmax if which == "max" else np.argmin
    if select_last_index:
        n = x.shape[axis]
        idx = n - 1 - fn(np.flip(x, axis=axis), axis=axis)
    else:
        idx = fn(x, axis=axis)
    return _done(np.asarray(idx).reshape(shape), np.dtype(np.int64))


@reference
def arg_max(data: Array, *, axis: int = 0, keepdims: int = 1, select_last_index: int = 0) -> Array:
    return _arg(data, axis, keepdims, select_last_index, "max")


@reference
def arg_min(data: Array, *, axis: int = 0, keepdims: int = 1, select_last_index: int = 0) -> Array:
    return _arg(data, axis, keepdims, select_last_index, "min")


@reference
def log_softmax(X: Array, *, axis: int = -1) -> Array:
    """(X - max) - log(sum(exp(X - max))) along ``axis``, one step wider."""
    if X.size == 0:
        return _done(X.copy(), X.dtype)
    x = X.astype(_wide(X.dtype))
    with np.errstate(all="ignore"):
        d = x - np.max(x, axis=axis, keepdims=True)
        y = d - np.log(np.sum(np.exp(d), axis=axis, keepdims=True))
    return _done(y, X.dtype)


@reference
def cumsum(x: Array, axis: Array, *, exclusive: int = 0, reverse: int = 0) -> Array:
    """ONNX CumSum-14. Integers wrap in the dtype; floats accumulate one step wider."""
    a = int(np.asarray(axis).reshape(-1)[0])
    a = a + x.ndim if a < 0 else a
    acc = x.dtype if not is_float(x.dtype) else _wide(x.dtype)
    v = x.astype(acc)
    if reverse:
        v = np.flip(v, axis=a)
    with np.errstate(all="ignore"):
        y = np.cumsum(v, axis=a, dtype=acc)
        if exclusive:
            y = y - v if not is_float(x.dtype) else _shift(y, a)
    if reverse:
        y = np.flip(y, axis=a)
    return _done(y, x.dtype)


def _shift(y: Array, axis: int) -> Array:
    """The inclusive running sum moved one place along ``axis``, a zero in front (exclusive)."""
    out = np.zeros_like(y)
    src = [slice(None)] * y.ndim
    dst = [slice(None)] * y.ndim
    src[axis] = slice(0, y.shape[axis] - 1)
    dst[axis] = slice(1, None)
    out[tuple(dst)] = y[tuple(src)]
    return out


@reference
def top_k(
    X: Array,
    K: Array,
    *,
    axis: int = -1,
    largest: int = 1,
    sorted: int = 1,  # noqa: A002
) -> tuple[Array, Array]:
    """Stable sort along ``axis``: ties keep index order; NaN sorts above every number."""
    del sorted  # xhal pins the order to the sorted one
    k = int(np.asarray(K).reshape(-1)[0])
    axis = axis + X.ndim if axis < 0 else axis
    x = X.astype(np.float32) if X.dtype.name == "bfloat16" else X
    if largest:
        # Descending and stable: sort the reversed axis ascending (NaN last), then read it
        # back to front; among equal keys the later position in the reversed array is the
        # lower original index, and NaNs (last ascending) come first.
        n = x.shape[axis]
        rev = np.flip(x, axis=axis)
        order = np.argsort(rev, axis=axis, kind="stable")
        order = np.flip(order, axis=axis)
        idx = n - 1 - order
    else:
        idx = np.argsort(x, axis=axis, kind="stable")
    idx = np.take(idx, np.arange(k), axis=axis).astype(np.int64)
    values = np.take_along_axis(X, idx, axis=axis)
    return _done(values, X.dtype), _done(idx, np.dtype(np.int64))
