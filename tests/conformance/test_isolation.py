"""Crash isolation: a fixture plugin whose kernels segfault, abort or hang. Each such case is
reported (crashed with the signal, or timeout) and the run goes on in a fresh worker."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

import xhal
from xhal.conformance import cli, runner
from xhal.conformance.isolation import run_isolated

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))
import xhal_testutil as tu  # noqa: E402

pytestmark = pytest.mark.skipif(
    not all(hasattr(xhal, n) for n in ("devices", "load_plugin", "ops", "Tensor")),
    reason="installed xhal has no runtime",
)


@pytest.fixture(scope="module")
def crash_plugin(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Any]:
    out = tmp_path_factory.mktemp("crash")
    lib = tu.build_plugin(tu.FIXTURES / "crashing_kernels.c", out)
    devices = list(xhal.load_plugin(str(lib)))
    assert len(devices) == 1
    return str(lib), devices[0]


def test_crashes_and_timeouts_are_reported_and_the_run_goes_on(crash_plugin: Any) -> None:
    lib, device = crash_plugin
    report = run_isolated(
        [device],
        "*/float*/unary[7]",
        plugins=[lib],
        timeout=3.0,
        cases=[
            c
            for c in runner.generate_cases(xhal.specs(), ops=["relu", "sigmoid", "exp"])
            if c.dtype in ("float32", "float64")
        ],
        decompositions=False,
    )
    by_id = {r.id: r for r in report.results}
    segv = by_id["relu/float32/unary[7]"]
    assert segv.outcome == runner.CRASHED and "SIGSEGV" in segv.message
    assert by_id["relu/float64/unary[7]"].outcome == runner.PASS  # in a fresh worker
    abrt = by_id["sigmoid/float32/unary[7]"]
    assert abrt.outcome == runner.CRASHED and "SIGABRT" in abrt.message
    hang = by_id["exp/float32/unary[7]"]
    assert hang.outcome == runner.TIMEOUT and "3 s" in hang.message
    # no float64 kernels for sigmoid/exp on this device: unsupported, not failed
    assert by_id["exp/float64/unary[7]"].outcome == runner.UNSUPPORTED
    assert report.failed == 3 and report.passed == 1


def test_cli_isolates_by_default(crash_plugin: Any, capsys: pytest.CaptureFixture) -> None:
    lib, device = crash_plugin
    argv = ["--plugin", lib, "--device", device.name, "--filter", "relu/float*/unary[7]"]
    assert cli.main([*argv, "--timeout", "20"]) == 1
    out = capsys.readouterr().out
    assert "CRASHED relu/float32/unary[7]" in out and "SIGSEGV" in out
    assert out.rstrip().splitlines()[-1] == "1 passed, 1 failed"
