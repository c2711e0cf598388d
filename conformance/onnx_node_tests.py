"""ONNX's own backend node tests, run on xhal devices through the op specs.

``onnx.backend.test.loader.load_model_tests(kind="node")`` gives ~1900 small models (one node,
or an ``_expanded`` function body of several) with inputs and expected outputs. Each test is
classified:

- **not applicable**: an op without an xhal spec (by the specs' ``onnx.op_type``), a model
  opset whose version of the op is not the one the spec follows, an operand the spec does not
  declare, or a dtype (input or output) the spec does not admit. Counted and shown, never a
  failure.
- **excluded**: applicable, but listed with a reason in ``onnx_node_test_exclusions.yaml``
  (the only place where an applicable test may be left out).
- otherwise it runs: inputs bound positionally (an empty name is an absent optional input, a
  variadic last input takes the rest), attributes renamed through the spec's
  ``onnx.attributes`` and converted (bytes -> str, tensors -> arrays, TensorProto dtype ints
  -> xhal dtype names), outputs compared at the test's ``rtol``/``atol`` with NaN == NaN.
  ``_expanded`` models run node by node through ``xhal.ops`` (a small sequential
  interpreter), which checks the decompositions the standard writes down.

Pass rate = passed / (applicable - excluded); passed / applicable is reported next to it.
"""

from __future__ import annotations

import functools
import math
import re
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import xhal
from xhal import errors

from .cases import Filter
from .compare import compare
from .runner import ERROR, FAIL, PASS, UNSUPPORTED, CaseResult, Report, describe_device

EXCLUDED, NOT_APPLICABLE = "excluded", "not applicable"
EXCLUSIONS_FILE = Path(__file__).with_name("onnx_node_test_exclusions.yaml")
_EXPANDED = re.compile(r"_expanded(_ver\d+)?$")


class NotApplicable(Exception):  # noqa: N818 - a classification, not an error
    """The test exercises something outside the standard's specs (with the reason)."""


class SpecGap(Exception):  # noqa: N818 - a classification, not an error
    """A mapped op whose spec cannot express the node (an attribute, input or output ONNX has
    and the spec lacks): the test is applicable and fails with this reason."""


# --------------------------------------------------------------------------------------------
# Loading (cached per process: the loader builds every model and data set in memory)
# --------------------------------------------------------------------------------------------


@functools.cache
def load_tests() -> tuple[Any, ...]:
    """Every ONNX backend node test (``onnx.backend.test.case.test_case.TestCase``)."""
    import warnings

    from onnx.backend.test import loader

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return tuple(loader.load_model_tests(kind="node"))


def load_exclusions(path: str | Path = EXCLUSIONS_FILE) -> dict[str, str]:
    """``{test name: reason}`` from the exclusions file (missing file: none)."""
    import yaml

    p = Path(path)
    if not p.exists():
        return {}
    data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in data.items()
    ):
        raise ValueError(f"{p}: expected a mapping of test name -> non-empty reason")
    return dict(data)


# --------------------------------------------------------------------------------------------
# Specs by ONNX op type, attribute and dtype conversion
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Specs:
    by_op_type: Mapping[str, Mapping[str, Any]]
    dtype_by_id: Mapping[int, str]

    @classmethod
    def of(cls, specs: Mapping[str, Any]) -> Specs:
        by_type = {s["onnx"]["op_type"]: s for s in specs["ops"].values() if s.get("onnx")}
        ids = {int(d["id"]): name for name, d in specs["dtypes"].items()}
        return cls(by_type, ids)


def _admitted(spec: Mapping[str, Any], operand: Mapping[str, Any]) -> list[str]:
    return list(spec["type_vars"].get(operand["type"], [operand["type"]]))


def _dtype_name(arr: np.ndarray) -> str:
    return "bool" if arr.dtype == np.bool_ else arr.dtype.name


def convert_attribute(
    spec: Mapping[str, Any], attr: Any, dtype_by_id: Mapping[int, str]
) -> tuple[str, Any]:
    """An ONNX AttributeProto as ``(xhal name, value)`` for ``xhal.ops.<op>``."""
    from onnx import helper, numpy_helper

    renamed = {onnx: ours for ours, onnx in ((spec["onnx"] or {}).get("attributes") or {}).items()}
    name = renamed.get(attr.name, attr.name)
    decl = next((a for a in spec.get("attributes") or [] if a["name"] == name), None)
    if decl is None:
        raise SpecGap(f"{spec['op']}: ONNX attribute {attr.name!r} has no xhal attribute")
    value = helper.get_attribute_value(attr)
    kind = decl["type"]
    if kind == "dtype":
        if int(value) not in dtype_by_id:
            raise NotApplicable(f"{attr.name}: TensorProto dtype {value} is not an xhal dtype")
        return name, dtype_by_id[int(value)]
    if kind == "tensor":
        return name, numpy_helper.to_array(value)
    if kind == "string":
        return name, value.decode() if isinstance(value, bytes) else str(value)
    if kind == "ints":
        return name, [int(v) for v in value]
    if kind == "floats":
        return name, [float(v) for v in value]
    if kind == "int":
        return name, int(value)
    if kind == "float":
        return name, float(value)
    return name, value


