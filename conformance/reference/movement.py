"""References of the shape and data movement family: concat, split, slice, gather,
gather_elements, flatten, squeeze, unsqueeze, expand, tile, shape, size, constant,
constant_of_shape and range (ONNX semantics; see each spec's doc). reshape and transpose live
in the package's ``__init__``.

Everything but range copies values bit for bit, so the references work in the dtype itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from xhal.shape_rules.movement import range_count, shape_range, slice_params, split_sizes

from . import REFERENCES, _done, reference

Array = np.ndarray


def _axis(axis: int, rank: int) -> int:
    return axis + rank if axis < 0 else axis


@reference
def concat(*inputs: Array, axis: int) -> Array:
    return _done(np.concatenate(inputs, axis=axis), inputs[0].dtype)


@reference
def split(
    input: Array, split: Array | None = None, *, axis: int = 0, num_outputs: int = 0
) -> tuple[Array, ...]:
    a = _axis(axis, input.ndim)
    sizes = split_sizes(input.shape[a], split, num_outputs)
    bounds = np.cumsum([0, *sizes])
    return tuple(
        _done(np.take(input, np.arange(bounds[k], bounds[k + 1]), axis=a), input.dtype)
        for k in range(len(sizes))
    )


@reference
def slice(
    data: Array,
    starts: Array,
    ends: Array,
    axes: Array | None = None,
    steps: Array | None = None,
) -> Array:
    params = slice_params(
        data.shape, starts, ends, axes, steps, ("starts", "ends", "axes", "steps")
    )
    index = tuple(np.asarray([s + i * st for i in range(c)], dtype=np.int64) for s, st, c in params)
    return _done(data[np.ix_(*index)] if data.ndim else data, data.dtype)


@reference
def gather(data: Array, indices: Array, *, axis: int = 0) -> Array:
    a = _axis(axis, data.ndim)
    idx = indices.astype(np.int64)
    idx = np.where(idx < 0, idx + data.shape[a], idx)
    return _done(np.take(data, idx, axis=a), data.dtype)


@reference
def gather_elements(data: Array, indices: Array, *, axis: int = 0) -> Array:
    a = _axis(axis, data.ndim)
    idx = indices.astype(np.int64)
    idx = np.where(idx < 0, idx + data.shape[a], idx)
    # Restrict data to the indices' extent off the axis (indices may be smaller there).
    region = tuple(np.s_[:] if i == a else np.s_[: indices.shape[i]] for i in range(data.ndim))
    return _done(np.take_along_axis(data[region], idx, axis=a), data.dtype)


@reference
def flatten(input: Array, *, axis: int = 1) -> Array:
    a = _axis(axis, input.ndim)
    rows = int(np.prod(input.shape[:a], dtype=np.int64))
    cols = int(np.prod(input.shape[a:], dtype=np.int64))
    return _done(input.reshape(rows, cols), input.dtype)


def _int_list(values: Any) -> list[int]:
    return [] if values is None else [int(v) for v in np.asarray(values).reshape(-1)]


@reference
def squeeze(data: Array, axes: Array | None = None) -> Array:
    listed = _int_list(axes)
    if not listed:
        return _done(data.reshape([d for d in data.shape if d != 1]), data.dtype)
    return _done(np.squeeze(data, axis=tuple(_axis(a, data.ndim) for a in listed)), data.dtype)


@reference
def unsqueeze(data: Array, axes: Array) -> Array:
    listed = _int_list(axes)
    rank = data.ndim + len(listed)
    return _done(np.expand_dims(data, tuple(_axis(a, rank) for a in listed)), data.dtype)


@reference
def expand(input: Array, shape: Array) -> Array:
    target = np.broadcast_shapes(input.shape, tuple(_int_list(shape)))
    return _done(np.broadcast_to(input, target), input.dtype)


@reference
def tile(input: Array, repeats: Array) -> Array:
    reps = _int_list(repeats)
    return _done(np.tile(input, reps) if reps else input.copy(), input.dtype)


@reference
def shape(data: Array, *, start: int = 0, end: int = (1 << 63) - 1) -> Array:
    s, e = shape_range(data.ndim, start, end)
    return np.asarray(data.shape[s:e], dtype=np.int64).reshape(e - s)


@reference
def size(data: Array) -> Array:
    return np.asarray(data.size, dtype=np.int64)


def _host_array(value: Any) -> Array:
    return np.asarray(value.numpy() if hasattr(value, "numpy") else value)


@reference
def constant(
    *,
    value: Any = None,
    value_float: float | None = None,
    value_floats: list[float] | None = None,
    value_int: int | None = None,
    value_ints: list[int] | None = None,
) -> Array:
    """The one attribute that is set: a tensor as it is, value_float(s) as float32 (a scalar or
    1-D), value_int(s) as int64."""
    if value is not None:
        return np.array(_host_array(value), order="C", copy=True)
    if value_float is not None:
        return np.asarray(value_float, dtype=np.float32)
    if value_floats is not None:
        return np.asarray(list(value_floats), dtype=np.float32).reshape(len(value_floats))
    if value_int is not None:
        return np.asarray(value_int, dtype=np.int64)
    if value_ints is not None:
        return np.asarray(list(value_ints), dtype=np.int64).reshape(len(value_ints))
    raise ValueError("constant: no attribute is set")


@reference
def constant_of_shape(input: Array, *, value: Any = None) -> Array:
    dims = tuple(_int_list(input))
    if value is None:
        return np.zeros(dims, dtype=np.float32)
    v = _host_array(value)
    return np.full(dims, v.reshape(-1)[0], dtype=v.dtype)


def range_(start: Array, limit: Array, delta: Array) -> Array:
    """Integers exact; floats as start + i * delta in float64, rounded once."""
    dt = np.asarray(start).dtype
    s, lim, d = (np.asarray(v).reshape(-1)[0].item() for v in (start, limit, delta))
    n = range_count(s, lim, d)
    if dt.kind in "iu":
        return np.asarray([s + i * d for i in np.arange(n).tolist()], dtype=dt).reshape(n)
    return _done(np.float64(s) + np.arange(n, dtype=np.float64) * np.float64(d), dt)


REFERENCES["range"] = range_  # not named range: that would hide the builtin in this module
