"""Shape rules of the reduction family: arg_max/arg_min, top_k, cumsum (ONNX semantics).

``reduce`` (the Reduce* ops) and ``softmax`` (softmax, log_softmax) live in the package itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import ShapeError
from . import RULES, Shape, _axis


def _scalar(value: Any, what: str) -> int:
    """A host value holding exactly one integer (0-D, or 1-D of length 1)."""
    flat = value.reshape(-1).tolist() if hasattr(value, "reshape") else list(value)
    if len(flat) != 1 or getattr(value, "ndim", 1) > 1:
        shape = list(getattr(value, "shape", [len(flat)]))
        raise ShapeError(f"{what} must hold exactly one value (0-D or 1-D), got shape {shape}")
    return int(flat[0])


def arg_reduce(
    data: Shape, axis: int, keepdims: int, *, names: Sequence[str] = ("data", "axis", "keepdims")
) -> Shape:
    """ONNX ArgMax/ArgMin: ``axis`` becomes 1 (or goes); an empty axis is an error unless the
    output has no elements."""
    a = _axis(axis, len(data), names[1])
    out = [d for i, d in enumerate(data) if i != a or keepdims]
    if keepdims:
        out[a] = 1
    if data[a] == 0 and all(out):
        raise ShapeError(f"{names[0]} has no elements along axis {axis}: nothing to choose from")
    return tuple(out)


def top_k(x: Shape, k: Any, axis: int, *, names: Sequence[str] = ("X", "K", "axis")) -> Shape:
    """ONNX TopK: X's shape with the axis of length K, 0 <= K <= X[axis]."""
    a = _axis(axis, len(x), names[2])
    if k is None:
        raise ShapeError(f"{names[1]} is required")
    if getattr(k, "ndim", 1) != 1:
        raise ShapeError(f"{names[1]} must be 1-D with one element, got rank {k.ndim}")
    kv = _scalar(k, names[1])
    if not 0 <= kv <= x[a]:
        raise ShapeError(f"{names[1]}={kv} is out of range [0, {x[a]}] ({names[0]}[{a}]={x[a]})")
    out = list(x)
    out[a] = kv
    return tuple(out)


def cumsum(x: Shape, axis: Any, *, names: Sequence[str] = ("x", "axis")) -> Shape:
    """ONNX CumSum: x's shape; ``axis`` is one value in [-rank, rank-1]."""
    if axis is None:
        raise ShapeError(f"{names[1]} is required")
    _axis(_scalar(axis, names[1]), len(x), f"{names[1]} value")
    return tuple(x)


RULES.update({"arg_reduce": arg_reduce, "top_k": top_k, "cumsum": cumsum})
