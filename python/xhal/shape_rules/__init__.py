"""Declarative shape inference: the rules that op specs name in their ``shape:`` section.

A spec says ``shape: {Y: matmul(A, B)}``; :func:`infer_output_shapes` parses that call, binds
each argument (an input's shape, a host-memory input's value, or an attribute with its spec
default) and calls the rule of that name below. The rules are the one place where code is
needed; everything else comes from the spec. Semantics are ONNX's, edge cases included.

A rule reports a failure by raising :class:`ShapeError` with a short reason; the caller turns it
into a message naming the op, the rule text, every input's shape and that reason.

This module is imported on the dispatch path, so it imports nothing heavy (no numpy, no yaml).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from ..errors import ShapeError

Shape = tuple[int, ...]

__all__ = [
    "RULES",
    "Shape",
    "broadcast",
    "gemm",
    "infer_output_shapes",
    "matmul",
    "parse_rule",
    "reduce",
    "reshape",
    "same",
    "softmax",
    "transpose",
]

_CALL = re.compile(r"^\s*([a-z_][a-z0-9_]*)\s*\((.*)\)\s*$")


def _fmt(shape: Sequence[int] | list[Shape] | None) -> str:
    """``[2, 3]``; a variadic input's list of shapes as ``([2, 3], [3])``."""
    if isinstance(shape, list) and shape and not isinstance(shape[0], int):
        return "(" + ", ".join(_fmt(s) for s in shape) + ")"
    return "absent" if shape is None else "[" + ", ".join(str(d) for d in shape) + "]"


def _as_shape(value: Any) -> Shape | None:
    return None if value is None else tuple(int(d) for d in value)


def _ints(value: Any, what: str) -> list[int]:
    """A host value (numpy array, list or None) as a flat list of Python ints; must be 1-D."""
    if value is None:
        return []
    ndim = getattr(value, "ndim", 1)
    if ndim != 1:
        raise ShapeError(f"{what} must be 1-D, got rank {ndim}")
    return [int(v) for v in (value.tolist() if hasattr(value, "tolist") else value)]


def _axis(axis: int, rank: int, what: str) -> int:
    """Normalise an ONNX axis in [-rank, rank-1]."""
    if rank == 0:
        raise ShapeError(f"{what} {axis} is invalid: the input has rank 0 and no axes")
    if not -rank <= axis < rank:
        raise ShapeError(f"{what} {axis} is out of range [{-rank}, {rank - 1}] for rank {rank}")
    return axis + rank if axis < 0 else axis


# --------------------------------------------------------------------------------------------
# Rules. Positional arguments are the bound spec arguments; ``names`` are the spec's argument
# names, used only in messages.
# --------------------------------------------------------------------------------------------


def same(x: Shape, *, names: Sequence[str] = ("X",)) -> Shape:
    """Output has the input's shape (elementwise unary ops)."""
    return tuple(x)


def broadcast(*shapes: Shape | list[Shape] | None, names: Sequence[str] = ()) -> Shape:
    """Multidirectional (NumPy) broadcasting of every present input (a list: a variadic input)."""
    labels = list(names)[: len(shapes)]
    labels += [f"input{i}" for i in range(len(labels), len(shapes))]
    present: list[tuple[str, Shape]] = []
    for label, s in zip(labels, shapes, strict=True):
        if isinstance(s, list):
            present += [(f"{label}[{i}]", tuple(x)) for i, x in enumerate(s) if x is not None]
        elif s is not None:
            present.append((label, s))
    rank = max((len(s) for _, s in present), default=0)
    out: list[int] = []
    for k in range(rank, 0, -1):  # k-th axis from the back
        dim, owner = 1, ""
        for name, s in present:
            if len(s) < k or s[-k] == 1:
                continue
            if dim != 1 and s[-k] != dim:
                raise ShapeError(f"cannot broadcast {owner}[-{k}]={dim} with {name}[-{k}]={s[-k]}")
            dim, owner = s[-k], name
        out.append(dim)
    return tuple(out)


def matmul(a: Shape, b: Shape, *, names: Sequence[str] = ("A", "B")) -> Shape:
    """numpy.matmul: 1-D operands promoted and the promoted axis removed; batch dims broadcast."""
    na, nb = names
    for name, s in ((na, a), (nb, b)):
        if len(s) == 0:
            raise ShapeError(f"{name} is rank 0; matmul needs rank >= 1")
    pa = (1, *a) if len(a) == 1 else tuple(a)
    pb = (*b, 1) if len(b) == 1 else tuple(b)
    if pa[-1] != pb[-2]:
        raise ShapeError(f"inner dimensions differ ({na}[-1]={pa[-1]}, {nb}[-2]={pb[-2]})")
    try:
        batch = broadcast(pa[:-2], pb[:-2])
    except ShapeError:
        raise ShapeError(
            f"batch dimensions do not broadcast ({na} batch {_fmt(pa[:-2])}, "
            f"{nb} batch {_fmt(pb[:-2])})"
        ) from None
    out = [*batch]
    if len(a) > 1:
        out.append(pa[-2])
    if len(b) > 1:
        out.append(pb[-1])
    return tuple(out)