def _bind(
    spec: Mapping[str, Any], names: Sequence[str]
) -> list[tuple[Mapping[str, Any], str | None]]:
    """Pair ONNX node inputs with spec inputs (empty name -> absent; variadic takes the rest)."""
    declared = spec["inputs"]
    out: list[tuple[Mapping[str, Any], str | None]] = []
    for k, name in enumerate(names):
        if k < len(declared):
            info = declared[k]
        elif declared and declared[-1].get("variadic"):
            info = declared[-1]
        else:
            if not name:
                continue  # a trailing absent optional input the standard does not have
            raise SpecGap(f"{spec['op']}: ONNX input {k} ({name}) is not in the spec")
        out.append((info, name or None))
    return out


# --------------------------------------------------------------------------------------------
# Running one node and one model
# --------------------------------------------------------------------------------------------


@dataclass
class _Node:
    """One ONNX node resolved against its spec."""

    spec: Mapping[str, Any]
    inputs: list[tuple[Mapping[str, Any], str | None]]
    outputs: list[str]
    attrs: dict[str, Any]
    gap: str = ""  # what ONNX has and the spec lacks (the test then fails with this)


def _onnx_version(op_type: str, opset: int) -> int | None:
    """The version of ONNX ``op_type`` in force at ``opset``."""
    import onnx.defs

    try:
        return int(onnx.defs.get_schema(op_type, opset, "").since_version)
    except Exception:  # noqa: BLE001 - an op or opset ONNX does not know: no version
        return None


def _is_onnx_default(op_type: str, opset: int, attr: Any) -> bool:
    """True when ``attr`` is set to ONNX's own default (Cast's saturate=1): an attribute the
    spec lacks changes nothing then."""
    import onnx.defs
    from onnx import helper

    try:
        decl = onnx.defs.get_schema(op_type, opset, "").attributes.get(attr.name)
        default = decl.default_value if decl is not None else None
        if default is None or not default.name:
            return False
        return bool(helper.get_attribute_value(default) == helper.get_attribute_value(attr))
    except Exception:  # noqa: BLE001 - unknown op/attribute: not a default
        return False


def _model_opset(model: Any) -> int:
    return max(
        (int(o.version) for o in model.opset_import if o.domain in ("", "ai.onnx")), default=0
    )


def _resolve(node: Any, specs: Specs, opset: int) -> _Node:
    """The node against its spec. The model's opset matters only where the node uses an
    attribute, input or output the spec lacks: at an older version of the op than the spec
    follows that is "not applicable" (the op changed), at the same version a failure (a gap
    in the spec). Semantic changes between versions otherwise show up as failures."""
    if node.domain not in ("", "ai.onnx"):
        raise NotApplicable(f"{node.op_type}: domain {node.domain!r} is not ai.onnx")
    spec = specs.by_op_type.get(node.op_type)
    if spec is None:
        raise NotApplicable(f"no spec for ONNX {node.op_type}")
    outputs = list(node.output)
    declared = spec["outputs"]
    gaps: list[str] = []
    n_in = (
        len(spec["inputs"])
        if not (spec["inputs"] and spec["inputs"][-1].get("variadic"))
        else len(node.input)
    )
    inputs = _bind(spec, list(node.input)[:n_in])
    try:
        _bind(spec, list(node.input))
    except SpecGap as exc:
        gaps.append(str(exc))
    attrs: dict[str, Any] = {}
    for a in node.attribute:
        try:
            name, value = convert_attribute(spec, a, specs.dtype_by_id)
        except SpecGap as exc:
            if not _is_onnx_default(node.op_type, opset, a):
                gaps.append(str(exc))
        else:
            attrs[name] = value
    extra = [o for o in outputs[len(declared) :] if o]
    if extra and not (declared and declared[-1].get("variadic")):
        gaps.append(f"{spec['op']}: ONNX output(s) {', '.join(extra)} are not in the spec")
    if gaps:
        have = _onnx_version(node.op_type, opset)
        want = int(spec["onnx"]["since_version"])
        if have is not None and have < want:
            # written for an older version of the op (ReduceMax-13's axes attribute): not a gap
            raise NotApplicable(
                f"{node.op_type}-{have} (opset {opset}) differs from {node.op_type}-{want}, "
                f"which the spec follows: {'; '.join(gaps)}"
            )
    return _Node(spec, inputs, outputs, attrs, "; ".join(gaps))


