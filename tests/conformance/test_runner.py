"""Runner outcomes, reports and CLI, against a fake numpy device (no plugin needed).

The fake device runs the references themselves, so it passes by construction; each test then
breaks one thing (a wrong value, an exception, a missing dtype) and checks the outcome.
"""

from __future__ import annotations

import io
import json
import types
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import xhal
from xhal import errors
from xhal.conformance import cli, reference, runner
from xhal.conformance.cases import generate_cases
from xhal.conformance.report import SCHEMA, print_report, to_json


class FakeDevice:
    def __init__(self, name: str, dtypes: list[str] | None) -> None:
        self.name = name
        self.device_type = "xhal.fake"
        self.index = 0
        self.plugin_path = "/nowhere/libfake.so"
        self.properties = {"name": name, "vendor": "tests", "kind": "cpu"}
        if dtypes is not None:
            self.properties["dtypes"] = dtypes


class FakeTensor:
    def __init__(self, array: np.ndarray) -> None:
        self.array = np.array(array)

    @classmethod
    def from_numpy(cls, array: np.ndarray, device: Any) -> FakeTensor:
        return cls(array)

    def numpy(self) -> np.ndarray:
        return self.array.copy()


def _output_dtypes(spec: dict, given: list, attrs: dict) -> dict[str, str]:
    """Output dtypes of a fake call: type variables bound by the inputs, else what the
    attributes say (a dtype attribute, a tensor attribute's dtype, Constant's value_int(s) /
    value_float(s)), else the first dtype the variable admits: the dispatcher's own rule."""
    from xhal._dispatch import _dtype_from_attrs

    bound: dict[str, str] = {}
    unbound = {o["type"] for o in spec["outputs"]} - {i["type"] for i in spec["inputs"]}
    for tv in unbound & set(spec["type_vars"]):
        bound[tv] = _dtype_from_attrs(spec, attrs, tv)
    for i, a in zip(spec["inputs"], given, strict=False):
        if a is not None:
            bound.setdefault(i["type"], str(a.dtype))
    if spec["inputs"] and spec["inputs"][-1].get("variadic") and given:
        bound.setdefault(spec["inputs"][-1]["type"], str(given[-1].dtype))
    return {
        o["name"]: bound.get(o["type"], spec["type_vars"].get(o["type"], [o["type"]])[0])
        for o in spec["outputs"]
    }


def _fake_from_dlpack(view: np.ndarray) -> FakeTensor:
    """A strided case's inputs come as views: keep them as they are (the fake device is the
    host), on device index 0 like every FakeDevice."""
    t = FakeTensor(view)
    t.device = types.SimpleNamespace(index=0, name="fake")  # type: ignore[attr-defined]
    return t


def _fake_ops(specs: dict, tamper: Callable[[str, np.ndarray], np.ndarray] | None = None) -> Any:
    def make(op: str) -> Callable[..., FakeTensor]:
        spec = specs["ops"][op]

        def call(*tensors: FakeTensor | None, **attrs: Any) -> Any:
            given = [None if t is None else t.array for t in tensors]
            arrays: dict[str, Any] = {}
            for k, i in enumerate(spec["inputs"]):
                if i.get("variadic"):
                    arrays[i["name"]] = given[k:]
                else:
                    arrays[i["name"]] = given[k] if k < len(given) else None
            dtypes = _output_dtypes(spec, given, attrs)
            out = reference.evaluate(spec, arrays, attrs, dtypes)
            ys = [FakeTensor(tamper(op, y) if tamper else y) for y in out.values()]
            return ys[0] if len(ys) == 1 and not spec["outputs"][-1].get("variadic") else tuple(ys)

        return call

    return types.SimpleNamespace(**{op: make(op) for op in specs["ops"]})


@pytest.fixture()
def specs() -> dict:
    return xhal.specs()


@pytest.fixture()
def small_cases(specs: dict) -> list:
    return generate_cases(specs, max_elements=4096)