def gemm(
    a: Shape,
    b: Shape,
    c: Shape | None,
    trans_a: int,
    trans_b: int,
    *,
    names: Sequence[str] = ("A", "B", "C", "trans_a", "trans_b"),
) -> Shape:
    """ONNX Gemm: 2-D op(A) [M, K] times op(B) [K, N]; C broadcasts unidirectionally to [M, N]."""
    na, nb, nc = names[:3]
    for name, s in ((na, a), (nb, b)):
        if len(s) != 2:
            raise ShapeError(f"{name} must be 2-D, got rank {len(s)}")
    m, k = (a[1], a[0]) if trans_a else (a[0], a[1])
    k2, n = (b[1], b[0]) if trans_b else (b[0], b[1])
    if k != k2:
        raise ShapeError(
            f"inner dimensions differ (op({na}) is [{m}, {k}], op({nb}) is [{k2}, {n}])"
        )
    if c is not None:
        if len(c) > 2:
            raise ShapeError(f"{nc} must have rank <= 2, got rank {len(c)}")
        for got, want in zip(reversed(c), (n, m), strict=False):
            if got not in (1, want):
                raise ShapeError(
                    f"{nc}={_fmt(c)} does not broadcast unidirectionally to [{m}, {n}]"
                )
    return (m, n)


def softmax(x: Shape, axis: int, *, names: Sequence[str] = ("X", "axis")) -> Shape:
    """Same shape as X; ``axis`` must lie in [-rank, rank-1] (so rank 0 is rejected)."""
    _axis(axis, len(x), names[1] if len(names) > 1 else "axis")
    return tuple(x)


def reshape(
    data: Shape,
    shape: Any,
    allowzero: int,
    *,
    names: Sequence[str] = ("data", "shape", "allowzero"),
) -> Shape:
    """ONNX Reshape-14: one -1 is inferred; 0 copies data's dim unless ``allowzero``."""
    nd, ns = names[:2]
    if shape is None:
        raise ShapeError(f"{ns} is required")
    dims = _ints(shape, ns)
    if any(d < -1 for d in dims):
        raise ShapeError(f"{ns} values must be >= -1, got {dims}")
    if dims.count(-1) > 1:
        raise ShapeError(f"{ns} has more than one -1: {dims}")
    if allowzero and -1 in dims and 0 in dims:
        raise ShapeError(f"{ns} {dims} has both 0 and -1 while allowzero=1")
    out: list[int] = []
    for i, d in enumerate(dims):
        if d == 0 and not allowzero:
            if i >= len(data):
                raise ShapeError(f"{ns}[{i}]=0 copies {nd}[{i}], but {nd} has rank {len(data)}")
            d = data[i]
        out.append(d)
    total = _product(data)
    if -1 in out:
        known = _product(d for d in out if d != -1)
        if known == 0 or total % known:
            raise ShapeError(
                f"cannot infer -1 in {ns} {dims}: {total} elements, "
                f"the other dimensions hold {known}"
            )
        out[out.index(-1)] = total // known
    if _product(out) != total:
        raise ShapeError(
            f"{ns} {dims} gives {_fmt(out)} ({_product(out)} elements), "
            f"but {nd} has {total} elements"
        )
    return tuple(out)


def transpose(
    data: Shape, perm: Sequence[int] | None, *, names: Sequence[str] = ("data", "perm")
) -> Shape:
    """ONNX Transpose: output axis i is input axis perm[i]; empty/absent perm reverses the axes."""
    rank = len(data)
    p = list(perm) if perm is not None else []
    if not p:
        return tuple(reversed(data))
    if sorted(p) != list(range(rank)):
        raise ShapeError(f"{names[1]} {p} is not a permutation of 0..{rank - 1}")
    return tuple(data[i] for i in p)


def reduce(
    data: Shape,
    axes: Any,
    keepdims: int,
    noop_with_empty_axes: int,
    *,
    names: Sequence[str] = ("data", "axes", "keepdims", "noop_with_empty_axes"),
) -> Shape:
    """ONNX Reduce*-13/18: absent or empty axes reduce everything unless noop_with_empty_axes."""
    rank = len(data)
    listed = _ints(axes, names[1])
    if not listed:
        if noop_with_empty_axes:
            return tuple(data)
        reduced = set(range(rank))
    else:
        norm = [_axis(a, rank, f"{names[1]} value") for a in listed]
        if len(set(norm)) != len(norm):
            raise ShapeError(f"{names[1]} {listed} names an axis twice")
        reduced = set(norm)
    if keepdims:
        return tuple(1 if i in reduced else d for i, d in enumerate(data))
    return tuple(d for i, d in enumerate(data) if i not in reduced)


def _product(dims: Any) -> int:
    out = 1
    for d in dims:
        out *= d
    return out