def _check_dtypes(n: _Node, values: Mapping[str, np.ndarray]) -> None:
    for info, name in n.inputs:
        if name is None:
            continue
        arr = values[name]
        if not isinstance(arr, np.ndarray):
            raise NotApplicable(f"{n.spec['op']}: input {name} is not a tensor")
        dt = _dtype_name(arr)
        if dt not in _admitted(n.spec, info):
            raise NotApplicable(
                f"{n.spec['op']}: {info['name']} is {dt}; the spec admits "
                f"{', '.join(_admitted(n.spec, info))}"
            )


def _run_node(n: _Node, values: dict[str, np.ndarray], device: Any) -> None:
    """Run one node on ``device``, storing its outputs into ``values`` (as numpy arrays)."""
    args: list[Any] = []
    for info, name in n.inputs:
        if name is None:
            args.append(None)
        elif info.get("host_memory"):
            args.append(np.asarray(values[name], order="C"))  # keeps 0-d arrays 0-d
        else:
            args.append(xhal.Tensor.from_numpy(np.asarray(values[name], order="C"), device))
    while args and args[-1] is None:  # trailing absent optionals: leave to the defaults
        args.pop()
    kwargs = dict(n.attrs)
    variadic_out = bool(n.spec["outputs"]) and n.spec["outputs"][-1].get("variadic")
    if (
        variadic_out
        and "num_outputs" in {a["name"] for a in n.spec.get("attributes") or []}
        and all(name is None for _, name in n.inputs[1:])  # no split sizes given
    ):
        kwargs.setdefault("num_outputs", len(n.outputs))
    result = getattr(xhal.ops, n.spec["op"])(*args, **kwargs, device=device)
    results = result if isinstance(result, (tuple, list)) else (result,)
    for name, r in zip(n.outputs, results, strict=False):
        if name:
            values[name] = np.asarray(r.numpy())


@dataclass
class NodeTestResult:
    """What happened to one ONNX test on one device (``outcome`` as in the runner, or
    ``excluded`` / ``not applicable``)."""

    name: str
    op: str
    dtype: str
    device: str
    outcome: str
    message: str = ""
    max_abs_err: float | None = None
    max_rel_err: float | None = None
    shapes: dict[str, Any] = field(default_factory=dict)


def classify(test: Any, specs: Specs) -> tuple[str, list[_Node], str]:
    """(row op, resolved nodes, "" or the not-applicable reason) from the model alone."""
    graph = test.model.graph
    expanded = bool(_EXPANDED.search(test.name))
    first = graph.node[0].op_type if graph.node else "?"
    op = first
    if not expanded and len(graph.node) == 1:
        spec = specs.by_op_type.get(first)
        op = spec["op"] if spec else first
    try:
        if not expanded and len(graph.node) != 1:
            raise NotApplicable(f"{len(graph.node)} nodes in a non-expanded test")
        opset = _model_opset(test.model)
        nodes = [_resolve(node, specs, opset) for node in graph.node]
    except NotApplicable as exc:
        return op, [], str(exc.args[0] if exc.args else exc)
    if expanded:
        base_type = _base_op_type(test.name) or "?"
        base = specs.by_op_type.get(base_type)
        op = f"{base['op'] if base else base_type}[expanded]"
    gaps = "; ".join(n.gap for n in nodes if n.gap)
    return op, nodes, f"!{gaps}" if gaps else ""


@functools.cache
def _op_type_of_test() -> dict[str, str]:
    return {
        t.name: t.model.graph.node[0].op_type for t in load_tests() if len(t.model.graph.node) == 1
    }


def _base_op_type(name: str) -> str | None:
    return _op_type_of_test().get(_EXPANDED.sub("", name))


def _array(value: Any) -> Any:
    """A test datum as numpy: arrays as they are, numpy scalars as 0-d arrays, TensorProtos
    (the loader's form for dtypes numpy lacks) converted; anything else (sequences, optionals)
    unchanged, which makes the test not applicable."""
    from onnx import TensorProto, numpy_helper

    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, np.generic):
        return np.asarray(value)
    if isinstance(value, TensorProto):
        try:
            return numpy_helper.to_array(value)
        except Exception:  # noqa: BLE001 - a dtype numpy cannot hold: not a tensor for us
            return value
    return value


