"""Eager op calls: spec-driven argument checks, shape inference, output allocation, launch."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _C
from ._runtime import device as _device
from ._specs import op_spec
from .device import Device
from .dtypes import dtype_id, from_numpy_dtype, numpy_dtype
from .errors import InvalidArgumentError, UnsupportedError
from .shape_rules import infer_output_shapes
from .tensor import Tensor, raw_view


def _host_value(op: str, name: str, value: Any, fixed_dtype: str) -> np.ndarray:
    """A host_memory input as a numpy array (from a Tensor, an array or a list)."""
    arr = value.numpy() if isinstance(value, Tensor) else np.asarray(value)
    if arr.size == 0:
        arr = arr.astype(numpy_dtype(fixed_dtype))
    if arr.dtype != numpy_dtype(fixed_dtype):
        raise InvalidArgumentError(f"{op}: input {name} must be {fixed_dtype}, got {arr.dtype}")
    return np.asarray(arr, order="C")


class _Slow(Exception):
    """The call needs the general path (which also words every error properly)."""


class _Plan:
    """What a common call of one op needs, worked out once: the fast path handles calls whose
    inputs are all device tensors (or absent optionals), whose attributes are plain values and
    whose outputs take their dtype from an input; anything else, and every error, goes through
    the general path."""

    __slots__ = ("op_id", "version", "inputs", "defaults", "allowed", "rules", "simple",
                 "variadic_out", "has_decomposition", "native", "shape_cache")

    def __init__(self, spec: dict[str, Any]) -> None:
        from .shape_rules import RULES, parse_rule

        self.op_id = spec["op_id"]
        self.version = spec["version"]
        self.has_decomposition = "decomposition" in spec
        type_vars = spec["type_vars"]
        self.inputs = [(i["name"], i["type"], i.get("optional", False),
                        frozenset(dtype_id(d) for d in type_vars.get(i["type"], [i["type"]])))
                       for i in spec["inputs"]]
        attrs = spec.get("attributes", [])
        self.defaults = {a["name"]: a.get("default") for a in attrs}
        self.allowed = {a["name"]: a["allowed"] for a in attrs if a.get("allowed")}
        self.variadic_out = bool(spec["outputs"]) and spec["outputs"][-1].get("variadic", False)
        bound_vars = {i["type"] for i in spec["inputs"] if i["type"] in type_vars}
        self.simple = (
            not any(i.get("host_memory") or i.get("variadic") for i in spec["inputs"])
            and not self.variadic_out
            and all(a["type"] in ("int", "float", "ints", "floats", "string") for a in attrs)
            # Outputs typed by an input's type variable or by a fixed dtype (arg_max's int64,
            # layer_normalization's float32 statistics); not by an attribute (cast's `to`).
            and all(o["type"] in bound_vars or o["type"] not in type_vars
                    for o in spec["outputs"]))
        names = [i["name"] for i in spec["inputs"]]
        self.rules = []
        for out in spec["outputs"]:
            fn_name, arg_names = parse_rule(spec["shape"][out["name"]])
            argspec = [(names.index(a), a) if a in names else (-1, a) for a in arg_names]
            out_dtype = None if out["type"] in type_vars else dtype_id(out["type"])
            self.rules.append((RULES.get(fn_name), argspec, arg_names, out["type"], out_dtype))
        if any(rule is None for rule, *_ in self.rules):
            self.simple = False
        self.native = self._native_fast_op(spec) if self.simple else None
        self.shape_cache: dict[Any, list[list[int]]] = {}

    # Shape rules the native fast path computes itself (FastOp::Rule in fast_op.cpp), and
    # whether it is given the rule's attribute arguments as integers (False: it reads them from
    # the op's typed attribute struct).
    _NATIVE_RULES = {"same": (0, True), "broadcast": (1, True), "matmul": (2, True),
                     "gemm": (3, True), "softmax": (4, True), "conv": (5, False)}

    def _native_fast_op(self, spec: dict[str, Any]) -> Any:
        """Ops with one output shaped by a rule FastOp knows (elementwise, matmul, gemm,
        softmax, conv) go through one native call: Python's cost would dominate a small
        kernel."""
        from .shape_rules import parse_rule

        fn_name, arg_names = parse_rule(spec["shape"][spec["outputs"][0]["name"]])
        names = [i["name"] for i in spec["inputs"]]
        rule, int_args = self._NATIVE_RULES.get(fn_name, (None, True))
        if len(spec["outputs"]) != 1 or rule is None:
            return None
        rule_inputs = [names.index(a) for a in arg_names if a in names]
        rule_ints = ([(a, self.defaults.get(a)) for a in arg_names if a not in names]
                     if int_args else [])
        if (fn_name in ("same", "broadcast") and rule_ints) or any(
                type(default) is not int for _, default in rule_ints):
            return None  # a rule argument FastOp cannot read (it reads integer attributes)
        var_names = list(spec["type_vars"])
        if any(o["type"] not in var_names for o in spec["inputs"] + spec["outputs"]):
            return None  # a fixed-dtype operand: the general path handles it
        type_var = [var_names.index(i["type"]) for i in spec["inputs"]]
        allowed = [sum(1 << d for d in allowed_ids) for *_, allowed_ids in self.inputs]
        optional = [i.get("optional", False) for i in spec["inputs"]]
        return _C.FastOp(self.op_id, self.version, type_var, allowed, optional, rule,
                         rule_inputs, rule_ints, var_names.index(spec["outputs"][0]["type"]))


_PLANS: dict[str, _Plan] = {}
_SHAPE_CACHE_SIZE = 256  # entries per op; cleared when full


def _fast_call(plan: _Plan, inputs: tuple, attrs: dict[str, Any]) -> tuple[Device, list]:
    dev = None
    impls: list[Any] = []
    shapes: list[Any] = []
    bound: dict[str, int] = {}
    for (_, type_var, optional, allowed), value in zip(plan.inputs, inputs, strict=True):
        if value is None:
            if not optional:
                raise _Slow
            impls.append(None)
            shapes.append(None)
            continue
        if type(value) is not Tensor or value._device is None:
            raise _Slow
        if dev is None:
            dev = value._device
        elif value._device.index != dev.index:
            raise _Slow
        impl = value._impl
        dt = impl.dtype
        if dt not in allowed or bound.setdefault(type_var, dt) != dt:
            raise _Slow
        impls.append(impl)
        shapes.append(impl.shape)
    if dev is None:
        raise _Slow
    values = dict(plan.defaults)
    passed = {}
    for name, value in attrs.items():
        if value is None:
            continue
        allowed_values = plan.allowed.get(name)
        if allowed_values is not None and value not in allowed_values:
            raise _Slow
        values[name] = passed[name] = value
    # Shape rules cost more than a small kernel (conv's geometry: ~8 us); a model calls each op
    # with the same shapes and attributes over and over, so their results are remembered.
    try:
        key: Any = (tuple(None if s is None else tuple(s) for s in shapes),
                    tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in passed.items()))
        out_shapes = plan.shape_cache.get(key)
    except TypeError:  # an unhashable attribute value (a numpy array): no caching
        key, out_shapes = None, None
    if out_shapes is None:
        out_shapes = []
        for rule, argspec, arg_names, *_ in plan.rules:
            args = [shapes[i] if i >= 0 else values[a] for i, a in argspec]
            try:
                out_shapes.append(list(rule(*args, names=arg_names)))
            except Exception:  # the general path reports it with the op, rule and shapes
                raise _Slow from None
        if key is not None:
            if len(plan.shape_cache) >= _SHAPE_CACHE_SIZE:
                plan.shape_cache.clear()
            plan.shape_cache[key] = out_shapes
    outputs = [_C.TensorImpl.empty(dev.index, bound[out_type] if out_dtype is None else out_dtype,
                                   shape)
               for (*_, out_type, out_dtype), shape in zip(plan.rules, out_shapes, strict=True)]
    _C.launch(dev.index, plan.op_id, plan.version, impls, passed, outputs)
    return dev, outputs


def call(op: str, inputs: tuple, attrs: dict[str, Any],
         device: Device | str | None = None) -> Tensor | tuple[Tensor, ...]:
    plan = _PLANS.get(op)
    if plan is None:
        plan = _PLANS[op] = _Plan(op_spec(op))
    if plan.native is not None and device is None:
        try:
            out = plan.native(inputs, {k: v for k, v in attrs.items() if v is not None}
                              if attrs else attrs)
        except UnsupportedError:
            if not plan.has_decomposition:
                raise
            return _general_call(op, inputs, attrs, device)  # runs the decomposition
        if out is not None:
            return Tensor(out, inputs[0]._device)
    if plan.simple and device is None:
        try:
            dev, outs = _fast_call(plan, inputs, attrs)
        except _Slow:
            pass
        except UnsupportedError:
            if not plan.has_decomposition:
                raise
        else:
            if len(outs) == 1:
                return Tensor(outs[0], dev)
            return tuple(Tensor(o, dev) for o in outs)
    return _general_call(op, inputs, attrs, device)


def _general_call(op: str, inputs: tuple, attrs: dict[str, Any],
                  device: Device | str | None) -> Tensor | tuple[Tensor, ...]:
    spec = op_spec(op)
    requested = device
    device = _device(device) if device is not None else None
    impls: list[Any] = []
    shapes: dict[str, tuple[int, ...] | None] = {}
    host_values: dict[str, np.ndarray] = {}
    dtypes_by_var: dict[str, str] = {}
    for info, value in _bind_inputs(op, spec["inputs"], inputs):
        name = info["name"]
        if value is None:
            if not info.get("optional", False):
                raise InvalidArgumentError(f"{op}: input {name} is required")
            impls.append(None)
            shapes[name] = None
            continue
        if info.get("host_memory", False):
            type_var = info["type"]
            admitted = spec["type_vars"].get(type_var)
            if admitted is None:  # a fixed dtype (int64 shapes, axes...)
                arr = _host_value(op, name, value, type_var)
            else:  # typed by a type variable (Range's start/limit/delta)
                arr = value.numpy() if isinstance(value, Tensor) else np.asarray(value)
                if arr.dtype.name not in admitted:
                    raise InvalidArgumentError(
                        f"{op}: input {name} is {arr.dtype.name}, but {type_var} admits only "
                        f"{', '.join(admitted)}")
                if dtypes_by_var.setdefault(type_var, arr.dtype.name) != arr.dtype.name:
                    raise InvalidArgumentError(
                        f"{op}: input {name} is {arr.dtype.name} but type variable {type_var} "
                        f"is {dtypes_by_var[type_var]}; xhal does no implicit promotion")
                arr = np.asarray(arr, order="C")
            host_values[name] = arr
            shapes[name] = arr.shape
            impls.append(_C.TensorImpl.host_view(raw_view(arr),
                                                 dtype_id(from_numpy_dtype(arr.dtype))))
            continue
        if not isinstance(value, Tensor):
            raise TypeError(f"{op}: input {name} must be an xhal.Tensor, got "
                            f"{type(value).__name__} (use xhal.tensor(...) to convert)")
        if value.device is None:
            raise InvalidArgumentError(f"{op}: input {name} is not on an xhal device")
        if device is None:
            device = value.device
        elif value.device.index != device.index:
            where = "the requested device" if requested is not None else "earlier inputs"
            raise InvalidArgumentError(f"{op}: input {name} is on {value.device.name} but "
                                       f"{where} {device.name}")
        allowed = spec["type_vars"].get(info["type"], [info["type"]])
        if value.dtype not in allowed:
            raise InvalidArgumentError(
                f"{op}: input {name} is {value.dtype}, but {info['type']} admits only "
                f"{', '.join(allowed)}")
        dtypes_by_var.setdefault(info["type"], value.dtype)
        if info.get("variadic", False):
            shapes.setdefault(name, []).append(value.shape)  # type: ignore[union-attr]
        else:
            shapes[name] = value.shape
        impls.append(value._impl)
    if device is None:
        device = _device(None)  # only host-memory inputs: run on the default device

    full_attrs = {a["name"]: (attrs.get(a["name"]) if attrs.get(a["name"]) is not None
                              else a.get("default")) for a in spec.get("attributes", [])}
    out_shapes = infer_output_shapes(spec, shapes, host_values, full_attrs)
    outputs = []
    for info in spec["outputs"]:
        t = info["type"]
        dtype = dtypes_by_var.get(t, t)
        if t in spec["type_vars"] and t not in dtypes_by_var:
            dtype = _dtype_from_attrs(spec, full_attrs, t)
        shape_or_list = out_shapes[info["name"]]
        for shape in (shape_or_list if info.get("variadic", False) else [shape_or_list]):
            outputs.append(Tensor.empty(shape, dtype, device))
    try:
        _C.launch(device.index, spec["op_id"], spec["version"], impls,
                  _native_attrs(spec, attrs), [o._impl for o in outputs])
    except UnsupportedError:
        if "decomposition" not in spec:
            raise
        # The device lacks this composite op: run its decomposition instead (counted).
        from .decompose import run_decomposition

        return run_decomposition(op, inputs, attrs, device, fallback=True)
    return outputs[0] if len(outputs) == 1 and not spec["outputs"][-1].get("variadic") \
        else tuple(outputs)


def _bind_inputs(op: str, declared: list[dict], given: tuple) -> list[tuple[dict, Any]]:
    """Pair each given input with its spec operand (a variadic last operand takes the rest)."""
    if declared and declared[-1].get("variadic", False):
        fixed = len(declared) - 1
        least = fixed + declared[-1].get("min_count", 1)
        if len(given) < least:
            raise InvalidArgumentError(f"{op}: expected at least {least} inputs, got {len(given)}")
        bound = list(zip(declared[:fixed], given[:fixed], strict=True))
        return bound + [(declared[-1], g) for g in given[fixed:]]
    return list(zip(declared, given, strict=True))


def _dtype_from_attrs(spec: dict, attrs: dict[str, Any], type_var: str) -> str:
    """An output type variable that no input binds comes from the first attribute set: a dtype
    attribute (Cast's `to`), the dtype of a tensor attribute (Constant's `value`), int64 for
    an int/ints attribute or float32 for a float/floats one that has no default (ONNX's
    types of Constant's value_int(s) and value_float(s)); with none set, it is the first dtype
    the type variable admits (ConstantOfShape's float32 default)."""
    for a in spec.get("attributes", []):
        value = attrs.get(a["name"])
        if value is None:
            continue
        if a["type"] == "dtype":
            return value
        if a["type"] == "tensor":
            arr = value.numpy() if isinstance(value, Tensor) else np.asarray(value)
            return from_numpy_dtype(arr.dtype)
        if a.get("default", 0) is not None:
            continue  # only an attribute that is absent unless set says which one was given
        if a["type"] in ("int", "ints"):
            return "int64"
        if a["type"] in ("float", "floats"):
            return "float32"
    admitted = spec["type_vars"].get(type_var)
    if admitted:
        return admitted[0]
    raise InvalidArgumentError(f"{spec['op']}: cannot tell the dtype of type variable {type_var}")


def _native_attrs(spec: dict, attrs: dict[str, Any]) -> dict[str, Any]:
    """Attributes as the native converter takes them: dtypes as ids, tensors as arrays."""
    kinds = {a["name"]: a["type"] for a in spec.get("attributes", [])}
    out: dict[str, Any] = {}
    for name, value in attrs.items():
        if value is None:
            continue
        kind = kinds.get(name)
        if kind == "dtype":
            value = dtype_id(value)
        elif kind == "tensor":
            arr = value.numpy() if isinstance(value, Tensor) else np.asarray(value, order="C")
            value = (raw_view(arr), dtype_id(from_numpy_dtype(arr.dtype)))
        out[name] = value
    return out
