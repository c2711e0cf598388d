"""Shape rules of the convolution family: conv, conv_transpose, pools and einsum (ONNX semantics).

The spatial geometry follows ONNX's own shape inference (``convPoolShapeInference``), the one
formula every op of the family shares. Per spatial axis, with the effective (dilated) kernel
``ek = (k - 1) * d + 1``:

- ``auto_pad`` NOTSET: the explicit ``pads`` (begin values then end values; default 0);
- VALID: no padding;
- SAME_UPPER / SAME_LOWER: ``total = max(0, ek - s)`` when ``in % s == 0``, else
  ``max(0, ek - in % s)``; the smaller half ``total // 2`` goes at the begin for SAME_UPPER
  and at the end for SAME_LOWER (so the output has ``ceil(in / s)`` positions);
- ``out = (in + pb + pe - ek + (s - 1 if ceil_mode else 0)) // s + 1``, and with ceil_mode one
  less when the last window would start in the end padding (``(out - 1) * s >= in + pb``).

Errors name the rule that failed, e.g. "kernel 5 with dilation 2 (extent 9) does not fit input
width 3 padded to 5".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import ShapeError
from . import RULES, Shape, _fmt

AUTO_PADS = ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID")
_AXIS_NAMES = {1: ("width",), 2: ("height", "width"), 3: ("depth", "height", "width")}


def _axis_name(i: int, n: int) -> str:
    names = _AXIS_NAMES.get(n)
    return names[i] if names else f"spatial axis {i}"


def _list(value: Any) -> list[int]:
    if value is None:
        return []
    return [int(v) for v in value]


def _per_axis(value: Any, n: int, default: int, what: str, minimum: int) -> list[int]:
    vals = _list(value)
    if not vals:
        return [default] * n
    if len(vals) != n:
        raise ShapeError(f"{what} has {len(vals)} values; the input has {n} spatial axes")
    for v in vals:
        if v < minimum:
            raise ShapeError(f"{what} {vals} must all be >= {minimum}")
    return vals


def pool_geometry(
    spatial: Sequence[int],
    kernel: Sequence[int],
    strides: Any,
    dilations: Any,
    pads: Any,
    auto_pad: str,
    ceil_mode: int = 0,
) -> tuple[list[int], list[int], list[int], list[int]]:
    """Output sizes and the (begin, end) pads per axis; also returns strides and dilations.

    Returns ``(out, pads, strides, dilations)`` with ``pads`` as ONNX lays them out
    (all begins, then all ends). The conformance reference and the CPU kernels use the same
    formulas (see the module docstring).
    """
    n = len(spatial)
    if auto_pad not in AUTO_PADS:
        raise ShapeError(f"auto_pad {auto_pad!r} is not one of {', '.join(AUTO_PADS)}")
    s = _per_axis(strides, n, 1, "strides", 1)
    d = _per_axis(dilations, n, 1, "dilations", 1)
    if auto_pad == "NOTSET":
        p = _list(pads)
        if not p:
            p = [0] * (2 * n)
        if len(p) != 2 * n:
            raise ShapeError(f"pads has {len(p)} values; {n} spatial axes need {2 * n}")
        if any(v < 0 for v in p):
            raise ShapeError(f"pads {p} must not be negative")
    else:
        p = [0] * (2 * n)
    out = []
    for i in range(n):
        ek = (kernel[i] - 1) * d[i] + 1
        if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            r = spatial[i] % s[i]
            total = max(0, ek - (s[i] if r == 0 else r))
            small, big = total // 2, total - total // 2
            p[i], p[n + i] = (small, big) if auto_pad == "SAME_UPPER" else (big, small)
        padded = spatial[i] + p[i] + p[n + i]
        if padded < ek:
            raise ShapeError(
                f"kernel {kernel[i]} with dilation {d[i]} (extent {ek}) does not fit input "
                f"{_axis_name(i, n)} {spatial[i]} padded to {padded}"
            )
        o = (padded - ek + (s[i] - 1 if ceil_mode else 0)) // s[i] + 1
        if ceil_mode and (o - 1) * s[i] >= spatial[i] + p[i]:
            o -= 1
        out.append(o)
    return out, p, s, d


def _kernel(
    kernel_shape: Any, from_weights: Sequence[int] | None, n: int, what: str = "kernel_shape"
) -> list[int]:
    k = _list(kernel_shape)
    if not k:
        if from_weights is None:
            raise ShapeError(f"{what} is required")
        return list(from_weights)
    if len(k) != n:
        raise ShapeError(f"{what} has {len(k)} values; the input has {n} spatial axes")
    if from_weights is not None and list(from_weights) != k:
        raise ShapeError(f"{what} {k} differs from the weights' spatial shape {list(from_weights)}")
    if any(v < 1 for v in k):
        raise ShapeError(f"{what} {k} must all be >= 1")
    return k


def _check_x(x: Shape, name: str) -> int:
    if len(x) < 3:
        raise ShapeError(f"{name} must be [N, C, spatial...] with at least one spatial axis")
    return len(x) - 2


def conv(
    x: Shape,
    w: Shape,
    b: Shape | None,
    auto_pad: str,
    dilations: Any,
    group: int,
    kernel_shape: Any,
    pads: Any,
    strides: Any,
    *,
    names: Sequence[str] = ("X", "W", "B"),
) -> Shape:
    """ONNX Conv: [N, M, out...]; W is [M, C / group, k...]; B is [M]."""
    nx, nw, nb = names[:3]
    n = _check_x(x, nx)
    if len(w) != len(x):
        raise ShapeError(f"{nw} has rank {len(w)}; {nx} has rank {len(x)} and they must agree")
    if group < 1:
        raise ShapeError(f"group {group} must be >= 1")
    if x[1] % group != 0 or w[0] % group != 0:
        raise ShapeError(
            f"group {group} must divide the input channels {x[1]} and the output channels {w[0]}"
        )
    if w[1] * group != x[1]:
        raise ShapeError(
            f"{nw}[1]={w[1]} times group {group} must equal the input channels {nx}[1]={x[1]}"
        )
    if b is not None and tuple(b) != (w[0],):
        raise ShapeError(f"{nb}={_fmt(b)} must be [{w[0]}] (one bias per output channel)")
    k = _kernel(kernel_shape, w[2:], n)
    out, _, _, _ = pool_geometry(x[2:], k, strides, dilations, pads, auto_pad)
    return (x[0], w[0], *out)


def conv_transpose(
    x: Shape,
    w: Shape,
    b: Shape | None,
    auto_pad: str,
    dilations: Any,
    group: int,
    kernel_shape: Any,
    output_padding: Any,
    output_shape: Any,
    pads: Any,
    strides: Any,
    *,
    names: Sequence[str] = ("X", "W", "B"),
) -> Shape:
    """ONNX ConvTranspose: [N, W[1] * group, out...]."""
    out, _ = conv_transpose_geometry(
        x,
        w,
        b,
        auto_pad,
        dilations,
        group,
        kernel_shape,
        output_padding,
        output_shape,
        pads,
        strides,
        names=names,
    )
    return (x[0], w[1] * group, *out)


def conv_transpose_geometry(
    x: Shape,
    w: Shape,
    b: Shape | None,
    auto_pad: str,
    dilations: Any,
    group: int,
    kernel_shape: Any,
    output_padding: Any,
    output_shape: Any,
    pads: Any,
    strides: Any,
    *,
    names: Sequence[str] = ("X", "W", "B"),
) -> tuple[list[int], list[int]]:
    """Output spatial sizes and the pads (begins then ends; may be negative with output_shape)."""
    nx, nw, nb = names[:3]
    n = _check_x(x, nx)
    if len(w) != len(x):
        raise ShapeError(f"{nw} has rank {len(w)}; {nx} has rank {len(x)} and they must agree")
    if group < 1 or x[1] % group != 0:
        raise ShapeError(f"group {group} must be >= 1 and divide the input channels {x[1]}")
    if w[0] != x[1]:
        raise ShapeError(f"{nw}[0]={w[0]} must equal the input channels {nx}[1]={x[1]}")
    if b is not None and tuple(b) != (w[1] * group,):
        raise ShapeError(f"{nb}={_fmt(b)} must be [{w[1] * group}] (one bias per output channel)")
    if auto_pad not in AUTO_PADS:
        raise ShapeError(f"auto_pad {auto_pad!r} is not one of {', '.join(AUTO_PADS)}")
    k = _kernel(kernel_shape, w[2:], n)
    s = _per_axis(strides, n, 1, "strides", 1)
    d = _per_axis(dilations, n, 1, "dilations", 1)
    op = _per_axis(output_padding, n, 0, "output_padding", 0)
    for i in range(n):
        if op[i] >= max(s[i], d[i]):
            raise ShapeError(
                f"output_padding {op[i]} must be smaller than the stride {s[i]} or the "
                f"dilation {d[i]} of {_axis_name(i, n)}"
            )
    spatial = x[2:]
    shape_given = _list(output_shape)
    if shape_given and len(shape_given) == n + 2:
        shape_given = shape_given[2:]
    if shape_given and len(shape_given) != n:
        raise ShapeError(f"output_shape {shape_given} must have {n} values (the spatial axes)")
    p = [0] * (2 * n)
    out = []
    for i in range(n):
        ek = (k[i] - 1) * d[i] + 1
        natural = s[i] * (spatial[i] - 1) + op[i] + ek
        if shape_given or auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            o = shape_given[i] if shape_given else spatial[i] * s[i]
            total = natural - o
            if auto_pad == "SAME_UPPER":
                p[i], p[n + i] = total // 2, total - total // 2
            else:
                p[i], p[n + i] = total - total // 2, total // 2
        else:
            if auto_pad == "NOTSET":
                given = _list(pads)
                if given and len(given) != 2 * n:
                    raise ShapeError(f"pads has {len(given)} values; {n} spatial axes need {2 * n}")
                if given:
                    p[i], p[n + i] = given[i], given[n + i]
                if p[i] < 0 or p[n + i] < 0:
                    raise ShapeError(f"pads {given} must not be negative")
            o = natural - p[i] - p[n + i]
        if o < 0 or (spatial[i] > 0 and o == 0 and not shape_given):
            raise ShapeError(
                f"output {_axis_name(i, n)} {o} is not positive: stride {s[i]} * (input "
                f"{spatial[i]} - 1) + output_padding {op[i]} + kernel extent {ek} - pads "
                f"{p[i]} + {p[n + i]}"
            )
        out.append(o)
    return out, p


def _pool(
    x: Shape,
    auto_pad: str,
    ceil_mode: int,
    dilations: Any,
    kernel_shape: Any,
    pads: Any,
    strides: Any,
    name: str,
) -> Shape:
    n = _check_x(x, name)
    k = _kernel(kernel_shape, None, n)
    out, p, _, d = pool_geometry(x[2:], k, strides, dilations, pads, auto_pad, ceil_mode)
    for i in range(n):
        ek = (k[i] - 1) * d[i] + 1
        if p[i] >= ek or p[n + i] >= ek:
            raise ShapeError(
                f"pads {p[i]}, {p[n + i]} of {_axis_name(i, n)} must be smaller than the kernel "
                f"extent {ek}"
            )
    return (x[0], x[1], *out)


def pool(
    x: Shape,
    auto_pad: str,
    ceil_mode: int,
    dilations: Any,
    kernel_shape: Any,
    pads: Any,
    strides: Any,
    *,
    names: Sequence[str] = ("X",),
) -> Shape:
    """MaxPool / AveragePool: [N, C, out...] (ceil_mode as in the module docstring)."""
    return _pool(x, auto_pad, ceil_mode, dilations, kernel_shape, pads, strides, names[0])


def global_pool(x: Shape, *, names: Sequence[str] = ("X",)) -> Shape:
    """GlobalAveragePool: [N, C, 1, ...]."""
    n = _check_x(x, names[0])
    return (x[0], x[1], *([1] * n))


# --------------------------------------------------------------------------------------------
# Einsum
# --------------------------------------------------------------------------------------------


def parse_einsum(equation: str, ranks: Sequence[int]) -> tuple[list[str], str]:
    """Terms of each operand and of the output, with ``...`` expanded to the characters
    ``0``, ``1``, ... (rightmost-aligned, as broadcast) so every term is one char per axis.

    Without ``->`` the output is the ellipsis followed by the letters that occur exactly once,
    in alphabetical order (upper case before lower case, as ASCII and numpy).
    """
    eq = equation.replace(" ", "")
    if eq.count("->") > 1:
        raise ShapeError(f"equation {equation!r} has more than one '->'")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(ranks):
        raise ShapeError(
            f"equation {equation!r} has {len(terms)} input terms but {len(ranks)} inputs were given"
        )
    ell_rank = 0
    expanded: list[str] = []
    for t, (term, rank) in enumerate(zip(terms, ranks, strict=True)):
        if term.count("...") > 1 or term.replace("...", "").count(".") > 0:
            raise ShapeError(f"term {t} {term!r} has a malformed ellipsis")
        letters = term.replace("...", "")
        for ch in letters:
            if not ch.isalpha() or not ch.isascii():
                raise ShapeError(f"term {t} {term!r} has {ch!r}; only letters and '...' may appear")
        if "..." in term:
            e = rank - len(letters)
            if e < 0:
                raise ShapeError(f"term {t} {term!r} has more letters than input {t}'s rank {rank}")
            ell_rank = max(ell_rank, e)
            fill = "".join(str(j) for j in range(ell_rank - e, ell_rank))
            expanded.append(term.replace("...", fill))
        else:
            if len(letters) != rank:
                raise ShapeError(
                    f"term {t} {term!r} has {len(letters)} letters but input {t} has rank {rank}"
                )
            expanded.append(term)
    ell = "".join(str(j) for j in range(ell_rank))
    if arrow:
        out = rhs
        if out.count("...") > 1 or out.replace("...", "").count(".") > 0:
            raise ShapeError(f"output term {rhs!r} has a malformed ellipsis")
        if "..." not in out and ell_rank > 0:
            raise ShapeError(f"output term {rhs!r} lacks '...' that the inputs use")
        out = out.replace("...", ell)
        letters = [c for c in out if not c.isdigit()]
        for ch in letters:
            if not ch.isalpha() or not ch.isascii():
                raise ShapeError(f"output term {rhs!r} has {ch!r}")
            if not any(ch in term for term in expanded):
                raise ShapeError(f"output letter {ch!r} appears in no input term")
        if len(set(letters)) != len(letters):
            raise ShapeError(f"output term {rhs!r} repeats a letter")
    else:
        counts: dict[str, int] = {}
        for term in expanded:
            for ch in term:
                if not ch.isdigit():
                    counts[ch] = counts.get(ch, 0) + 1
        out = ell + "".join(sorted(c for c, k in counts.items() if k == 1))
    return expanded, out


def einsum(inputs: list[Shape] | None, equation: str, *, names: Sequence[str] = ()) -> Shape:
    """ONNX Einsum: sizes of the output letters; equal letters must agree (or broadcast within
    the ellipsis, where size 1 stretches)."""
    shapes = inputs or []
    terms, out = parse_einsum(equation, [len(s) for s in shapes])
    size: dict[str, int] = {}
    for t, (term, shape) in enumerate(zip(terms, shapes, strict=True)):
        for ch, dim in zip(term, shape, strict=True):
            have = size.get(ch)
            if have is None or (ch.isdigit() and have == 1):
                size[ch] = dim
            elif dim != have and not (ch.isdigit() and dim == 1):
                what = "ellipsis axis" if ch.isdigit() else f"letter {ch!r}"
                raise ShapeError(f"{what} has size {have} and, in input {t}, size {dim}")
    return tuple(size[ch] for ch in out)


RULES.update(
    {
        "conv": conv,
        "conv_transpose": conv_transpose,
        "pool": pool,
        "global_pool": global_pool,
        "einsum": einsum,
    }
)
