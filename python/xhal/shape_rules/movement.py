"""Shape rules of the shape and data movement family (ONNX semantics): concat, split, slice,
gather, gather_elements, flatten, squeeze, unsqueeze, expand, tile, shape, size, constant,
constant_of_shape and range.

``reshape`` and ``transpose`` live in the package itself.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..errors import ShapeError
from . import RULES, Shape, _axis, _fmt, _ints, _product, broadcast

INT64_MAX = (1 << 63) - 1


def _shape_list(shapes: Any, what: str) -> list[Shape]:
    if not isinstance(shapes, (list, tuple)) or not shapes:
        raise ShapeError(f"{what} needs at least one tensor")
    if isinstance(shapes[0], int):  # a single shape given for a variadic input
        return [tuple(shapes)]
    return [tuple(s) for s in shapes]


def concat(inputs: Any, axis: int, *, names: Sequence[str] = ("inputs", "axis")) -> Shape:
    """ONNX Concat: same rank (>= 1), equal dims except along ``axis``, which adds up."""
    shapes = _shape_list(inputs, names[0])
    first = shapes[0]
    rank = len(first)
    a = _axis(axis, rank, names[1])
    total = 0
    for k, s in enumerate(shapes):
        if len(s) != rank:
            raise ShapeError(f"{names[0]}[{k}] has rank {len(s)}, {names[0]}[0] has rank {rank}")
        for i in range(rank):
            if i != a and s[i] != first[i]:
                raise ShapeError(
                    f"{names[0]}[{k}]={_fmt(s)} differs from {names[0]}[0]={_fmt(first)} "
                    f"on axis {i} (only axis {a} may differ)"
                )
        total += s[a]
    return tuple(total if i == a else d for i, d in enumerate(first))


def split_sizes(dim: int, split: Any, num_outputs: int, what: str = "split") -> list[int]:
    """The size of each output along the axis (ONNX Split-18)."""
    if split is not None:
        if num_outputs:
            raise ShapeError(f"give either {what} or num_outputs={num_outputs}, not both")
        sizes = _ints(split, what)
        if not sizes:
            raise ShapeError(f"{what} is empty")
        if any(s < 0 for s in sizes):
            raise ShapeError(f"{what} {sizes} has a negative size")
        if sum(sizes) != dim:
            raise ShapeError(f"{what} {sizes} sums to {sum(sizes)}, the axis has {dim}")
        return sizes
    if num_outputs <= 0:
        raise ShapeError(f"neither {what} nor a positive num_outputs is given")
    chunk = -(-dim // num_outputs)
    last = dim - chunk * (num_outputs - 1)
    if last < 0:
        raise ShapeError(
            f"cannot split {dim} into {num_outputs} parts of {chunk} (the last would be {last})"
        )
    return [chunk] * (num_outputs - 1) + [last]


def split(
    input: Shape,
    split: Any,
    axis: int,
    num_outputs: int,
    *,
    names: Sequence[str] = ("input", "split", "axis", "num_outputs"),
) -> list[Shape]:
    """ONNX Split-18: one shape per output."""
    a = _axis(axis, len(input), names[2])
    sizes = split_sizes(input[a], split, num_outputs, names[1])
    return [tuple(s if i == a else d for i, d in enumerate(input)) for s in sizes]


def slice_params(
    shape: Shape, starts: Any, ends: Any, axes: Any, steps: Any, names: Sequence[str]
) -> list[tuple[int, int, int]]:
    """(start, step, count) per axis of ``shape`` after ONNX Slice-13 normalisation/clamping."""
    ns, ne, na, nst = names
    st, en = _ints(starts, ns), _ints(ends, ne)
    rank = len(shape)
    if len(st) != len(en):
        raise ShapeError(f"{ns} has {len(st)} values, {ne} has {len(en)}")
    ax = _ints(axes, na) if axes is not None else list(range(len(st)))
    sp = _ints(steps, nst) if steps is not None else [1] * len(st)
    if len(ax) != len(st) or len(sp) != len(st):
        raise ShapeError(f"{ns}, {ne}, {na} and {nst} must have one length")
    out = [(0, 1, d) for d in shape]
    seen: set[int] = set()
    for s, e, a, step in zip(st, en, ax, sp, strict=True):
        if not -rank <= a < rank:
            raise ShapeError(f"{na} value {a} is out of range [{-rank}, {rank - 1}]")
        a = a + rank if a < 0 else a
        if a in seen:
            raise ShapeError(f"{na} names axis {a} twice")
        seen.add(a)
        if step == 0:
            raise ShapeError(f"{nst} must not contain 0")
        dim = shape[a]
        s = s + dim if s < 0 else s
        e = e + dim if e < 0 else e
        if step > 0:
            s, e = min(max(s, 0), dim), min(max(e, 0), dim)
            count = max(0, -(-(e - s) // step))
        else:
            s, e = min(max(s, 0), dim - 1), min(max(e, -1), dim - 1)
            count = max(0, -(-(s - e) // -step))
        out[a] = (s, step, count)
    return out


def slice(
    data: Shape,
    starts: Any,
    ends: Any,
    axes: Any,
    steps: Any,
    *,
    names: Sequence[str] = ("data", "starts", "ends", "axes", "steps"),
) -> Shape:
    """ONNX Slice-13 (clamped starts/ends, negative steps)."""
    if starts is None or ends is None:
        raise ShapeError(f"{names[1]} and {names[2]} are required")
    return tuple(c for _, _, c in slice_params(data, starts, ends, axes, steps, names[1:5]))


def gather(
    data: Shape, indices: Shape, axis: int, *, names: Sequence[str] = ("data", "indices", "axis")
) -> Shape:
    """ONNX Gather: data[:axis] + indices + data[axis+1:]."""
    a = _axis(axis, len(data), names[2])
    return (*data[:a], *indices, *data[a + 1 :])


def gather_elements(
    data: Shape, indices: Shape, axis: int, *, names: Sequence[str] = ("data", "indices", "axis")
) -> Shape:
    """ONNX GatherElements: the indices' shape; same rank, no larger than data off ``axis``."""
    nd, ni = names[:2]
    a = _axis(axis, len(data), names[2])
    if len(indices) != len(data):
        raise ShapeError(f"{ni} has rank {len(indices)}, {nd} has rank {len(data)}")
    for i, (d, n) in enumerate(zip(data, indices, strict=True)):
        if i != a and n > d:
            raise ShapeError(f"{ni}[{i}]={n} exceeds {nd}[{i}]={d}")
    return tuple(indices)


