"""numpy references of the normalisation, pad and resize family (ONNX semantics).

Normalisations compute one step wider than the dtype (float16/bfloat16 in float32, float32 in
float64) and round once. Pad moves values without arithmetic. Resize interpolates separably,
one axis after the other, in the wide type (the same result as ONNX's n-linear/n-cubic
interpolation up to rounding).
"""

from __future__ import annotations

import math

import numpy as np

from . import Array, _done, _wide, reference

# --------------------------------------------------------------------------------------------
# Normalisations
# --------------------------------------------------------------------------------------------


def _f32(value: float) -> float:
    """A float attribute as the kernels receive it (float32)."""
    return float(np.float32(value))


def _norm_wide(dtype: np.dtype) -> np.dtype:
    """Normalisations square their inputs: bfloat16 (float32's range) needs float64 for that."""
    return np.dtype(np.float64) if dtype.name == "bfloat16" else _wide(dtype)


def _normalize(x: Array, axes: tuple[int, ...], epsilon: float) -> Array:
    """(x - mean) / sqrt(var + epsilon) over ``axes`` of a wide-typed array."""
    with np.errstate(all="ignore"):
        mean = np.mean(x, axis=axes, keepdims=True)
        d = x - mean
        var = np.mean(d * d, axis=axes, keepdims=True)
        return d / np.sqrt(var + x.dtype.type(_f32(epsilon)))


@reference
def layer_normalization(
    X: Array,
    Scale: Array,
    B: Array | None = None,
    *,
    axis: int = -1,
    epsilon: float = 1e-5,
    stash_type: int = 1,
) -> tuple[Array, Array, Array]:
    """(Y, Mean, InvStdDev); Mean and InvStdDev in float32 (stash_type 1)."""
    del stash_type
    a = axis + X.ndim if axis < 0 else axis
    stats_shape = X.shape[:a] + (1,) * (X.ndim - a)
    w = _norm_wide(X.dtype)
    axes = tuple(range(a, X.ndim))
    x = X.astype(w)
    with np.errstate(all="ignore"):
        mean = np.mean(x, axis=axes, keepdims=True) if x.size else np.full(stats_shape, np.nan)
        d = x - mean
        var = np.mean(d * d, axis=axes, keepdims=True) if x.size else mean
        inv = 1 / np.sqrt(var + w.type(_f32(epsilon)))
        y = d / np.sqrt(var + w.type(_f32(epsilon))) * Scale.astype(w)
        if B is not None:
            y = y + B.astype(w)
    f32 = np.dtype(np.float32)
    return _done(y, X.dtype), _done(mean.reshape(stats_shape), f32), _done(inv, f32)


def _channel_view(p: Array, ndim: int, w: np.dtype) -> Array:
    return p.astype(w).reshape((1, -1) + (1,) * (ndim - 2))


@reference
def instance_normalization(input: Array, scale: Array, B: Array, *, epsilon: float = 1e-5) -> Array:
    if input.size == 0:
        return _done(input.copy(), input.dtype)
    w = _norm_wide(input.dtype)
    x = input.astype(w)
    if input.ndim == 2:
        x = x[..., None]
    y = _normalize(x, tuple(range(2, x.ndim)), epsilon)
    with np.errstate(all="ignore"):
        y = y * _channel_view(scale, x.ndim, w) + _channel_view(B, x.ndim, w)
    return _done(y.reshape(input.shape), input.dtype)


@reference
def batch_normalization(
    X: Array,
    scale: Array,
    B: Array,
    input_mean: Array,
    input_var: Array,
    *,
    epsilon: float = 1e-5,
    momentum: float = 0.9,
    training_mode: int = 0,
) -> Array:
    del momentum, training_mode  # inference only
    w = _norm_wide(X.dtype)
    n = X.ndim
    with np.errstate(all="ignore"):
        y = (X.astype(w) - _channel_view(input_mean, n, w)) / np.sqrt(
            _channel_view(input_var, n, w) + w.type(_f32(epsilon))
        )
        y = y * _channel_view(scale, n, w) + _channel_view(B, n, w)
    return _done(y, X.dtype)


