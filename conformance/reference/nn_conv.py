"""numpy references of the convolution family: conv, conv_transpose, max_pool, average_pool,
global_average_pool and einsum.

Straightforward rather than fast: windows are taken tap by tap from an explicitly padded copy
of the input. The geometry (output sizes, SAME padding, ceil_mode) is the one the shape rule
computes (:func:`xhal.shape_rules.nn_conv.pool_geometry`). Floats accumulate one step wider
than the dtype (float16/bfloat16 in float32, float32 in float64) and are rounded once.
"""

from __future__ import annotations

import itertools

import numpy as np

from ...shape_rules.nn_conv import conv_transpose_geometry, parse_einsum, pool_geometry
from . import Array, _done, _wide, reference


def _taps(kernel: list[int]) -> itertools.product:
    return itertools.product(*(range(k) for k in kernel))


def _window(xp: Array, tap: tuple[int, ...], out: list[int], s: list[int], d: list[int]) -> Array:
    """xp[..., tap * d + o * s] for every output position o (xp is padded, axes 2..)."""
    idx = tuple(
        slice(t * dd, t * dd + (o - 1) * ss + 1, ss)
        for t, o, ss, dd in zip(tap, out, s, d, strict=True)
    )
    return xp[(slice(None), slice(None), *idx)]


def _pad(
    x: Array, p: list[int], out: list[int], k: list[int], s: list[int], d: list[int], value: float
) -> Array:
    """x padded by p (begins, ends), the end stretched so that every window of ``out`` fits."""
    n = len(out)
    widths = [(0, 0), (0, 0)]
    for i in range(n):
        need = (out[i] - 1) * s[i] + (k[i] - 1) * d[i] + 1
        end = max(p[n + i], need - x.shape[2 + i] - p[i])
        widths.append((p[i], end))
    return np.pad(x, widths, constant_values=value)


@reference
def conv(
    X: Array,
    W: Array,
    B: Array | None = None,
    *,
    auto_pad: str = "NOTSET",
    dilations: list[int] | None = None,
    group: int = 1,
    kernel_shape: list[int] | None = None,
    pads: list[int] | None = None,
    strides: list[int] | None = None,
) -> Array:
    dt = X.dtype
    w = _wide(dt)
    k = list(W.shape[2:])
    out, p, s, d = pool_geometry(X.shape[2:], k, strides, dilations, pads, auto_pad)
    xp = _pad(X.astype(w), p, out, k, s, d, 0.0)
    wt = W.astype(w)
    N, C = X.shape[:2]
    M = W.shape[0]
    cg, mg = C // group, M // group
    y = np.zeros((N, M, *out), dtype=w)
    with np.errstate(all="ignore"):
        for g in range(group):
            xs = xp[:, g * cg : (g + 1) * cg]
            for tap in _taps(k):
                win = _window(xs, tap, out, s, d)  # [N, cg, out...]
                wk = wt[(slice(g * mg, (g + 1) * mg), slice(None), *tap)]  # [mg, cg]
                y[:, g * mg : (g + 1) * mg] += np.einsum("nc...,mc->nm...", win, wk)
        if B is not None:
            y += B.astype(w).reshape((1, M) + (1,) * len(out))
    return _done(y, dt)


@reference
def conv_transpose(
    X: Array,
    W: Array,
    B: Array | None = None,
    *,
    auto_pad: str = "NOTSET",
    dilations: list[int] | None = None,
    group: int = 1,
    kernel_shape: list[int] | None = None,
    output_padding: list[int] | None = None,
    output_shape: list[int] | None = None,
    pads: list[int] | None = None,
    strides: list[int] | None = None,
) -> Array:
    """Scatter form: input position i adds X * W at o = i * stride - pad_begin + k * dilation."""
    dt = X.dtype
    w = _wide(dt)
    out, p = conv_transpose_geometry(
        X.shape,
        W.shape,
        None if B is None else B.shape,
        auto_pad,
        dilations,
        group,
        kernel_shape,
        output_padding,
        output_shape,
        pads,
        strides,
    )
    n = len(out)
    k = list(W.shape[2:])
    s = list(strides) if strides else [1] * n
    d = list(dilations) if dilations else [1] * n
    N, C = X.shape[:2]
    mg = W.shape[1]
    cg = C // group
    ins = list(X.shape[2:])
    # Full (unpadded) output, big enough for every tap, then cropped by the begin pads.
    full = [
        max((ins[i] - 1) * s[i] + (k[i] - 1) * d[i] + 1, p[i] + out[i], out[i]) for i in range(n)
    ]
    lo = [min(0, p[i]) for i in range(n)]  # negative begin pads shift the crop
    full = [full[i] - lo[i] for i in range(n)]
    yf = np.zeros((N, mg * group, *full), dtype=w)
    xw, ww = X.astype(w), W.astype(w)
    with np.errstate(all="ignore"):
        for g in range(group):
            xs = xw[:, g * cg : (g + 1) * cg]
            for tap in _taps(k):
                wk = ww[(slice(g * cg, (g + 1) * cg), slice(None), *tap)]  # [cg, mg]
                contrib = np.einsum("nc...,cm->nm...", xs, wk)
                idx = tuple(
                    slice(t * dd - l0, t * dd - l0 + (i - 1) * ss + 1, ss)
                    for t, i, ss, dd, l0 in zip(tap, ins, s, d, lo, strict=True)
                )
                yf[(slice(None), slice(g * mg, (g + 1) * mg), *idx)] += contrib
        crop = tuple(slice(p[i] - lo[i], p[i] - lo[i] + out[i]) for i in range(n))
        y = yf[(slice(None), slice(None), *crop)]
        if B is not None:
            y = y + B.astype(w).reshape((1, -1) + (1,) * n)
    return _done(y, dt)


