"""Decompositions: run a composite op as the graph of simpler ops its spec declares.

A spec's ``decomposition.body`` is a list of steps ``{op, inputs, outputs, attrs, constants}``;
``decomposition.variants`` may hold alternative bodies, each with a ``when`` condition on the
op's attribute values or on the presence of optional inputs, and the first variant whose
condition holds replaces ``body`` (:func:`select_body`). Values are named; ``constants`` make
tensors (``dtype: T`` takes the dtype bound to the type variable T); an attribute value
``"@name"`` refers to the composite op's own attribute (a float attribute as the float32 the
kernels receive), and a dtype attribute (cast's ``to``) may name a type variable. The dispatcher
uses this when a device has no kernel for a composite op, and the conformance suite checks
every decomposition against the op's reference.
"""

from __future__ import annotations

import collections
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ._specs import op_spec
from .device import Device
from .dtypes import numpy_dtype
from .errors import InvalidArgumentError
from .tensor import Tensor

# op -> number of calls that ran through the decomposition because a device lacked the op
fallback_counts: collections.Counter[str] = collections.Counter()


def _holds(cond: Any, value: Any) -> bool:
    return value in cond if isinstance(cond, list) else value == cond


def select_body(spec: Mapping[str, Any], attrs: Mapping[str, Any],
                present: Mapping[str, bool]) -> list[dict] | None:
    """The steps to run: the first variant whose ``when`` holds (attribute values with the
    spec defaults applied; ``present`` / ``absent`` for optional inputs), else ``body``; None
    when the spec declares no decomposition."""
    dec = spec.get("decomposition") or {}
    for variant in dec.get("variants") or []:
        if all(
            (cond == "present") == present[name] if name in present
            else _holds(cond, attrs.get(name))
            for name, cond in variant["when"].items()
        ):
            return variant["body"]
    return dec.get("body")


def run_decomposition(op: str, inputs: tuple, attrs: dict[str, Any], device: Device,
                      fallback: bool = False) -> Tensor | tuple[Tensor, ...]:
    from . import ops as xops

    spec = op_spec(op)
    own_attrs = {a["name"]: (attrs.get(a["name"]) if attrs.get(a["name"]) is not None
                             else a.get("default")) for a in spec.get("attributes", [])}
    float_attrs = {a["name"] for a in spec.get("attributes", []) if a["type"] in ("float",
                                                                                  "floats")}
    optional = {i["name"] for i in spec["inputs"] if i.get("optional")}
    present = {info["name"]: value is not None
               for info, value in zip(spec["inputs"], inputs, strict=False)
               if info["name"] in optional}
    present.update({name: False for name in optional if name not in present})
    body = select_body(spec, own_attrs, present)
    if not body:
        raise InvalidArgumentError(f"{op}: the spec declares no decomposition")
    if fallback:
        fallback_counts[op] += 1
    env: dict[str, Any] = {}
    bound: dict[str, str] = {}
    for info, value in zip(spec["inputs"], inputs, strict=False):
        env[info["name"]] = value
        if isinstance(value, Tensor):
            bound.setdefault(info["type"], value.dtype)

    def ref(value: Any) -> Any:
        return _attr_ref(value, own_attrs, float_attrs)

    for step in body:
        for name, const in step.get("constants", {}).items():
            dtype = bound.get(const["dtype"], const["dtype"])
            value = const["value"]
            value = [ref(v) for v in value] if isinstance(value, list) else ref(value)
            env[name] = Tensor.from_numpy(np.array(value, dtype=numpy_dtype(dtype)), device)
        callee = op_spec(step["op"])
        dtype_attrs = {a["name"] for a in callee.get("attributes", []) if a["type"] == "dtype"}
        args = [env[name] if name else None for name in step["inputs"]]
        kwargs = {k: bound.get(v, v) if k in dtype_attrs and isinstance(v, str) else ref(v)
                  for k, v in step.get("attrs", {}).items()}
        result = getattr(xops, step["op"])(*args, **kwargs, device=device)
        results = result if isinstance(result, tuple) else (result,)
        for name, value in zip(step["outputs"], results, strict=False):
            env[name] = value
    outs = tuple(env[o["name"]] for o in spec["outputs"])
    return outs[0] if len(outs) == 1 else outs


def _attr_ref(value: Any, attrs: Mapping[str, Any], float_attrs: Sequence[str] = ()) -> Any:
    """``"@name"`` stands for the composite op's own attribute ``name``; a float attribute is
    rounded to float32 first, as the kernels receive it."""
    if isinstance(value, str) and value.startswith("@"):
        name = value[1:]
        got = attrs[name]
        if name in float_attrs and got is not None:
            if isinstance(got, (list, tuple)):
                return [float(np.float32(v)) for v in got]
            return float(np.float32(got))
        return got
    return value