def flatten(input: Shape, axis: int, *, names: Sequence[str] = ("input", "axis")) -> Shape:
    """ONNX Flatten: [prod(d[:axis]), prod(d[axis:])], axis in [-r, r]."""
    rank = len(input)
    if not -rank <= axis <= rank:
        raise ShapeError(f"{names[1]} {axis} is out of range [{-rank}, {rank}]")
    a = axis + rank if axis < 0 else axis
    return (_product(input[:a]), _product(input[a:]))


def squeeze(data: Shape, axes: Any, *, names: Sequence[str] = ("data", "axes")) -> Shape:
    """ONNX Squeeze: the listed size-1 axes removed (all size-1 axes when none are listed)."""
    listed = _ints(axes, names[1])
    rank = len(data)
    if not listed:
        return tuple(d for d in data if d != 1)
    norm = [_axis(a, rank, f"{names[1]} value") for a in listed]
    if len(set(norm)) != len(norm):
        raise ShapeError(f"{names[1]} {listed} names an axis twice")
    for a in norm:
        if data[a] != 1:
            raise ShapeError(f"cannot squeeze axis {a} of {names[0]}: its size is {data[a]}")
    return tuple(d for i, d in enumerate(data) if i not in norm)


def unsqueeze(data: Shape, axes: Any, *, names: Sequence[str] = ("data", "axes")) -> Shape:
    """ONNX Unsqueeze: size-1 axes inserted at the listed output positions."""
    if axes is None:
        raise ShapeError(f"{names[1]} is required")
    listed = _ints(axes, names[1])
    rank = len(data) + len(listed)
    norm = [_axis(a, rank, f"{names[1]} value") for a in listed]
    if len(set(norm)) != len(norm):
        raise ShapeError(f"{names[1]} {listed} names an axis twice")
    rest = iter(data)
    return tuple(1 if i in norm else next(rest) for i in range(rank))


def expand(input: Shape, shape: Any, *, names: Sequence[str] = ("input", "shape")) -> Shape:
    """ONNX Expand: NumPy broadcast of the input's shape and ``shape``."""
    if shape is None:
        raise ShapeError(f"{names[1]} is required")
    target = tuple(_ints(shape, names[1]))
    if any(d < 0 for d in target):
        raise ShapeError(f"{names[1]} {list(target)} has a negative dimension")
    return broadcast(tuple(input), target, names=names[:2])


def tile(input: Shape, repeats: Any, *, names: Sequence[str] = ("input", "repeats")) -> Shape:
    """ONNX Tile: dimension i times repeats[i]."""
    if repeats is None:
        raise ShapeError(f"{names[1]} is required")
    reps = _ints(repeats, names[1])
    if len(reps) != len(input):
        raise ShapeError(f"{names[1]} has {len(reps)} values, {names[0]} has rank {len(input)}")
    if any(r < 0 for r in reps):
        raise ShapeError(f"{names[1]} {reps} has a negative value")
    return tuple(d * r for d, r in zip(input, reps, strict=True))