RULES: dict[str, Callable[..., Shape]] = {
    "same": same,
    "broadcast": broadcast,
    "matmul": matmul,
    "gemm": gemm,
    "softmax": softmax,
    "reshape": reshape,
    "transpose": transpose,
    "reduce": reduce,
}


# --------------------------------------------------------------------------------------------
# Binding a spec's rule text to values
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def parse_rule(text: str) -> tuple[str, tuple[str, ...]]:
    """``"gemm(A, B, C, trans_a, trans_b)"`` -> ``("gemm", ("A", "B", "C", ...))``, cached."""
    m = _CALL.match(text)
    if m is None:
        raise ValueError(f"malformed shape rule {text!r}")
    return m.group(1), tuple(a.strip() for a in m.group(2).split(",") if a.strip())


def infer_output_shapes(
    spec: Mapping[str, Any],
    inputs: Mapping[str, Shape | None],
    host_values: Mapping[str, Any] | None = None,
    attrs: Mapping[str, Any] | None = None,
) -> dict[str, Shape]:
    """Run every shape rule of ``spec`` (a raw spec dict) and return ``{output: shape}``.

    ``inputs`` maps input names to shapes (None or missing: an absent optional input; a
    variadic input maps to a list of shapes, and its rule argument is that list);
    ``host_values`` holds the values of ``host_memory`` inputs; ``attrs`` the attributes set
    by the caller (spec defaults fill the rest). Raises ShapeError with the full context.
    """
    host_values = host_values or {}
    attrs = attrs or {}
    op = spec["op"]
    spec_inputs = {i["name"]: i for i in spec.get("inputs", [])}
    spec_attrs = {a["name"]: a for a in spec.get("attributes", []) or []}
    shapes: dict[str, Any] = {}
    for name, spec_input in spec_inputs.items():
        given = inputs.get(name)
        if spec_input.get("variadic") and given is not None:
            shapes[name] = [_as_shape(g) for g in given]  # a list: one shape per operand
        else:
            shapes[name] = _as_shape(given)

    def fail(rule_text: str, reason: str) -> ShapeError:
        shown = ", ".join(f"{n}={_fmt(s)}" for n, s in shapes.items())
        extra = [
            f"{n}={_value_text(host_values.get(n))}"
            for n, i in spec_inputs.items()
            if i.get("host_memory") and shapes[n] is not None
        ]
        set_attrs = [f"{n}={v!r}" for n, v in attrs.items() if v is not None]
        tail = f"; inputs {shown}" if shown else ""
        if extra:
            tail += f"; values {', '.join(extra)}"
        if set_attrs:
            tail += f"; attributes {', '.join(set_attrs)}"
        return ShapeError(f"{op}: shape rule {rule_text} failed: {reason}{tail}")

    bound_attrs: dict[str, Any] = {}
    for name, a in spec_attrs.items():
        value = attrs.get(name)
        bound_attrs[name] = a.get("default") if value is None else value
    first = next(iter(spec["shape"].values()), "?")
    unknown = sorted(set(attrs) - set(spec_attrs)) + sorted(set(inputs) - set(spec_inputs))
    if unknown:
        raise fail(first, f"unknown input(s) or attribute(s) {', '.join(unknown)}")
    for name, spec_input in spec_inputs.items():
        if shapes[name] is None and not spec_input.get("optional", False):
            raise fail(first, f"required input {name} is missing")
    for name, a in spec_attrs.items():
        allowed = a.get("allowed")
        if allowed is not None and bound_attrs[name] not in allowed:
            raise fail(first, f"attribute {name}={bound_attrs[name]!r} is not one of {allowed}")

    out: dict[str, Shape] = {}
    for output, rule_text in spec["shape"].items():
        fn_name, arg_names = parse_rule(rule_text)
        rule = RULES.get(fn_name)
        if rule is None:
            raise fail(
                rule_text, f"no shape rule named '{fn_name}' (known: {', '.join(sorted(RULES))})"
            )
        args: list[Any] = []
        for arg in arg_names:
            if arg in spec_inputs:
                if spec_inputs[arg].get("host_memory"):
                    if shapes[arg] is not None and host_values.get(arg) is None:
                        raise fail(rule_text, f"host-memory input {arg} has no value")
                    args.append(None if shapes[arg] is None else host_values[arg])
                else:
                    args.append(shapes[arg])
            elif arg in bound_attrs:
                args.append(bound_attrs[arg])
            else:
                raise fail(rule_text, f"argument {arg} is neither an input nor an attribute")
        try:
            out[output] = tuple(rule(*args, names=arg_names))
        except ShapeError as exc:
            raise fail(rule_text, str(exc)) from None
    return out


def _value_text(value: Any) -> str:
    if value is None:
        return "none"
    return str(value.tolist() if hasattr(value, "tolist") else list(value))


def _load_family_modules() -> None:
    """Op families keep their rules in modules of this package (``movement.py``, ``nn.py``...),
    each adding its functions to RULES; importing the package loads every one of them."""
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")


_load_family_modules()
