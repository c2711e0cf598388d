"""Decompositions: run a composite op as the graph of simpler ops its spec declares.

A spec's ``decomposition.body`` is a list of steps ``{op, inputs, outputs, attrs, constants}``.
Values are named; ``constants`` make scalar tensors (``dtype: T`` takes the dtype bound to the
type variable T); an attribute value ``"@name"`` refers to the composite op's own attribute.
The dispatcher uses this when a device has no kernel for a composite op, and the conformance
suite checks every decomposition against the op's reference.
"""

from __future__ import annotations

import collections
from typing import Any

import numpy as np

from ._specs import op_spec
from .device import Device
from .dtypes import numpy_dtype
from .errors import InvalidArgumentError
from .tensor import Tensor

# op -> number of calls that ran through the decomposition because a device lacked the op
fallback_counts: collections.Counter[str] = collections.Counter()


def run_decomposition(op: str, inputs: tuple, attrs: dict[str, Any], device: Device,
                      fallback: bool = False) -> Tensor | tuple[Tensor, ...]:
    from . import ops as xops

    spec = op_spec(op)
    body = spec.get("decomposition", {}).get("body")
    if not body:
        raise InvalidArgumentError(f"{op}: the spec declares no decomposition")
    if fallback:
        fallback_counts[op] += 1
    own_attrs = {a["name"]: (attrs.get(a["name"]) if attrs.get(a["name"]) is not None
                             else a.get("default")) for a in spec.get("attributes", [])}
    env: dict[str, Any] = {}
    bound: dict[str, str] = {}
    for info, value in zip(spec["inputs"], inputs, strict=False):
        env[info["name"]] = value
        if isinstance(value, Tensor):
            bound.setdefault(info["type"], value.dtype)
    for step in body:
        for name, const in step.get("constants", {}).items():
            dtype = bound.get(const["dtype"], const["dtype"])
            value = const["value"]
            if isinstance(value, list):
                value = [_attr_ref(v, own_attrs) for v in value]
            else:
                value = _attr_ref(value, own_attrs)
            env[name] = Tensor.from_numpy(np.array(value, dtype=numpy_dtype(dtype)), device)
        args = [env[name] if name else None for name in step["inputs"]]
        kwargs = {k: _attr_ref(v, own_attrs) for k, v in step.get("attrs", {}).items()}
        result = getattr(xops, step["op"])(*args, **kwargs, device=device)
        results = result if isinstance(result, tuple) else (result,)
        for name, value in zip(step["outputs"], results, strict=True):
            env[name] = value
    outs = tuple(env[o["name"]] for o in spec["outputs"])
    return outs[0] if len(outs) == 1 else outs


def _attr_ref(value: Any, attrs: dict[str, Any]) -> Any:
    """``"@name"`` stands for the composite op's own attribute ``name``."""
    if isinstance(value, str) and value.startswith("@"):
        return attrs[value[1:]]
    return value
