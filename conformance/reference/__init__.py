"""numpy reference implementations, one per spec ``reference:`` name, with ONNX semantics.

Each reference takes the op's inputs positionally in spec order (None for an absent optional
input) and every attribute by keyword, and returns the output array(s) in the output dtype.

Precision: integers wrap around (two's complement) as the specs say. Floating results that
involve a transcendental or an accumulation (exp, sigmoid, softmax, matmul, gemm, reduce_sum)
are computed one step wider than the dtype and rounded once: float16 and bfloat16 in float32
(the specs' "accumulate in float32"), float32 in float64, so that the reference is closer to
the exact answer than any kernel and the tolerance is spent on the kernel alone. Elementwise
add/sub/mul/div are computed in the dtype itself, which numpy rounds correctly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..values import is_float, is_int, numpy_dtype

Array = np.ndarray
REFERENCES: dict[str, Callable[..., Array | tuple[Array, ...]]] = {}
# reference name -> predicate over the inputs giving a mask of elements whose result the spec
# leaves undefined; case generation never produces those.
UNDEFINED: dict[str, Callable[..., Array]] = {}


def reference(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Register ``fn`` under its own name, the name specs use in ``reference:``."""
    REFERENCES[fn.__name__] = fn
    return fn


def _wide(dtype: np.dtype) -> np.dtype:
    """Compute dtype for accumulating/transcendental float ops (see module docstring)."""
    if dtype in (np.float16, np.float32) or dtype.name == "bfloat16":
        return np.dtype(np.float64) if dtype == np.float32 else np.dtype(np.float32)
    return dtype


def _done(result: Any, dtype: np.dtype) -> Array:
    return np.asarray(result).astype(dtype, order="C")


# --------------------------------------------------------------------------------------------
# Elementwise
# --------------------------------------------------------------------------------------------


@reference
def add(A: Array, B: Array) -> Array:
    with np.errstate(all="ignore"):
        return _done(np.add(A, B), A.dtype)


@reference
def sub(A: Array, B: Array) -> Array:
    with np.errstate(all="ignore"):
        return _done(np.subtract(A, B), A.dtype)


@reference
def mul(A: Array, B: Array) -> Array:
    with np.errstate(all="ignore"):
        return _done(np.multiply(A, B), A.dtype)


@reference
def div(A: Array, B: Array) -> Array:
    """Float: IEEE division. Integer: truncates toward zero (C, ONNX Runtime), not numpy's floor."""
    with np.errstate(all="ignore"):
        if is_int(A.dtype):
            q = np.floor_divide(A, B)
            q = q + (((A % B) != 0) & ((A < 0) != (B < 0))).astype(A.dtype)
            return _done(q, A.dtype)
        return _done(np.true_divide(A, B), A.dtype)


def _div_undefined(A: Array, B: Array) -> Array:
    """Integer division by zero is undefined. MIN / -1 wraps to MIN, as the spec says (a kernel
    must not trap on it); with int8 it is too frequent in random data to leave out."""
    if not is_int(A.dtype):
        return np.zeros(np.broadcast_shapes(A.shape, B.shape), dtype=bool)
    return np.broadcast_to(B == 0, np.broadcast_shapes(A.shape, B.shape))


UNDEFINED["div"] = _div_undefined


@reference
def relu(X: Array) -> Array:
    return _done(np.maximum(X, np.zeros((), X.dtype)), X.dtype)


@reference
def sigmoid(X: Array) -> Array:
    """Evaluated in the stable form for each sign so that large |X| neither overflows nor NaNs."""
    x = X.astype(_wide(X.dtype))
    with np.errstate(all="ignore"):
        e = np.exp(-np.abs(x))
        y = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
        y = np.where(np.isnan(x), x, y)
    return _done(y, X.dtype)


@reference
def exp(X: Array) -> Array:
    with np.errstate(all="ignore"):
        return _done(np.exp(X.astype(_wide(X.dtype))), X.dtype)


# --------------------------------------------------------------------------------------------
# Compute-bound
# --------------------------------------------------------------------------------------------


@reference
def matmul(A: Array, B: Array) -> Array:
    """numpy.matmul; integers in the dtype (wrapping), floats one step wider."""
    w = _wide(A.dtype)
    with np.errstate(all="ignore"):
        return _done(np.matmul(A.astype(w), B.astype(w)), A.dtype)


@reference
def gemm(
    A: Array,
    B: Array,
    C: Array | None = None,
    *,
    alpha: float = 1.0,
    beta: float = 1.0,
    trans_a: int = 0,
    trans_b: int = 0,
) -> Array:
    """alpha * op(A) @ op(B) + beta * C; C is ignored when beta == 0 (BLAS and the ONNX reference).

    Integer types with a fractional alpha or beta follow the ONNX reference: computed in
    float64 and truncated toward zero. With integral alpha and beta they stay exact integers.
    """
    dt = A.dtype
    a = A.T if trans_a else A
    b = B.T if trans_b else B
    with np.errstate(all="ignore"):
        if is_int(dt):
            prod = np.matmul(a.astype(np.int64), b.astype(np.int64))
            if float(alpha).is_integer() and float(beta).is_integer():
                y = prod * np.int64(alpha)
                if C is not None and beta != 0:
                    y = y + C.astype(np.int64) * np.int64(beta)
                return _done(y, dt)
            yf = prod.astype(np.float64) * alpha
            if C is not None and beta != 0:
                yf = yf + C.astype(np.float64) * beta
            return _done(np.trunc(yf).astype(np.int64), dt)
        w = _wide(dt)
        y = np.matmul(a.astype(w), b.astype(w)) * w.type(alpha)
        if C is not None and beta != 0:
            y = y + C.astype(w) * w.type(beta)
        return _done(y, dt)


