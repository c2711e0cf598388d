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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import xhal
from xhal import errors

from . import manifest
from .cases import Case, Filter, generate_cases, matches, positional
from .compare import compare, tolerance
from .reference import evaluate
from .values import is_float

PASS, FAIL, UNSUPPORTED, ERROR = "pass", "fail", "unsupported", "error"
# Only with process isolation (see .isolation): the worker died (signal) or ran too long.
CRASHED, TIMEOUT = "crashed", "timeout"
# Only from the runtime checks (see .runtime): memory not given back, a plugin with no device.
LEAK, NO_DEVICE = "leak", "no-device"
OUTCOMES = (PASS, FAIL, UNSUPPORTED, ERROR, CRASHED, TIMEOUT, LEAK, NO_DEVICE)
FAILED_OUTCOMES = (FAIL, ERROR, CRASHED, TIMEOUT, LEAK)
MAX_SAMPLES = 5  # mismatching elements kept per failed output (expected vs got)


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
    # "op" for an op case, "runtime" for a runtime check (then `check` names it).
    kind: str = "op"
    check: str = ""
    # A few mismatching elements of a failed output: {"output", "index", "got", "expected"}.
    samples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.outcome in FAILED_OUTCOMES


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
        """Failures, errors, crashes and timeouts together: each means not conformant."""
        c = self.counts()
        return sum(c[o] for o in FAILED_OUTCOMES)

    @property
    def unsupported(self) -> int:
        return self.counts()[UNSUPPORTED]

    @property
    def no_device(self) -> int:
        return self.counts()[NO_DEVICE]

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


def _json_shapes(case: Case) -> dict[str, Any]:
    return {
        k: None if v is None else [list(m) for m in v] if isinstance(v, list) else list(v)
        for k, v in case.shapes.items()
    }


def _supported_dtypes(device: Any) -> set[str] | None:
    dtypes = (getattr(device, "properties", None) or {}).get("dtypes")
    return None if dtypes is None else {str(d) for d in dtypes}


def strided_view(array: np.ndarray, layout: str) -> np.ndarray:
    """A non-contiguous (or offset) view equal to ``array``, for rank >= 2 arrays of more than
    one element; any other array is returned as is."""
    if array.ndim < 2 or array.size <= 1 or not layout:
        return array
    if layout == "transposed":
        return np.ascontiguousarray(np.swapaxes(array, -1, -2)).swapaxes(-1, -2)
    if layout == "step2":
        buf = np.zeros((*array.shape[:-1], 2 * array.shape[-1]), dtype=array.dtype)
        buf[..., ::2] = array
        return buf[..., ::2]
    if layout == "offset":
        buf = np.zeros(array.size + 1, dtype=array.dtype)
        buf[1:] = array.reshape(-1)
        return buf[1:].reshape(array.shape)
    raise ValueError(f"unknown strided layout {layout!r}")


def _device_name(device: Any) -> str:
    return str(getattr(device, "name", device))


def _upload(case: Case, device: Any, arrays: Mapping[str, Any]) -> list[Any]:
    """The op's positional arguments: tensors on ``device`` (None for absent inputs), a
    variadic input's members spread out. A strided case imports its tensor inputs as views
    through DLPack (no copy); its host_memory inputs stay plain."""
    if not case.layout:
        return [
            None if a is None else xhal.Tensor.from_numpy(a, device)
            for a in positional(case.spec, arrays)
        ]
    host = {i["name"] for i in case.spec["inputs"] if i.get("host_memory")}
    views = {
        k: v
        if k in host or v is None
        else [strided_view(m, case.layout) for m in v]
        if isinstance(v, list)
        else strided_view(v, case.layout)
        for k, v in arrays.items()
    }
    out = []
    for info_name, a in zip(
        _positional_names(case.spec, views), positional(case.spec, views), strict=True
    ):
        if a is None:
            out.append(None)
        elif info_name in host or a.flags.c_contiguous and a.base is None:
            out.append(xhal.Tensor.from_numpy(np.asarray(a, order="C"), device))
        else:
            t = xhal.from_dlpack(a)
            where = getattr(t, "device", None)
            if where is None or getattr(where, "index", None) != getattr(device, "index", -1):
                t = _device_view(a, device)  # a device that cannot read host memory
            out.append(t)
    return out