@pytest.fixture()
def fake_runtime(monkeypatch: pytest.MonkeyPatch, specs: dict) -> Callable[..., None]:
    def install(tamper: Callable[[str, np.ndarray], np.ndarray] | None = None) -> None:
        monkeypatch.setattr(xhal, "Tensor", FakeTensor, raising=False)
        monkeypatch.setattr(xhal, "from_dlpack", _fake_from_dlpack, raising=False)
        monkeypatch.setattr(xhal, "ops", _fake_ops(specs, tamper), raising=False)

    return install


def test_all_pass_on_a_correct_device(fake_runtime: Callable, small_cases: list) -> None:
    fake_runtime()
    # decompositions run real xhal ops, which the fake device cannot: plain rows only
    report = runner.run([FakeDevice("fake:0", None)], cases=small_cases, decompositions=False)
    assert report.failed == 0 and report.passed == len(small_cases) and report.ok


def test_wrong_values_fail_with_details(fake_runtime: Callable, small_cases: list) -> None:
    def off_by_one(op: str, y: np.ndarray) -> np.ndarray:
        if op != "gemm" or y.size == 0:
            return y
        y = y.copy()
        y.reshape(-1)[-1] += 1
        return y

    fake_runtime(off_by_one)
    report = runner.run([FakeDevice("fake:0", None)], "gemm/float32", cases=small_cases)
    fails = [r for r in report.results if r.outcome == runner.FAIL]
    assert fails and report.failed == len(fails)
    r = next(r for r in fails if r.id == "gemm/float32/case6")
    assert "1 of 15 elements differ" in r.message and "first at [2, 4]" in r.message
    assert r.shapes == {"A": [3, 4], "B": [5, 4], "C": [1, 5]}
    assert r.attrs == {"trans_b": 1, "alpha": 0.5, "beta": 2.0}
    assert r.max_abs_err == pytest.approx(1.0, rel=1e-3)
    # Zero-sized outputs cannot be wrong, so they pass.
    assert any(x.outcome == runner.PASS and x.id == "gemm/float32/case8" for x in report.results)


def test_unsupported_and_error_outcomes(
    fake_runtime: Callable, monkeypatch: pytest.MonkeyPatch, small_cases: list
) -> None:
    fake_runtime()
    ops = xhal.ops

    def no_kernel(*args: Any, **kwargs: Any) -> Any:
        raise errors.UnsupportedError("no kernel for exp/float64")

    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("kernel exploded")

    monkeypatch.setattr(ops, "exp", no_kernel)
    monkeypatch.setattr(ops, "sigmoid", explode)
    only_f32 = FakeDevice("npu:0", ["float32"])
    # plain rows only: decompositions run real xhal ops, which the fake device cannot
    report = runner.run([only_f32], "*/float*/unary[7]", cases=small_cases, decompositions=False)
    by_id = {r.id: r for r in report.results}
    assert by_id["exp/float32/unary[7]"].outcome == runner.UNSUPPORTED
    assert "no kernel" in by_id["exp/float32/unary[7]"].message
    assert by_id["exp/float16/unary[7]"].outcome == runner.UNSUPPORTED
    assert "does not list dtype(s) float16" in by_id["exp/float16/unary[7]"].message
    assert by_id["sigmoid/float32/unary[7]"].outcome == runner.ERROR
    assert by_id["sigmoid/float32/unary[7]"].message == "RuntimeError: kernel exploded"
    assert by_id["relu/float32/unary[7]"].outcome == runner.PASS
    assert report.failed == 1 and report.passed == 1  # float64/float16 are not listed: unsupported
    assert report.unsupported == 7


