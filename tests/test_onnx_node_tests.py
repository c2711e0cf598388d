"""ONNX's backend node tests on the CPU device: every applicable, non-excluded test passes, and
the pass rate (passed / (applicable - excluded)) is at least 97%.

One pytest parameter per test, so a failure names the ONNX test. Tests that exercise ops or
dtypes outside the specs are "not applicable" (counted by ``xhal conformance
--onnx-node-tests``); exclusions live only in ``conformance/onnx_node_test_exclusions.yaml``.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest

pytest.importorskip("onnx")

import xhal  # noqa: E402
from xhal.conformance import onnx_node_tests as nt  # noqa: E402
from xhal.conformance.runner import PASS  # noqa: E402

MIN_PASS_RATE = 0.97
HAS_RUNTIME = all(hasattr(xhal, n) for n in ("devices", "device", "ops", "Tensor"))


@functools.cache
def _specs() -> nt.Specs:
    return nt.Specs.of(xhal.specs())


@functools.cache
def _runnable() -> dict[str, Any]:
    """name -> test, for the applicable tests that are not excluded (decided without a device)."""
    excl = nt.load_exclusions()
    out = {}
    for test in nt.load_tests():
        status, _, _ = nt.triage(test, _specs(), excl)
        if status in ("run", "fail"):
            out[test.name] = test
    return out


_RESULTS: dict[str, nt.NodeTestResult] = {}


def _result(name: str) -> nt.NodeTestResult:
    if name not in _RESULTS:
        test = _runnable()[name]
        _RESULTS[name] = nt.run_test(test, xhal.device("cpu"), _specs(), nt.load_exclusions())
    return _RESULTS[name]


def _names() -> list[str]:
    return sorted(_runnable()) if HAS_RUNTIME else []


@pytest.mark.skipif(not HAS_RUNTIME, reason="installed xhal has no runtime")
@pytest.mark.parametrize("name", _names())
def test_onnx_node_test_passes_on_cpu(name: str) -> None:
    r = _result(name)
    assert r.outcome == PASS, f"{name} ({r.op}, {r.dtype}): {r.outcome}: {r.message}"


@pytest.mark.skipif(not HAS_RUNTIME, reason="installed xhal has no runtime")
def test_pass_rate() -> None:
    excl = nt.load_exclusions()
    applicable = excluded = 0
    for test in nt.load_tests():
        status, _, _ = nt.triage(test, _specs(), excl)
        applicable += status != nt.NOT_APPLICABLE
        excluded += status == nt.EXCLUDED
    passed = sum(_result(n).outcome == PASS for n in _runnable())
    assert applicable > 0
    rate = passed / (applicable - excluded)
    assert rate >= MIN_PASS_RATE, f"pass rate {passed}/{applicable - excluded} = {rate:.3f}"


def test_exclusions_name_real_applicable_tests_with_reasons() -> None:
    excl = nt.load_exclusions()
    names = {t.name for t in nt.load_tests()}
    assert not sorted(set(excl) - names), "exclusions naming no ONNX test"
    by_name = {t.name: t for t in nt.load_tests()}
    not_applicable = [
        n for n in excl if nt.triage(by_name[n], _specs(), {})[0] == nt.NOT_APPLICABLE
    ]
    assert not not_applicable, f"excluded but not applicable anyway: {not_applicable}"