@reference
def max_pool(
    X: Array,
    *,
    auto_pad: str = "NOTSET",
    ceil_mode: int = 0,
    dilations: list[int] | None = None,
    kernel_shape: list[int] | None = None,
    pads: list[int] | None = None,
    storage_order: int = 0,
    strides: list[int] | None = None,
) -> Array:
    """Maximum over the window's taps inside the input; NaN propagates."""
    k = list(kernel_shape or [])
    out, p, s, d = pool_geometry(X.shape[2:], k, strides, dilations, pads, auto_pad, ceil_mode)
    if X.dtype.kind == "f" or X.dtype.name == "bfloat16":
        x, low = X.astype(np.float64 if X.dtype == np.float64 else np.float32), -np.inf
    else:
        x, low = X, np.iinfo(X.dtype).min
    xp = _pad(x, p, out, k, s, d, low)
    y = np.full((*X.shape[:2], *out), low, dtype=x.dtype)
    for tap in _taps(k):
        y = np.maximum(y, _window(xp, tap, out, s, d))
    return _done(y, X.dtype)


@reference
def average_pool(
    X: Array,
    *,
    auto_pad: str = "NOTSET",
    ceil_mode: int = 0,
    count_include_pad: int = 0,
    dilations: list[int] | None = None,
    kernel_shape: list[int] | None = None,
    pads: list[int] | None = None,
    strides: list[int] | None = None,
) -> Array:
    """Sum of the taps inside the input over the number of taps inside the input (or inside
    the padded input with count_include_pad; taps that only ceil_mode adds never count)."""
    dt = X.dtype
    w = _wide(dt)
    k = list(kernel_shape or [])
    out, p, s, d = pool_geometry(X.shape[2:], k, strides, dilations, pads, auto_pad, ceil_mode)
    n = len(out)
    xp = _pad(X.astype(w), p, out, k, s, d, 0.0)
    inside = np.ones((1, 1, *X.shape[2:]), dtype=w)
    if count_include_pad:
        inside = np.pad(
            inside, [(0, 0), (0, 0)] + [(p[i], p[n + i]) for i in range(n)], constant_values=1.0
        )
        mask = _pad(inside, [0] * (2 * n), out, k, s, d, 0.0)
        # the pad-included region starts at -p, the same origin as xp
    else:
        mask = _pad(inside, p, out, k, s, d, 0.0)
    total = np.zeros((*X.shape[:2], *out), dtype=w)
    count = np.zeros((1, 1, *out), dtype=w)
    with np.errstate(all="ignore"):
        for tap in _taps(k):
            total += _window(xp, tap, out, s, d)
            count += _window(mask, tap, out, s, d)
        return _done(total / count, dt)


@reference
def global_average_pool(X: Array) -> Array:
    w = _wide(X.dtype)
    axes = tuple(range(2, X.ndim))
    with np.errstate(all="ignore"):
        return _done(np.mean(X.astype(w), axis=axes, keepdims=True), X.dtype)


@reference
def einsum(*Inputs: Array, equation: str = "") -> Array:
    """numpy.einsum on the operands widened (floats one step, integers to int64, then wrapped)."""
    dt = Inputs[0].dtype
    parse_einsum(equation, [a.ndim for a in Inputs])  # the rule's checks; numpy reads "..." itself
    w = np.dtype(np.int64) if dt.kind in "iu" else _wide(dt)
    with np.errstate(all="ignore"):
        return _done(np.einsum(equation.replace(" ", ""), *[a.astype(w) for a in Inputs]), dt)
