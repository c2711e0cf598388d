"""Run conformance cases on devices through the public Python API and collect outcomes.

Outcomes per (case, device):

- ``pass``: every output matches the reference within the spec's tolerance;
- ``fail``: an output differs (the comparison says where and by how much);
- ``unsupported``: the device lists no such dtype in ``properties["dtypes"]``, or the call raised
  ``UnsupportedError`` (no kernel for that op / dtype signature) — not a failure;
- ``error``: any other exception, counted as failed.

The inputs and the reference are built once per case and shared by all devices.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import xhal
from xhal import errors

from .cases import Case, generate_cases, matches
from .compare import compare, tolerance
from .reference import evaluate

PASS, FAIL, UNSUPPORTED, ERROR = "pass", "fail", "unsupported", "error"
OUTCOMES = (PASS, FAIL, UNSUPPORTED, ERROR)


@dataclass
class CaseResult:
    """The outcome of one case on one device."""

    id: str
    op: str
    dtype: str
    device: str
    outcome: str
    message: str = ""
    max_abs_err: float | None = None
    max_rel_err: float | None = None
    shapes: dict[str, list[int] | None] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return self.outcome in (FAIL, ERROR)


@dataclass
class Report:
    """Every result of a run, plus a description of the devices it ran on."""

    devices: list[dict[str, Any]]
    results: list[CaseResult] = field(default_factory=list)

    def counts(self) -> Counter[str]:
        return Counter(r.outcome for r in self.results)

    @property
    def passed(self) -> int:
        return self.counts()[PASS]

    @property
    def failed(self) -> int:
        """Failures and errors together: both mean the device is not conformant."""
        c = self.counts()
        return c[FAIL] + c[ERROR]

    @property
    def unsupported(self) -> int:
        return self.counts()[UNSUPPORTED]

    @property
    def ok(self) -> bool:
        """True when something ran and nothing failed."""
        return self.failed == 0 and self.passed > 0


def describe_device(device: Any) -> dict[str, Any]:
    """A JSON-friendly description of a device."""
    props = getattr(device, "properties", {}) or {}
    return {
        "name": str(getattr(device, "name", device)),
        "device_type": str(getattr(device, "device_type", "")),
        "plugin_path": str(getattr(device, "plugin_path", "") or ""),
        "properties": {k: _jsonable(v) for k, v in dict(props).items()},
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    return str(value)


def _supported_dtypes(device: Any) -> set[str] | None:
    dtypes = (getattr(device, "properties", None) or {}).get("dtypes")
    return None if dtypes is None else {str(d) for d in dtypes}


def _call(
    case: Case, device: Any, arrays: Mapping[str, np.ndarray | None]
) -> dict[str, np.ndarray]:
    """Upload, run ``xhal.ops.<op>``, download; returns ``{output name: array}``."""
    tensors = [
        None if arrays[i["name"]] is None else xhal.Tensor.from_numpy(arrays[i["name"]], device)
        for i in case.spec["inputs"]
    ]
    result = getattr(xhal.ops, case.op)(*tensors, **dict(case.attrs))
    results = result if isinstance(result, (tuple, list)) else (result,)
    names = [o["name"] for o in case.spec["outputs"]]
    if len(results) != len(names):
        raise errors.XhalError(
            f"{case.op} returned {len(results)} outputs, the spec has {len(names)}"
        )
    return {n: np.asarray(r.numpy()) for n, r in zip(names, results, strict=True)}


def run_case(
    case: Case,
    device: Any,
    arrays: Mapping[str, np.ndarray | None],
    expected: Mapping[str, np.ndarray],
) -> CaseResult:
    """Run one prepared case on one device and classify the outcome."""
    result = CaseResult(
        case.id,
        case.op,
        case.dtype,
        str(getattr(device, "name", device)),
        PASS,
        shapes={k: None if v is None else list(v) for k, v in case.shapes.items()},
        attrs=_jsonable(dict(case.attrs)),
    )
    supported = _supported_dtypes(device)
    missing = [] if supported is None else sorted(set(case.types.values()) - supported)
    if missing:
        result.outcome = UNSUPPORTED
        result.message = f"device does not list dtype(s) {', '.join(missing)}"
        return result
    start = time.perf_counter()
    try:
        got = _call(case, device, arrays)
    except errors.UnsupportedError as exc:
        result.outcome, result.message = UNSUPPORTED, str(exc)
        return result
    except Exception as exc:  # noqa: BLE001 - every other exception is the "error" outcome
        result.outcome, result.message = ERROR, f"{type(exc).__name__}: {exc}"
        return result
    finally:
        result.seconds = time.perf_counter() - start
    messages = []
    out_dtypes = case.output_dtypes()
    for name, want in expected.items():
        rtol, atol = tolerance(case.spec, out_dtypes[name])
        cmp = compare(got[name], want, rtol=rtol, atol=atol)
        for attr in ("max_abs_err", "max_rel_err"):
            value = getattr(cmp, attr)
            if value is not None:
                setattr(result, attr, max(value, getattr(result, attr) or 0.0))
        if not cmp.ok:
            messages.append(f"{name}: {cmp.message}" if len(expected) > 1 else cmp.message)
    if messages:
        result.outcome, result.message = FAIL, "; ".join(messages)
    return result


def run(
    devices: Sequence[Any],
    filter: str | None = None,  # the CLI's word, though it shadows the builtin
    *,
    cases: Iterable[Case] | None = None,
    progress: Callable[[CaseResult], None] | None = None,
) -> Report:
    """Run every case matching ``filter`` (substring or glob of the case id) on every device."""
    if cases is None:
        cases = generate_cases(xhal.specs())
    report = Report(devices=[describe_device(d) for d in devices])
    for case in cases:
        if not matches(case.id, filter):
            continue
        try:
            arrays = case.arrays()
            expected = evaluate(case.spec, arrays, case.attrs, case.output_dtypes())
        except Exception as exc:  # noqa: BLE001 - a broken reference is reported, not fatal
            broken = f"reference failed: {type(exc).__name__}: {exc}"
        else:
            broken = ""
        for device in devices:
            if broken:
                name = str(getattr(device, "name", device))
                r = CaseResult(case.id, case.op, case.dtype, name, ERROR, broken)
            else:
                r = run_case(case, device, arrays, expected)
            report.results.append(r)
            if progress is not None:
                progress(r)
    return report
