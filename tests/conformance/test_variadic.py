"""Variadic operands: a made-up variadic-input op (max of n) and a variadic-output op (split in
n), through case generation, references, the runner and reports, on a fake numpy device."""

from __future__ import annotations

import types
from typing import Any

import numpy as np
import pytest

import xhal
from xhal.conformance import reference, runner
from xhal.conformance.cases import BINARY_SHAPES, op_cases, positional


def _vmax(*xs: np.ndarray) -> np.ndarray:
    return (
        np.maximum.reduce(np.broadcast_arrays(*xs)).astype(xs[0].dtype)
        if len(xs) > 1
        else xs[0].copy()
    )


def _vsplit(X: np.ndarray, *, num_outputs: int) -> tuple[np.ndarray, ...]:
    return tuple(np.array_split(X, num_outputs, axis=0))


VMAX = {
    "op": "vmax",
    "op_id": 60001,
    "version": 1,
    "type_vars": {"T": ["float32", "int32"]},
    "inputs": [{"name": "data_0", "type": "T", "variadic": True, "doc": "operands"}],
    "outputs": [{"name": "max", "type": "T", "doc": "max"}],
    "attributes": [],
    "reference": "test_vmax",
    "tolerance": {"float32": {"rtol": 0, "atol": 0}},
    "conformance": {"shapes": "broadcast_binary"},
}
VMAX_EXPLICIT = dict(
    VMAX,
    conformance={
        "shapes": "explicit",
        "cases": [
            {"inputs": {"data_0": [[2, 4], [4], [1, 4]]}},
            {"inputs": {"data_0": [[2]]}, "values": {"data_0": [[1, 5]]}},
            {"inputs": {"data_0": [[2], [2]]}, "values": {"data_0": [[1, 5], [4, 2]]}},
        ],
    },
)
VSPLIT = {
    "op": "vsplit",
    "op_id": 60002,
    "version": 1,
    "type_vars": {"T": ["float32"]},
    "inputs": [{"name": "X", "type": "T", "doc": "input"}],
    "outputs": [{"name": "Y", "type": "T", "variadic": True, "doc": "pieces"}],
    "attributes": [{"name": "num_outputs", "type": "int", "default": 2, "doc": "pieces"}],
    "reference": "test_vsplit",
    "tolerance": {"float32": {"rtol": 0, "atol": 0}},
    "conformance": {
        "shapes": "explicit",
        "special_values": False,
        "cases": [
            {"inputs": {"X": [4, 3]}},
            {"inputs": {"X": [5, 2]}, "attrs": {"num_outputs": 3}},
        ],
    },
}