# --------------------------------------------------------------------------------------------
# Normalization and reduction
# --------------------------------------------------------------------------------------------


@reference
def softmax(X: Array, *, axis: int = -1) -> Array:
    """exp(X - max) / sum(exp(X - max)) along ``axis``: the spec's formula, so NaN rows stay NaN."""
    if X.size == 0:
        return _done(X.copy(), X.dtype)
    x = X.astype(_wide(X.dtype))
    with np.errstate(all="ignore"):
        e = np.exp(x - np.max(x, axis=axis, keepdims=True))
        y = e / np.sum(e, axis=axis, keepdims=True)
    return _done(y, X.dtype)


def _axes_list(axes: Array | None) -> list[int]:
    return [] if axes is None else [int(a) for a in np.asarray(axes).reshape(-1)]


@reference
def reduce_sum(
    data: Array, axes: Array | None = None, *, keepdims: int = 1, noop_with_empty_axes: int = 0
) -> Array:
    """ONNX ReduceSum-13. Integers accumulate in the dtype (wrapping), floats one step wider."""
    listed = _axes_list(axes)
    if not listed and noop_with_empty_axes:
        return _done(data.copy(), data.dtype)
    rank = data.ndim
    norm = (
        tuple(sorted({a + rank if a < 0 else a for a in listed})) if listed else tuple(range(rank))
    )
    acc = data.dtype if not is_float(data.dtype) else _wide(data.dtype)
    with np.errstate(all="ignore"):
        y = np.sum(data.astype(acc), axis=norm, keepdims=bool(keepdims), dtype=acc)
    return _done(y, data.dtype)


# --------------------------------------------------------------------------------------------
# Movement
# --------------------------------------------------------------------------------------------


@reference
def reshape(data: Array, shape: Array, *, allowzero: int = 0) -> Array:
    """ONNX Reshape-14: a 0 copies data's dimension at that index unless ``allowzero``."""
    dims = [int(d) for d in np.asarray(shape).reshape(-1)]
    if not allowzero:
        dims = [data.shape[i] if d == 0 else d for i, d in enumerate(dims)]
    return _done(np.reshape(data, dims), data.dtype)


@reference
def transpose(data: Array, *, perm: list[int] | None = None) -> Array:
    return _done(np.transpose(data, list(perm) if perm else None), data.dtype)


# --------------------------------------------------------------------------------------------
# Spec-driven entry point
# --------------------------------------------------------------------------------------------


def full_attrs(spec: Mapping[str, Any], attrs: Mapping[str, Any]) -> dict[str, Any]:
    """The case's attributes with the spec's defaults filled in."""
    out = {}
    for a in spec.get("attributes", []) or []:
        value = attrs.get(a["name"])
        out[a["name"]] = a.get("default") if value is None else value
    return out


def evaluate(
    spec: Mapping[str, Any],
    inputs: Mapping[str, Array | None],
    attrs: Mapping[str, Any],
    output_dtypes: Mapping[str, str],
) -> dict[str, Array]:
    """Run the spec's reference: ``{output name: array}``, each checked against its dtype."""
    name = spec["reference"]
    fn = REFERENCES.get(name)
    if fn is None:
        raise KeyError(f"{spec['op']}: no reference named '{name}' in xhal.conformance.reference")
    args: list[Any] = []
    for i in spec["inputs"]:  # a variadic (last) input's members go as separate arguments
        value = inputs.get(i["name"])
        args += list(value or []) if i.get("variadic") else [value]
    result = fn(*args, **full_attrs(spec, attrs))
    results = result if isinstance(result, (tuple, list)) else (result,)
    if spec["outputs"] and spec["outputs"][-1].get("variadic"):
        # a variadic output's members are named Y[0], Y[1], ... (output_dtypes has Y)
        name = spec["outputs"][-1]["name"]
        outs = {f"{name}[{k}]": r for k, r in enumerate(results)}
    else:
        outs = {o["name"]: r for o, r in zip(spec["outputs"], results, strict=True)}
    for out_name, arr in outs.items():
        want = numpy_dtype(output_dtypes[out_name.split("[", 1)[0]])
        if arr.dtype != want:
            raise TypeError(
                f"{spec['op']}: reference '{name}' returned {arr.dtype} for "
                f"{out_name}, the spec says {want}"
            )
    return outs


def _load_family_modules() -> None:
    """Op families keep their references in modules of this package, each decorated with
    @reference; importing the package loads every one of them."""
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")


_load_family_modules()