# --------------------------------------------------------------------------------------------
# Pad
# --------------------------------------------------------------------------------------------


def _source_index(n_out: int, begin: int, size: int, mode: str) -> Array:
    """Source index along one axis for each output position; -1 means the constant."""
    i = np.arange(n_out, dtype=np.int64) - begin
    inside = (i >= 0) & (i < size)
    if mode == "constant" or size == 0:
        return np.where(inside, i, -1)
    if mode == "edge":
        return np.clip(i, 0, size - 1)
    if mode == "wrap":
        return np.mod(i, size)
    # reflect (numpy's, repeated for pads wider than the axis)
    if size == 1:
        return np.zeros_like(i)
    period = 2 * (size - 1)
    m = np.mod(i, period)
    return np.where(m < size, m, period - m)


@reference
def pad(
    data: Array,
    pads: Array,
    constant_value: Array | None = None,
    axes: Array | None = None,
    *,
    mode: str = "constant",
) -> Array:
    """ONNX Pad: negative pads first crop the input, positive pads then pad what is left."""
    rank = data.ndim
    p = [int(v) for v in np.asarray(pads).reshape(-1)]
    ax = (
        list(range(rank))
        if axes is None
        else [int(a) + rank if int(a) < 0 else int(a) for a in np.asarray(axes).reshape(-1)]
    )
    begins, ends = [0] * rank, [0] * rank
    for k, a in enumerate(ax):
        begins[a], ends[a] = p[k], p[len(ax) + k]
    crop = tuple(
        slice(max(-b, 0), data.shape[a] - max(-e, 0))
        for a, (b, e) in enumerate(zip(begins, ends, strict=True))
    )
    src = data[crop]
    value = (
        np.zeros((), data.dtype)
        if constant_value is None
        else np.asarray(constant_value).reshape(-1)[0]
    )
    out_shape = tuple(data.shape[a] + begins[a] + ends[a] for a in range(rank))
    out = np.full(out_shape, value, dtype=data.dtype)
    if out.size == 0:
        return out
    maps = [_source_index(out_shape[a], max(begins[a], 0), src.shape[a], mode) for a in range(rank)]
    valid = np.ones(out_shape, dtype=bool)
    index = []
    for a, m in enumerate(maps):
        shape = [1] * rank
        shape[a] = -1
        valid &= (m >= 0).reshape(shape)
        index.append(np.maximum(m, 0).reshape(shape))
    if src.size:
        gathered = src[tuple(index)]
        out[valid] = gathered[valid]
    return out


# --------------------------------------------------------------------------------------------
# Resize
# --------------------------------------------------------------------------------------------


def _original(x: Array, mode: str, scale: float, n_in: int, n_out: int) -> Array:
    """ONNX coordinate_transformation_mode: output coordinate -> input coordinate."""
    if mode == "half_pixel":
        return (x + 0.5) / scale - 0.5
    if mode == "half_pixel_symmetric":
        adjustment = n_out / (scale * n_in)
        center = n_in / 2
        offset = center * (1 - adjustment)
        return offset + (x + 0.5) / scale - 0.5
    if mode == "pytorch_half_pixel":
        return (x + 0.5) / scale - 0.5 if n_out > 1 else np.zeros_like(x)
    if mode == "align_corners":  # ONNX's reference: the unrounded output length scale * n_in
        return np.zeros_like(x) if n_out == 1 else x * (n_in - 1) / (scale * n_in - 1)
    if mode == "asymmetric":
        return x / scale
    if mode == "tf_half_pixel_for_nn":
        return (x + 0.5) / scale
    raise ValueError(f"unsupported coordinate_transformation_mode {mode!r}")