def test_report_text_and_json(fake_runtime: Callable, small_cases: list, tmp_path: Any) -> None:
    def break_relu(op: str, y: np.ndarray) -> np.ndarray:
        return y + 1 if op == "relu" else y

    fake_runtime(break_relu)
    devices = [FakeDevice("fake:0", None), FakeDevice("fake:1", ["float32"])]
    report = runner.run(devices, "unary[7]", cases=small_cases, decompositions=False)
    buf = io.StringIO()
    print_report(report, buf)
    lines = buf.getvalue().rstrip("\n").splitlines()
    assert lines[-1] == f"{report.passed} passed, {report.failed} failed"
    assert lines[-2].startswith(f"{report.unsupported} unsupported")
    assert report.failed > 0 and "FAIL relu/float32/unary[7] on fake:0" in buf.getvalue()
    doc = to_json(report)
    assert doc["schema"] == SCHEMA
    assert [d["name"] for d in doc["devices"]] == ["fake:0", "fake:1"]
    assert doc["summary"] == {
        "passed": report.passed,
        "failed": report.failed,
        "unsupported": report.unsupported,
        "no_device": 0,
    }
    assert doc["runtime"] == {"devices": {}}
    keys = {
        "id",
        "op",
        "dtype",
        "device",
        "outcome",
        "message",
        "max_abs_err",
        "max_rel_err",
        "shapes",
        "attrs",
        # added without breaking the schema: op or runtime row, runtime check name,
        # mismatching elements (expected vs got), time
        "kind",
        "check",
        "samples",
        "seconds",
    }
    assert all(set(c) == keys for c in doc["cases"])
    failed = [c for c in doc["cases"] if c["outcome"] == "fail"]
    assert failed and all(c["samples"] and {"index", "got", "expected"} <= set(c["samples"][0])
                          for c in failed)
    json.loads(json.dumps(doc, allow_nan=False))  # strict JSON: no NaN or Infinity


def test_cli_exit_status_and_json(
    fake_runtime: Callable,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
    capsys: pytest.CaptureFixture,
) -> None:
    fake_runtime()
    cpu = FakeDevice("cpu:0", None)
    monkeypatch.setattr(xhal, "devices", lambda: [cpu], raising=False)

    def load_plugin(path: str) -> list:
        if "broken" in path:
            raise errors.PluginLoadError(f"{path}: cannot open shared object file")
        return [FakeDevice("npu:0", ["float16"])]

    monkeypatch.setattr(xhal, "load_plugin", load_plugin, raising=False)
    out = tmp_path / "report.json"
    assert (
        cli.main(
            [
                "--in-process",
                "--filter",  # exp: an op without a decomposition, whose rows the fake cannot run
                "exp/*/unary[7]",
                "--plugin",
                "libnpu.so",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    doc = json.loads(out.read_text())
    assert {c["device"] for c in doc["cases"]} == {"cpu:0", "npu:0"}
    assert (
        capsys.readouterr().out.rstrip().splitlines()[-1]
        == f"{doc['summary']['passed']} passed, 0 failed"
    )
    assert (
        cli.main(
            [
                "--in-process",
                "--device",
                "npu:0",
                "--plugin",
                "libnpu.so",
                "--filter",
                "exp/float32/unary[7]",
            ]
        )
        == 1
    )
    assert "0 passed, 0 failed" in capsys.readouterr().out  # nothing ran: not green
    assert cli.main(["--in-process", "--filter", "no-such-case"]) == 1
    assert cli.main(["--plugin", "broken.so"]) == 2
    assert "cannot open shared object" in capsys.readouterr().err
    assert cli.main(["conformance", "--list", "--filter", "gemm/float16/case1"]) == 0
    assert "gemm/float16/case1" in capsys.readouterr().out.split()
    # --filter is repeatable: cases matching any of the patterns
    assert cli.main(["conformance", "--list", "--filter", "gemm/float16/case1", "--filter",
                     "add/float32/broadcast[]x[]"]) == 0
    listed = capsys.readouterr().out.split()
    assert "gemm/float16/case1" in listed and "add/float32/broadcast[]x[]" in listed
