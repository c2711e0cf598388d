"""Decomposition checks: ops with a spec ``decomposition`` also run every case through it, as
``<op>[decomposed]`` rows. A made-up composite op (A * B + C as mul then add) on the CPU."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

import xhal
from xhal.conformance import reference, runner
from xhal.conformance.cases import op_cases
from xhal.conformance.report import print_report

MULADD = {
    "op": "muladd",
    "op_id": 60010,
    "version": 1,
    "type_vars": {"T": ["float32", "int32"]},
    "inputs": [
        {"name": "A", "type": "T", "doc": "a"},
        {"name": "B", "type": "T", "doc": "b"},
        {"name": "C", "type": "T", "doc": "c"},
    ],
    "outputs": [{"name": "Y", "type": "T", "doc": "A * B + C"}],
    "attributes": [],
    "reference": "test_muladd",
    "tolerance": {"float32": {"rtol": 1e-6, "atol": 1e-6}},
    "conformance": {
        "shapes": "explicit",
        "special_values": False,
        "cases": [
            {"inputs": {"A": [3, 4], "B": [3, 4], "C": [4]}},
            {"inputs": {"A": [2, 1], "B": [1, 5], "C": []}},
            {"inputs": {"A": [0, 3], "B": [3], "C": [1]}},
        ],
    },
    "decomposition": {
        "exact": False,
        "body": [
            {"op": "mul", "inputs": ["A", "B"], "outputs": ["t"]},
            {"op": "add", "inputs": ["t", "C"], "outputs": ["Y"]},
        ],
    },
}


def _muladd(A: np.ndarray, B: np.ndarray, C: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return (A * B + C).astype(A.dtype)


@pytest.fixture()
def cpu(monkeypatch: pytest.MonkeyPatch) -> Any:
    if not all(hasattr(xhal, n) for n in ("devices", "device", "ops", "Tensor")):
        pytest.skip("installed xhal has no runtime")
    monkeypatch.setitem(reference.REFERENCES, "test_muladd", _muladd)
    return xhal.device("cpu")


def _install(monkeypatch: pytest.MonkeyPatch, spec: dict) -> None:
    """Make the made-up op known to the decomposition runner, with a correct plain 'kernel'."""
    from xhal import decompose

    real = decompose.op_spec
    monkeypatch.setattr(decompose, "op_spec", lambda op: spec if op == "muladd" else real(op))

    def muladd(A: Any, B: Any, C: Any, device: Any = None) -> Any:
        y = _muladd(A.numpy(), B.numpy(), C.numpy())
        return xhal.Tensor.from_numpy(y, A.device)

    monkeypatch.setattr(xhal.ops, "muladd", muladd, raising=False)


def test_decomposed_rows_pass(cpu: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _install(monkeypatch, MULADD)
    cases = op_cases(MULADD)
    report = runner.run([cpu], cases=cases)
    dec = [r for r in report.results if r.op == "muladd[decomposed]"]
    plain = [c for c in cases if not c.layout]
    assert len(dec) == len(plain) and all(r.outcome == runner.PASS for r in dec), [
        (r.id, r.message) for r in dec
    ]
    assert "muladd[decomposed]/float32/case0" in {r.id for r in dec}
    assert report.failed == 0
    # the filter selects decomposed rows by either id
    only = runner.run([cpu], "muladd[decomposed]/int32/*", cases=cases)
    assert {r.op for r in only.results} == {"muladd[decomposed]"} and len(only.results) == 3
    assert runner.run([cpu], cases=cases, decompositions=False).results[0].op == "muladd"


def test_a_wrong_decomposition_fails_and_shows_in_the_table(
    cpu: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    wrong = copy.deepcopy(MULADD)
    wrong["decomposition"]["body"][1]["op"] = "sub"
    _install(monkeypatch, wrong)
    report = runner.run([cpu], "*/float32/case0", cases=op_cases(wrong))
    by_op = {r.op: r for r in report.results}
    assert by_op["muladd"].outcome == runner.PASS
    assert by_op["muladd[decomposed]"].outcome == runner.FAIL
    assert "elements differ" in by_op["muladd[decomposed]"].message
    print_report(report)
    out = capsys.readouterr().out
    assert "muladd[decomposed]" in out and out.rstrip().endswith("1 passed, 1 failed")


def test_a_step_without_a_kernel_is_unsupported(cpu: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _install(monkeypatch, MULADD)
    from xhal import errors

    def no_kernel(*args: Any, **kwargs: Any) -> Any:
        raise errors.UnsupportedError("no kernel for mul")

    monkeypatch.setattr(xhal.ops, "mul", no_kernel)
    report = runner.run([cpu], "muladd[decomposed]/float32/case0", cases=op_cases(MULADD))
    assert [r.outcome for r in report.results] == [runner.UNSUPPORTED]