def _nearest(x: Array, mode: str) -> Array:
    f = np.floor(x)
    frac = x - f
    if mode == "round_prefer_floor":
        return np.where(frac > 0.5, f + 1, f)
    if mode == "round_prefer_ceil":
        return np.where(frac >= 0.5, f + 1, f)
    if mode == "floor":
        return f
    if mode == "ceil":
        return np.ceil(x)
    raise ValueError(f"unsupported nearest_mode {mode!r}")


def _cubic(t: Array, a: float) -> list[Array]:
    return [
        ((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a,
        ((a + 2) * t - (a + 3)) * t * t + 1,
        ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1,
        ((a * (2 - t) - 5 * a) * (2 - t) + 8 * a) * (2 - t) - 4 * a,
    ]


def resize_taps(
    n_in: int, n_out: int, scale: float, mode: str, ctm: str, nearest_mode: str, cubic_a: float
) -> tuple[Array, Array] | None:
    """(indices [n_out, k], weights [n_out, k]) of one axis; indices clamped to the edge.

    None when the output coordinates fall exactly on the input elements (the axis is copied).
    """
    j = np.arange(n_out, dtype=np.float64)
    x = _original(j, ctm, scale, n_in, n_out)
    if n_in == n_out and np.array_equal(x, j):
        return None
    if mode == "nearest":
        idx = _nearest(x, nearest_mode)[:, None]
        w = np.ones_like(idx)
    elif mode == "linear":
        f = np.floor(x)
        t = x - f
        idx = np.stack([f, f + 1], axis=1)
        w = np.stack([1 - t, t], axis=1)
    else:
        f = np.floor(x)
        t = x - f
        idx = np.stack([f - 1, f, f + 1, f + 2], axis=1)
        w = np.stack(_cubic(t, cubic_a), axis=1)
    idx = np.clip(idx, 0, max(n_in - 1, 0)).astype(np.int64)
    return idx, w


@reference
def resize(
    X: Array,
    roi: Array | None = None,
    scales: Array | None = None,
    sizes: Array | None = None,
    *,
    antialias: int = 0,
    axes: list[int] | None = None,
    coordinate_transformation_mode: str = "half_pixel",
    cubic_coeff_a: float = -0.75,
    exclude_outside: int = 0,
    extrapolation_value: float = 0.0,
    keep_aspect_ratio_policy: str = "stretch",
    mode: str = "nearest",
    nearest_mode: str = "round_prefer_floor",
) -> Array:
    del roi, antialias, exclude_outside, extrapolation_value, keep_aspect_ratio_policy
    rank = X.ndim
    ax = [a + rank if a < 0 else a for a in axes] if axes else list(range(rank))
    out_shape = list(X.shape)
    scale_of: dict[int, float] = {}
    for k, a in enumerate(ax):
        if scales is not None and np.asarray(scales).size:
            s = float(np.asarray(scales, dtype=np.float32).reshape(-1)[k])
            out_shape[a] = int(math.floor(X.shape[a] * s))
        else:
            out_shape[a] = int(np.asarray(sizes).reshape(-1)[k])
            s = out_shape[a] / X.shape[a] if X.shape[a] else 1.0
        scale_of[a] = s
    if X.size == 0 or math.prod(out_shape) == 0:
        return np.zeros(out_shape, dtype=X.dtype)
    w_dt = _wide(X.dtype)
    y = X.astype(w_dt)
    for a in ax:
        taps = resize_taps(
            X.shape[a],
            out_shape[a],
            scale_of[a],
            mode,
            coordinate_transformation_mode,
            nearest_mode,
            _f32(cubic_coeff_a),
        )
        if taps is None:
            continue
        idx, w = taps
        if mode == "nearest":
            y = np.take(y, idx[:, 0], axis=a)
            continue
        shape = [1] * rank
        shape[a] = -1
        acc = None
        with np.errstate(all="ignore"):
            for k in range(idx.shape[1]):
                term = np.take(y, idx[:, k], axis=a) * w[:, k].astype(w_dt).reshape(shape)
                acc = term if acc is None else acc + term
        y = acc
    return _done(y, X.dtype)