def _inputs(test: Any, data: Sequence[Any]) -> dict[str, Any]:
    from onnx import numpy_helper

    graph = test.model.graph
    values: dict[str, Any] = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    feed = [i.name for i in graph.input if i.name not in values]
    values.update({n: _array(v) for n, v in zip(feed, data, strict=False)})
    return values


def triage(
    test: Any, specs: Specs, exclusions: Mapping[str, str]
) -> tuple[str, list[_Node], NodeTestResult]:
    """Classify a test without running it: ``(status, nodes, result stub)`` where status is
    ``not applicable``, ``excluded``, ``fail`` (a spec that cannot express the node) or ``run``."""
    op, nodes, reason = classify(test, specs)
    result = NodeTestResult(test.name, op, "", "", PASS)
    if reason and not reason.startswith("!"):
        result.outcome, result.message = NOT_APPLICABLE, reason
        return NOT_APPLICABLE, nodes, result
    data_sets = list(test.data_sets or [])
    if not data_sets:
        result.outcome, result.message = NOT_APPLICABLE, "the test has no data"
        return NOT_APPLICABLE, nodes, result
    try:
        for inputs, _ in data_sets:
            values = _inputs(test, inputs)
            result.dtype = result.dtype or ",".join(
                sorted({_dtype_name(v) for v in values.values() if isinstance(v, np.ndarray)})
            )
            result.shapes = result.shapes or {
                k: list(v.shape) for k, v in values.items() if isinstance(v, np.ndarray)
            }
            for n in nodes:  # the nodes reading graph inputs (expanded: later ones at run)
                if all(name is None or name in values for _, name in n.inputs):
                    _check_dtypes(n, values)
            _check_outputs(test, nodes, data_sets)
    except NotApplicable as exc:
        result.outcome, result.message = NOT_APPLICABLE, str(exc)
        return NOT_APPLICABLE, nodes, result
    if test.name in exclusions:
        result.outcome, result.message = EXCLUDED, exclusions[test.name]
        return EXCLUDED, nodes, result
    if reason:
        result.outcome, result.message = FAIL, reason[1:]
        return FAIL, nodes, result
    return "run", nodes, result


def run_test(test: Any, device: Any, specs: Specs, exclusions: Mapping[str, str]) -> NodeTestResult:
    """Classify and (when applicable and not excluded) run one test on one device."""
    status, nodes, result = triage(test, specs, exclusions)
    result.device = str(getattr(device, "name", device))
    if status != "run":
        return result
    messages: list[str] = []
    try:
        for inputs, outputs in test.data_sets:
            values = _inputs(test, inputs)
            for n in nodes:
                _check_dtypes(n, values)
                _run_node(n, values, device)
            names = [o.name for o in test.model.graph.output]
            for name, want in zip(names, [_array(o) for o in outputs], strict=False):
                if name not in values:
                    messages.append(f"{name}: not produced")
                    continue
                cmp = compare(values[name], np.asarray(want), rtol=test.rtol, atol=test.atol)
                for attr in ("max_abs_err", "max_rel_err"):
                    v = getattr(cmp, attr)
                    if v is not None and math.isfinite(v):
                        setattr(result, attr, max(v, getattr(result, attr) or 0.0))
                if not cmp.ok:
                    messages.append(f"{name}: {cmp.message}" if len(names) > 1 else cmp.message)
    except NotApplicable as exc:
        result.outcome, result.message = NOT_APPLICABLE, str(exc)
        return result
    except errors.UnsupportedError as exc:
        result.outcome, result.message = UNSUPPORTED, str(exc)
        return result
    except Exception as exc:  # noqa: BLE001 - every other exception is the "error" outcome
        result.outcome, result.message = ERROR, f"{type(exc).__name__}: {exc}"
        return result
    if messages:
        result.outcome, result.message = FAIL, "; ".join(messages)
    return result


def _check_outputs(test: Any, nodes: list[_Node], data_sets: Sequence[Any]) -> None:
    """Expected outputs must be tensors of dtypes the producing spec admits."""
    producer: dict[str, tuple[_Node, int]] = {}
    for n in nodes:
        for k, name in enumerate(n.outputs):
            producer[name] = (n, k)
    names = [o.name for o in test.model.graph.output]
    for _, outputs in data_sets:
        for name, want in zip(names, [_array(o) for o in outputs], strict=False):
            if not isinstance(want, np.ndarray):
                raise NotApplicable(f"output {name} is not a tensor")
            if name not in producer:
                continue
            n, k = producer[name]
            declared = n.spec["outputs"]
            info = declared[min(k, len(declared) - 1)]
            dt = _dtype_name(want)
            if dt not in _admitted(n.spec, info):
                raise NotApplicable(
                    f"{n.spec['op']}: output {info['name']} is {dt}; the spec admits "
                    f"{', '.join(_admitted(n.spec, info))}"
                )