def _device_view(view: np.ndarray, device: Any) -> Any:
    """The same strided view on ``device``: the view's whole buffer is uploaded and the tensor
    is an ``as_strided`` view into it, with the view's element strides and offset."""
    base = view
    while isinstance(base.base, np.ndarray):
        base = base.base
    if not base.flags.c_contiguous:
        raise errors.UnsupportedError(f"cannot rebuild this strided view on {_device_name(device)}")
    item = view.itemsize
    offset_bytes = view.__array_interface__["data"][0] - base.__array_interface__["data"][0]
    if offset_bytes % item or any(s % item or s < 0 for s in view.strides):
        raise errors.UnsupportedError(f"cannot rebuild this strided view on {_device_name(device)}")
    buffer = xhal.Tensor.from_numpy(base.reshape(-1), device)
    return buffer.as_strided(view.shape, [s // item for s in view.strides], offset_bytes // item)


def _positional_names(spec: Mapping[str, Any], values: Mapping[str, Any]) -> list[str]:
    names: list[str] = []
    for i in spec["inputs"]:
        v = values.get(i["name"])
        names += [i["name"]] * len(v or []) if i.get("variadic") else [i["name"]]
    return names


def output_names(spec: Mapping[str, Any], count: int) -> list[str]:
    """Names of ``count`` results: the spec's outputs, a variadic one's as ``Y[0]``, ``Y[1]``..."""
    outs = spec["outputs"]
    if outs and outs[-1].get("variadic"):
        return [o["name"] for o in outs[:-1]] + [
            f"{outs[-1]['name']}[{k}]" for k in range(count - len(outs) + 1)
        ]
    return [o["name"] for o in outs]


def _download(case: Case, result: Any) -> dict[str, np.ndarray]:
    results = result if isinstance(result, (tuple, list)) else (result,)
    names = output_names(case.spec, len(results))
    if len(results) != len(names):
        raise errors.XhalError(
            f"{case.op} returned {len(results)} outputs, the spec has {len(names)}"
        )
    return {n: np.asarray(r.numpy()) for n, r in zip(names, results, strict=True)}


def _call(case: Case, device: Any, arrays: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Upload, run ``xhal.ops.<op>``, download; returns ``{output name: array}``."""
    result = getattr(xhal.ops, case.op)(*_upload(case, device, arrays), **dict(case.attrs),
                                        device=device)
    return _download(case, result)


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
        shapes=_json_shapes(case),
        attrs=_jsonable(dict(case.attrs)),
    )
    return _execute(result, case, device, arrays, expected,
                    lambda: _call(case, device, arrays))


def _execute(
    result: CaseResult,
    case: Case,
    device: Any,
    arrays: Mapping[str, np.ndarray | None],
    expected: Mapping[str, np.ndarray],
    call: Callable[[], dict[str, np.ndarray]],
) -> CaseResult:
    """The part every way of running a case shares: the device's dtype gate, the timed call
    (UnsupportedError -> unsupported, any other exception -> error) and the judgement."""
    supported = _supported_dtypes(device)
    missing = [] if supported is None else sorted(set(case.types.values()) - supported)
    if missing:
        result.outcome = UNSUPPORTED
        result.message = f"device does not list dtype(s) {', '.join(missing)}"
        return result
    start = time.perf_counter()
    try:
        got = call()
    except errors.UnsupportedError as exc:
        result.outcome, result.message = UNSUPPORTED, str(exc)
        return result
    except Exception as exc:  # noqa: BLE001 - every other exception is the "error" outcome
        result.outcome, result.message = ERROR, f"{type(exc).__name__}: {exc}"
        return result
    finally:
        result.seconds = time.perf_counter() - start
    expected = manifest.reference(case, device, arrays, expected)
    _judge(result, case, got, expected, device)
    return result


def _judge(
    result: CaseResult,
    case: Case,
    got: Mapping[str, np.ndarray],
    expected: Mapping[str, np.ndarray],
    device: Any = None,
) -> None:
    """Compare every output (each member of a variadic one) and set the outcome; a plugin
    manifest may name the dtype whose tolerance applies (see .manifest)."""
    messages = []
    out_dtypes = case.output_dtypes()
    if set(got) != set(expected):
        result.outcome = FAIL
        result.message = f"outputs {sorted(got)} != expected {sorted(expected)}"
        return
    for name, want in expected.items():
        dtype = out_dtypes[name.split("[", 1)[0]]
        rtol, atol = tolerance(case.spec, manifest.tolerance_dtype(device, case, dtype))
        cmp = compare(got[name], want, rtol=rtol, atol=atol)
        for attr in ("max_abs_err", "max_rel_err"):
            value = getattr(cmp, attr)
            if value is not None:
                setattr(result, attr, max(value, getattr(result, attr) or 0.0))
        if not cmp.ok:
            messages.append(f"{name}: {cmp.message}" if len(expected) > 1 else cmp.message)
            result.samples += mismatch_samples(name, got[name], want, rtol, atol)
    if messages:
        result.outcome, result.message = FAIL, "; ".join(messages)


def _scalar(value: Any) -> Any:
    """A JSON-friendly element: numbers stay numbers, NaN and infinities become text."""
    item = value.item() if hasattr(value, "item") else value
    if isinstance(item, float) and not np.isfinite(item):
        return str(item)
    return item if isinstance(item, (bool, int, float)) else str(item)


def mismatch_samples(
    name: str, got: np.ndarray, want: np.ndarray, rtol: float, atol: float,
    limit: int = MAX_SAMPLES,
) -> list[dict[str, Any]]:
    """Up to ``limit`` elements where ``got`` and ``want`` differ (same rules as compare)."""
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape or want.size == 0:
        return []
    if is_float(want.dtype):
        g, e = got.astype(np.float64), want.astype(np.float64)
        with np.errstate(all="ignore"):
            finite = np.isfinite(g) & np.isfinite(e)
            bad = np.isnan(g) != np.isnan(e)
            bad |= ~np.isnan(g) & ~np.isnan(e) & ~finite & (g != e)
            bad |= finite & (np.abs(g - e) > atol + rtol * np.abs(e))
    else:
        bad = got != want
    out = []
    for flat in np.flatnonzero(bad)[:limit]:
        idx = tuple(int(i) for i in np.unravel_index(int(flat), want.shape))
        out.append({"output": name, "index": list(idx), "got": _scalar(got[idx]),
                    "expected": _scalar(want[idx])})
    return out


def decomposed_id(case: Case) -> str:
    """``softmax/float32/case0`` -> ``softmax[decomposed]/float32/case0``."""
    return f"{case.op}[decomposed]/{case.id.split('/', 1)[1]}"


def run_decomposed(
    case: Case,
    device: Any,
    arrays: Mapping[str, np.ndarray | None],
    expected: Mapping[str, np.ndarray],
) -> CaseResult:
    """Run one case through the op's spec decomposition (``xhal.decompose``), compare with the
    reference under the op's tolerance; reported as op ``<op>[decomposed]``."""
    from xhal import decompose

    result = CaseResult(
        decomposed_id(case),
        f"{case.op}[decomposed]",
        case.dtype,
        _device_name(device),
        PASS,
        shapes=_json_shapes(case),
        attrs=_jsonable(dict(case.attrs)),
    )
    def call() -> dict[str, np.ndarray]:
        inputs = tuple(_upload(case, device, arrays))
        return _download(
            case, decompose.run_decomposition(case.op, inputs, dict(case.attrs), device)
        )

    return _execute(result, case, device, arrays, expected, call)


def run(
    devices: Sequence[Any],
    filter: Filter = None,  # the CLI's word, though it shadows the builtin
    *,
    cases: Iterable[Case] | None = None,
    progress: Callable[[CaseResult], None] | None = None,
    decompositions: bool = True,
) -> Report:
    """Run every case matching ``filter`` (substring or glob of the case id) on every device.

    Ops whose spec has a ``decomposition`` also run each (contiguous) case through it, as op
    ``<op>[decomposed]`` rows; the filter selects those by either id.
    """
    if cases is None:
        cases = generate_cases(xhal.specs())
    report = Report(devices=[describe_device(d) for d in devices])
    for case, plain, decomposed in select(cases, filter, decompositions):
        prepared = prepare(case)
        for device in devices:
            rows = []
            if plain:
                rows.append(run_prepared(case, device, prepared, decomposed=False))
            if decomposed:
                rows.append(run_prepared(case, device, prepared, decomposed=True))
            for r in rows:
                report.results.append(r)
                if progress is not None:
                    progress(r)
    return report


def select(
    cases: Iterable[Case], filter: Filter, decompositions: bool = True
) -> Iterator[tuple[Case, bool, bool]]:
    """``(case, run it plainly, run it through its decomposition)`` for the cases ``filter``
    selects (by the case id or by its ``<op>[decomposed]`` id)."""
    for case in cases:
        plain = matches(case.id, filter)
        decomposed = (
            decompositions
            and not case.layout
            and bool((case.spec.get("decomposition") or {}).get("body"))
            and (plain or matches(decomposed_id(case), filter))
        )
        if plain or decomposed:
            yield case, plain, decomposed


Prepared = tuple[Any, Any, str]  # (arrays, expected, "" or why the reference failed)


def prepare(case: Case) -> Prepared:
    """A case's inputs and reference outputs (or the reason the reference failed)."""
    try:
        arrays = case.arrays()
        expected = evaluate(case.spec, arrays, case.attrs, case.output_dtypes())
    except Exception as exc:  # noqa: BLE001 - a broken reference is reported, not fatal
        return None, None, f"reference failed: {type(exc).__name__}: {exc}"
    return arrays, expected, ""


def run_prepared(case: Case, device: Any, prepared: Prepared, *, decomposed: bool) -> CaseResult:
    """One row: the case on ``device``, plainly or through the op's decomposition."""
    arrays, expected, broken = prepared
    if broken:
        if decomposed:
            return CaseResult(
                decomposed_id(case),
                f"{case.op}[decomposed]",
                case.dtype,
                _device_name(device),
                ERROR,
                broken,
            )
        return CaseResult(case.id, case.op, case.dtype, _device_name(device), ERROR, broken)
    if decomposed:
        return run_decomposed(case, device, arrays, expected)
    return run_case(case, device, arrays, expected)
