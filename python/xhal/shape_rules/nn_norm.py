"""Shape rules of the normalisation, pad and resize family (ONNX semantics)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..errors import ShapeError
from . import RULES, Shape, _axis, _fmt, _ints


def _unidirectional(param: Shape, target: Shape) -> bool:
    """True when ``param`` broadcasts unidirectionally (NumPy rules) to ``target``."""
    if len(param) > len(target):
        return False
    return all(p in (1, t) for p, t in zip(reversed(param), reversed(target), strict=False))


def layer_normalization(
    x: Shape,
    scale: Shape,
    bias: Shape | None,
    axis: int,
    *,
    names: Sequence[str] = ("X", "Scale", "B", "axis"),
) -> Shape:
    """X's shape; ``axis`` in [-rank, rank-1]; Scale and B broadcast to X.shape[axis:]."""
    a = _axis(axis, len(x), names[3])
    block = tuple(x[a:])
    for name, s in ((names[1], scale), (names[2], bias)):
        if s is not None and not _unidirectional(s, block):
            raise ShapeError(
                f"{name}={_fmt(s)} does not broadcast to the normalized shape {_fmt(block)}"
            )
    return tuple(x)


def layer_normalization_stats(
    x: Shape, axis: int, *, names: Sequence[str] = ("X", "axis")
) -> Shape:
    """Mean / InvStdDev of layer normalization: X.shape[:axis] followed by ones."""
    a = _axis(axis, len(x), names[1])
    return tuple(x[:a]) + (1,) * (len(x) - a)


def channel_normalization(*shapes: Shape | None, names: Sequence[str] = ()) -> Shape:
    """X's shape for X [N, C, ...] (rank >= 2) and per-channel parameters of shape [C]."""
    x = shapes[0]
    labels = list(names) or [f"input{i}" for i in range(len(shapes))]
    if len(x) < 2:
        raise ShapeError(f"{labels[0]} must have rank >= 2 ([N, C, ...]), got rank {len(x)}")
    for name, s in zip(labels[1:], shapes[1:], strict=False):
        if s is not None and tuple(s) != (x[1],):
            raise ShapeError(f"{name}={_fmt(s)} must be [{x[1]}] (the channels of {labels[0]})")
    return tuple(x)


def _axes_of(axes: Any, rank: int, what: str) -> list[int]:
    listed = _ints(axes, what)
    norm = [_axis(a, rank, f"{what} value") for a in listed]
    if len(set(norm)) != len(norm):
        raise ShapeError(f"{what} {listed} names an axis twice")
    return norm


def pad(
    data: Shape,
    pads: Any,
    constant_value: Any,
    axes: Any,
    mode: str,
    *,
    names: Sequence[str] = ("data", "pads", "constant_value", "axes", "mode"),
) -> Shape:
    """ONNX Pad-18+: pads = [x1_begin, x2_begin, ..., x1_end, x2_end, ...] over ``axes``."""
    rank = len(data)
    if pads is None:
        raise ShapeError(f"{names[1]} is required")
    p = _ints(pads, names[1])
    ax = _axes_of(axes, rank, names[3]) if axes is not None else list(range(rank))
    if len(p) != 2 * len(ax):
        raise ShapeError(
            f"{names[1]} has {len(p)} values; {2 * len(ax)} expected (2 per padded axis)"
        )
    if constant_value is not None and math.prod(constant_value) != 1:
        raise ShapeError(f"{names[2]} must hold one value, got shape {_fmt(constant_value)}")
    out = list(data)
    for i, a in enumerate(ax):
        begin, end = p[i], p[len(ax) + i]
        kept = data[a] + min(begin, 0) + min(end, 0)
        if kept < 0:
            raise ShapeError(f"{names[1]} crop axis {a} (size {data[a]}) below zero")
        if mode != "constant" and kept == 0 and (begin > 0 or end > 0):
            raise ShapeError(f"mode '{mode}' cannot pad axis {a}, which has no element left")
        out[a] = data[a] + begin + end
    return tuple(out)


def resize(
    x: Shape,
    roi: Any,
    scales: Any,
    sizes: Any,
    axes: Sequence[int] | None,
    *,
    names: Sequence[str] = ("X", "roi", "scales", "sizes", "axes"),
) -> Shape:
    """ONNX Resize-19 (stretch policy): floor(dim * scale), or the given sizes."""
    rank = len(x)
    ax = _axes_of(list(axes), rank, names[4]) if axes else list(range(rank))
    sc = [] if scales is None else [float(v) for v in _flat(scales)]
    sz = _ints(sizes, names[3]) if sizes is not None else []
    if bool(sc) == bool(sz):
        raise ShapeError(f"exactly one of {names[2]} and {names[3]} must be given (non-empty)")
    given = sc or sz
    if len(given) != len(ax):
        raise ShapeError(
            f"{names[2] if sc else names[3]} has {len(given)} values; {len(ax)} expected "
            f"(one per resized axis)"
        )
    out = list(x)
    for i, a in enumerate(ax):
        if sc:
            if not (sc[i] > 0 and math.isfinite(sc[i])):
                raise ShapeError(f"{names[2]} must be positive and finite, got {sc}")
            out[a] = int(math.floor(x[a] * sc[i]))
        else:
            if sz[i] < 0:
                raise ShapeError(f"{names[3]} must be >= 0, got {sz}")
            out[a] = sz[i]
        if x[a] == 0 and out[a] > 0:
            raise ShapeError(f"axis {a} of {names[0]} is empty and cannot be resized to {out[a]}")
    return tuple(out)


def _flat(value: Any) -> list[Any]:
    if hasattr(value, "reshape"):
        return list(value.reshape(-1).tolist())
    return list(value)


RULES.update(
    {
        "layer_normalization": layer_normalization,
        "layer_normalization_stats": layer_normalization_stats,
        "channel_normalization": channel_normalization,
        "pad": pad,
        "resize": resize,
    }
)