# --------------------------------------------------------------------------------------------
# Whole runs and their report
# --------------------------------------------------------------------------------------------


@dataclass
class NodeTestReport(Report):
    """A conformance :class:`Report` (applicable tests that ran: pass / fail / unsupported)
    plus the excluded and not-applicable tests and the pass rates."""

    node_results: list[NodeTestResult] = field(default_factory=list)

    def outcome_counts(self) -> Counter[str]:
        return Counter(r.outcome for r in self.node_results)

    @property
    def applicable(self) -> int:
        return sum(1 for r in self.node_results if r.outcome != NOT_APPLICABLE)

    @property
    def excluded(self) -> int:
        return self.outcome_counts()[EXCLUDED]

    @property
    def not_applicable(self) -> int:
        return self.outcome_counts()[NOT_APPLICABLE]

    @property
    def pass_rate(self) -> float:
        """passed / (applicable - excluded); 0 when nothing ran."""
        ran = self.applicable - self.excluded
        return self.passed / ran if ran else 0.0

    @property
    def pass_rate_applicable(self) -> float:
        return self.passed / self.applicable if self.applicable else 0.0

    def extra_lines(self) -> list[str]:
        reasons = Counter(
            _reason_kind(r.message) for r in self.node_results if r.outcome == NOT_APPLICABLE
        )
        top = ", ".join(f"{k}: {n}" for k, n in reasons.most_common())
        ran = self.applicable - self.excluded
        return [
            f"ONNX node tests: {len(self.node_results)} (per device), {self.applicable} "
            f"applicable, {self.excluded} excluded, {self.not_applicable} not applicable"
            + (f" ({top})" if top else ""),
            f"pass rate {self.passed}/{ran} = {100 * self.pass_rate:.1f}% "
            f"(passed/applicable {self.passed}/{self.applicable} = "
            f"{100 * self.pass_rate_applicable:.1f}%)",
        ]

    def extra_json(self) -> dict[str, Any]:
        return {
            "onnx_node_tests": {
                "total": len(self.node_results),
                "applicable": self.applicable,
                "excluded": self.excluded,
                "not_applicable": self.not_applicable,
                "passed": self.passed,
                "failed": self.failed,
                "unsupported": self.unsupported,
                "pass_rate": self.pass_rate,
                "pass_rate_applicable": self.pass_rate_applicable,
                "excluded_tests": {
                    r.name: r.message for r in self.node_results if r.outcome == EXCLUDED
                },
                "not_applicable_tests": {
                    r.name: r.message for r in self.node_results if r.outcome == NOT_APPLICABLE
                },
            }
        }


def _reason_kind(message: str) -> str:
    if message.startswith("no spec for"):
        return "no spec"
    if " admits " in message:
        return "dtype"
    if "which the spec follows" in message:
        return "older op version"
    if "not a tensor" in message:
        return "non-tensor"
    return "other"


def run(
    devices: Sequence[Any],
    filter: Filter = None,  # noqa: A002 - the CLI's word
    *,
    tests: Sequence[Any] | None = None,
    exclusions: Mapping[str, str] | None = None,
    progress: Callable[[Any], None] | None = None,
) -> NodeTestReport:
    """Run the node tests whose name contains (or globs) ``filter`` on every device."""
    from .cases import matches

    specs = Specs.of(xhal.specs())
    excl = load_exclusions() if exclusions is None else exclusions
    report = NodeTestReport(devices=[describe_device(d) for d in devices])
    for test in load_tests() if tests is None else tests:
        if not matches(test.name, filter):
            continue
        for device in devices:
            start = time.perf_counter()
            r = run_test(test, device, specs, excl)
            report.node_results.append(r)
            if r.outcome in (EXCLUDED, NOT_APPLICABLE):
                continue
            cr = CaseResult(
                r.name,
                r.op,
                r.dtype,
                r.device,
                r.outcome,
                r.message,
                r.max_abs_err,
                r.max_rel_err,
                shapes=r.shapes,
                seconds=time.perf_counter() - start,
            )
            report.results.append(cr)
            if progress is not None:
                progress(cr)
    return report