@pytest.fixture(autouse=True)
def _references(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(reference.REFERENCES, "test_vmax", _vmax)
    monkeypatch.setitem(reference.REFERENCES, "test_vsplit", _vsplit)


class FakeTensor:
    def __init__(self, array: np.ndarray) -> None:
        self.array = np.array(array)

    @classmethod
    def from_numpy(cls, array: np.ndarray, device: Any) -> FakeTensor:
        return cls(array)

    def numpy(self) -> np.ndarray:
        return self.array.copy()


class FakeDevice:
    name = "fake:0"
    device_type = "xhal.fake"
    index = 0
    plugin_path = ""
    properties: dict = {}


def _install(monkeypatch: pytest.MonkeyPatch, calls: list, drop_last: bool = False) -> None:
    def vmax(*tensors: FakeTensor, device: Any = None) -> FakeTensor:
        calls.append(("vmax", len(tensors)))
        return FakeTensor(_vmax(*[t.array for t in tensors]))

    def vsplit(x: FakeTensor, *, num_outputs: int = 2,
               device: Any = None) -> tuple[FakeTensor, ...]:
        calls.append(("vsplit", num_outputs))
        out = tuple(FakeTensor(a) for a in _vsplit(x.array, num_outputs=num_outputs))
        return out[:-1] if drop_last else out

    def from_dlpack(view: np.ndarray) -> FakeTensor:
        assert not view.flags.c_contiguous or view.base is not None  # a real view
        calls.append(("strided", view.strides))
        t = FakeTensor(view)
        t.device = FakeDevice()  # type: ignore[attr-defined]
        return t

    monkeypatch.setattr(xhal, "Tensor", FakeTensor, raising=False)
    monkeypatch.setattr(xhal, "from_dlpack", from_dlpack, raising=False)
    monkeypatch.setattr(xhal, "ops", types.SimpleNamespace(vmax=vmax, vsplit=vsplit), raising=False)


def test_broadcast_grid_has_one_two_and_three_operand_variants() -> None:
    cases = op_cases(VMAX)
    counts = {len(c.shapes["data_0"]) for c in cases}
    assert counts == {1, 2, 3}
    two = [
        tuple(c.shapes["data_0"])
        for c in cases
        if c.dtype == "float32"
        and "broadcast" in c.id
        and "+" not in c.id
        and len(c.shapes["data_0"]) == 2
    ]
    assert two == list(BINARY_SHAPES)
    ids = {c.id for c in cases}
    assert "vmax/float32/broadcast[3,1]x[1,4]" in ids
    assert "vmax/float32/broadcast[2,1,4]x[1,3,1]x[4]" in ids
    assert "vmax/int32/broadcast[3,4]" in ids
    special = next(c for c in cases if c.id == "vmax/float32/special")
    arrays = special.arrays()["data_0"]
    assert len(arrays) == 2 and arrays[0].shape == arrays[1].shape and np.isnan(arrays[0]).any()
    edges = next(c for c in cases if c.id == "vmax/int32/edges").arrays()["data_0"]
    assert len(edges) == 2 and edges[0].dtype == np.int32
    three = next(c for c in cases if c.id == "vmax/float32/broadcast[2,1,4]x[1,3,1]x[4]")
    got = three.arrays()["data_0"]
    assert [a.shape for a in got] == [(2, 1, 4), (1, 3, 1), (4,)]
    assert three.elements == 8 + 3 + 4
    assert positional(VMAX, {"data_0": got}) == got


def test_explicit_variadic_shapes_and_values() -> None:
    cases = {c.id: c for c in op_cases(VMAX_EXPLICIT)}
    c0 = cases["vmax/float32/case0"]
    assert c0.shapes == {"data_0": [(2, 4), (4,), (1, 4)]}
    assert [a.shape for a in c0.arrays()["data_0"]] == [(2, 4), (4,), (1, 4)]
    c2 = cases["vmax/int32/case2"].arrays()["data_0"]
    assert [a.tolist() for a in c2] == [[1, 5], [4, 2]]
    out = reference.evaluate(VMAX_EXPLICIT, {"data_0": c2}, {}, {"max": "int32"})
    assert out["max"].tolist() == [4, 5]
    # special values are injected into the mid-sized base case, into each float member
    specials = [c for c in cases if c.startswith("vmax/float32/case0+")]
    assert "vmax/float32/case0+nan" in specials
    nan = cases["vmax/float32/case0+nan"].arrays()["data_0"]
    assert all(np.isnan(a.reshape(-1)[0]) for a in nan)


def test_runner_passes_variadic_operands_and_compares_every_output(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list = []
    _install(monkeypatch, calls)
    cases = op_cases(VMAX, max_elements=4096) + op_cases(VMAX_EXPLICIT) + op_cases(VSPLIT)
    report = runner.run([FakeDevice()], cases=cases)
    assert report.failed == 0 and report.passed == len(cases), [
        (r.id, r.message) for r in report.results if r.failed
    ]
    assert {n for op, n in calls if op == "vmax"} == {1, 2, 3}
    assert ("vsplit", 3) in calls
    strided = [c for c in cases if c.layout]
    assert {c.layout for c in strided} == {"transposed", "step2", "offset"}
    assert all(c.id.endswith("+strided") for c in strided)
    assert sum(1 for c in calls if c[0] == "strided") >= len(strided)
    r = next(r for r in report.results if r.id == "vmax/float32/case0")
    assert r.shapes == {"data_0": [[2, 4], [4], [1, 4]]}


def test_a_missing_or_wrong_variadic_output_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    _install(monkeypatch, [], drop_last=True)
    report = runner.run([FakeDevice()], cases=op_cases(VSPLIT))
    assert report.failed == len(report.results) > 0
    assert "Y[1]" in report.results[0].message or "Y[2]" in report.results[0].message

    def wrong(x: FakeTensor, *, num_outputs: int = 2,
              device: Any = None) -> tuple[FakeTensor, ...]:
        out = [FakeTensor(a) for a in _vsplit(x.array, num_outputs=num_outputs)]
        out[-1].array = out[-1].array + 1
        return tuple(out)

    monkeypatch.setattr(xhal.ops, "vsplit", wrong)
    report = runner.run([FakeDevice()], cases=op_cases(VSPLIT))
    assert report.failed == len(report.results)
    assert all(r.message.startswith("Y[") for r in report.results)