def shape_range(rank: int, start: int, end: int) -> tuple[int, int]:
    """ONNX Shape-15+: start and end, negative from the back, clamped to [0, rank]."""
    s = start + rank if start < 0 else start
    e = end + rank if end < 0 else end
    s, e = min(max(s, 0), rank), min(max(e, 0), rank)
    return s, max(s, e)


def shape(data: Shape, start: int, end: int, *, names: Sequence[str] = ()) -> Shape:
    """ONNX Shape: 1-D, one entry per selected axis."""
    s, e = shape_range(len(data), start, end)
    return (e - s,)


def size(data: Shape, *, names: Sequence[str] = ()) -> Shape:
    """ONNX Size: a scalar."""
    return ()


def constant(
    value: Any = None,
    value_float: Any = None,
    value_floats: Any = None,
    value_int: Any = None,
    value_ints: Any = None,
    *,
    names: Sequence[str] = ("value", "value_float", "value_floats", "value_int", "value_ints"),
) -> Shape:
    """ONNX Constant: the shape of the one attribute that is set (scalars for value_float and
    value_int, 1-D for the lists)."""
    given = [
        (n, v)
        for n, v in zip(names, (value, value_float, value_floats, value_int, value_ints),
                        strict=False)
        if v is not None
    ]
    if len(given) != 1:
        listed = ", ".join(n for n, _ in given) or "none"
        raise ShapeError(f"exactly one of {', '.join(names)} must be set, got {listed}")
    name, v = given[0]
    if name == names[0]:
        shp = getattr(v, "shape", None)
        if shp is None:
            import numpy as np  # only for list literals, off the hot path

            shp = np.asarray(v).shape
        return tuple(int(d) for d in shp)
    if name in (names[2], names[4]):  # the lists: 1-D
        if getattr(v, "ndim", 1) != 1 or not hasattr(v, "__len__") or isinstance(v, str):
            raise ShapeError(f"{name} must be a list, got {v!r}")
        return (len(v),)
    if getattr(v, "ndim", 0) != 0 or isinstance(v, (list, tuple)):
        raise ShapeError(f"{name} must be a scalar, got {v!r}")
    return ()


def constant_of_shape(
    input: Any, value: Any = None, *, names: Sequence[str] = ("input", "value")
) -> Shape:
    """ONNX ConstantOfShape: the values of the host input, each >= 0; ``value`` (when set)
    holds exactly one element."""
    if input is None:
        raise ShapeError(f"{names[0]} is required")
    dims = _ints(input, names[0])
    if any(d < 0 for d in dims):
        raise ShapeError(f"{names[0]} {dims} has a negative dimension")
    if value is not None:
        shp = getattr(value, "shape", None)
        if shp is None:
            import numpy as np  # only for list literals, off the hot path

            shp = np.asarray(value).shape
        if math.prod(shp) != 1:
            raise ShapeError(
                f"{names[1] if len(names) > 1 else 'value'} must hold one element, got shape "
                f"{list(shp)}"
            )
    return tuple(dims)


def _scalar(value: Any, what: str) -> Any:
    flat = value.reshape(-1).tolist() if hasattr(value, "reshape") else [value]
    if len(flat) != 1:
        raise ShapeError(f"{what} must be a scalar, got {len(flat)} values")
    return flat[0]


def range_count(start: Any, limit: Any, delta: Any, what: str = "delta") -> int:
    """max(ceil((limit - start) / delta), 0): exact for integers, in float64 for floats."""
    if delta == 0:
        raise ShapeError(f"{what} must not be 0")
    if all(isinstance(v, int) for v in (start, limit, delta)):
        return max(0, -((start - limit) // delta))
    return max(0, math.ceil((float(limit) - float(start)) / float(delta)))


def range_(
    start: Any, limit: Any, delta: Any, *, names: Sequence[str] = ("start", "limit", "delta")
) -> Shape:
    """ONNX Range: 1-D of max(ceil((limit - start) / delta), 0) elements."""
    vals = [_scalar(v, n) for v, n in zip((start, limit, delta), names, strict=True)]
    try:
        n = range_count(*vals, names[2])
    except (OverflowError, ValueError) as exc:
        raise ShapeError(f"range has no finite length ({exc})") from None
    return (n,)


RULES.update(
    {
        "concat": concat,
        "split": split,
        "slice": slice,
        "gather": gather,
        "gather_elements": gather_elements,
        "flatten": flatten,
        "squeeze": squeeze,
        "unsqueeze": unsqueeze,
        "expand": expand,
        "tile": tile,
        "shape": shape,
        "size": size,
        "constant": constant,
        "constant_of_shape": constant_of_shape,
        "range": range_,
    }
)
