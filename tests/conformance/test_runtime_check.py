"""Runtime conformance (``xhal-runtime-check``, conformance/runtime.py): the device interface of
a plugin, checked on the installed CPU plugin and on fixture plugins that are right, leak,
crash or hang, each reported as what it is; and the reports (terminal, JSON, HTML)."""

from __future__ import annotations

import io
import json
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

import xhal
from xhal.conformance import cli, runner, runtime
from xhal.conformance.report import ProgressBar, print_report, to_json

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))
import xhal_testutil as tu  # noqa: E402

pytestmark = pytest.mark.skipif(
    not all(hasattr(xhal, n) for n in ("devices", "load_plugin", "ops", "Tensor")),
    reason="installed xhal has no runtime",
)

# Misuses a plugin need not detect: when it does not, they are unsupported, not failed.
OPTIONAL = {"alloc.double_free", "alloc.foreign_pointer"}


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("runtime_fixtures")
    src = tu.FIXTURES / "leaky_runtime.c"
    built = {"clean": tu.build_plugin(src, out, name="clean_runtime")}
    for name, knob in (("leak_mem", "FIXTURE_LEAK_MEM_FREE"), ("leak_streams",
                       "FIXTURE_LEAK_STREAMS"), ("segv", "FIXTURE_SEGV_IN_MEM_SET"),
                       ("hang", "FIXTURE_HANG_IN_ELAPSED")):
        built[name] = tu.build_plugin(src, out, name=name, defines={knob: 1})
    built["older_minor"] = tu.build_plugin(tu.FIXTURES / "older_minor.c", out)
    return built


def outcomes(rows: list[runner.CaseResult]) -> dict[str, str]:
    return {r.check: r.outcome for r in rows}


def not_passed(rows: list[runner.CaseResult]) -> dict[str, str]:
    return {r.check: f"{r.outcome}: {r.message}" for r in rows if r.outcome != runner.PASS}


def test_checker_is_installed_and_lists_every_check() -> None:
    path = runtime.checker_path()
    assert path.is_file() and path.parent.name == "bin"
    names = runtime.check_names()
    for group in ("alloc.", "copy.", "stream.", "event.", "error.", "concurrency.", "leak.",
                  "abi."):
        assert any(n.startswith(group) for n in names), group
    assert {"copy.overlap", "stream.order_kernels", "event.cross_stream", "alloc.exhaustion",
            "abi.host_larger_table", "abi.host_newer_minor"} <= set(names)


def test_cpu_plugin_passes_every_runtime_check() -> None:
    rows = runtime.run_plugin(tu.cpu_plugin(), timeout=120)
    got = outcomes(rows)
    assert set(got) == set(runtime.check_names()) - {"abi.host_older_minor"}, sorted(got)
    bad = {k: v for k, v in not_passed(rows).items() if k not in OPTIONAL}
    assert not bad, bad
    # glibc's free() aborts on a double free: not detected, so unsupported (never a crash here)
    assert {got[k] for k in OPTIONAL} <= {runner.PASS, runner.UNSUPPORTED}
    by = {r.check: r for r in rows}
    assert by["copy.overlap"].device == "cpu:0" and by["abi.plugin_table"].device == "cpu"
    assert "ABI 1." in by["abi.plugin_table"].message
    assert "OUT_OF_MEMORY" in by["alloc.exhaustion"].message
    assert all(r.kind == "runtime" and r.id == f"runtime/{r.check}" for r in rows)


def test_a_clean_host_runtime_passes_everything(fixtures: dict[str, Path]) -> None:
    """No false alarm: exact books, every misuse detected, so nothing is even unsupported."""
    rows = runtime.run_plugin(fixtures["clean"])
    assert not not_passed(rows), not_passed(rows)
    kernels = next(r.message for r in rows if r.check == "stream.order_kernels")
    assert "relu" in kernels  # the kernel captured through the checker's host table


def test_mem_free_that_frees_nothing_is_a_leak(fixtures: dict[str, Path]) -> None:
    rows = runtime.run_plugin(fixtures["leak_mem"])
    bad = not_passed(rows)
    leaks = {k for k, v in bad.items() if v.startswith(runner.LEAK)}
    assert leaks == {"leak.alloc_free", "concurrency.alloc_free"}, bad
    # freeing twice "works" when freeing does nothing: not detected, reported as such
    assert set(bad) - leaks == OPTIONAL and all(bad[k].startswith("unsupported") for k in OPTIONAL)
    assert "fell in every cycle" in bad["concurrency.alloc_free"]


def test_stream_destroy_that_leaks_is_a_leak(fixtures: dict[str, Path]) -> None:
    rows = runtime.run_plugin(fixtures["leak_streams"])
    bad = not_passed(rows)
    assert set(bad) == {"leak.streams_events"} and bad["leak.streams_events"].startswith("leak")
    assert "32.00 MiB" in bad["leak.streams_events"]  # 32 streams of 1 MiB per cycle


def test_a_crash_is_reported_with_its_signal_and_the_run_goes_on(fixtures: dict[str, Path]
                                                                 ) -> None:
    rows = runtime.run_plugin(fixtures["segv"])
    got = outcomes(rows)
    assert got["copy.mem_set"] == runner.CRASHED
    assert "SIGSEGV" in next(r.message for r in rows if r.check == "copy.mem_set")
    # the checker started again after each crash: later checks ran and passed
    assert got["copy.d2d"] == got["event.cross_stream"] == runner.PASS
    assert got["abi.host_newer_minor"] == got["alloc.exhaustion"] == runner.PASS
    assert set(got) == set(runtime.check_names()) - {"abi.host_older_minor"}


def test_a_hang_is_a_timeout(fixtures: dict[str, Path]) -> None:
    rows = runtime.run_plugin(fixtures["hang"], filter="runtime/event.*", timeout=1)
    got = outcomes(rows)
    assert got["event.elapsed_time"] == runner.TIMEOUT
    assert got["event.cross_stream"] == runner.PASS
    assert set(got) == {c for c in runtime.check_names() if c.startswith("event.")}


def test_a_plugin_without_devices_is_no_device(fixtures: dict[str, Path]) -> None:
    rows = runtime.run_plugin(fixtures["older_minor"])
    got = outcomes(rows)
    assert got["device.count"] == runner.NO_DEVICE
    assert got["abi.plugin_table"] == runner.PASS
    assert got["abi.host_larger_table"] == got["abi.host_newer_minor"] == runner.PASS
    assert not any(c.startswith(("alloc.", "copy.")) for c in got)
    assert next(r.device for r in rows if r.check == "device.count") == "older_minor"


def test_cuda_plugin_without_a_gpu_is_no_device() -> None:
    """Where the CUDA plugin is built but the machine has no GPU (CI): device_count fails with
    the reason, which is zero devices (D13), so no-device, not a failure; the ABI checks run."""
    lib = tu.plugins_dir() / "libxhal_cuda.so"
    if not lib.is_file() or any(Path("/dev").glob("nvidia[0-9]*")):
        pytest.skip("needs the CUDA plugin installed on a machine without a GPU")
    rows = runtime.run_plugin(lib)
    got = outcomes(rows)
    assert got["device.count"] == runner.NO_DEVICE
    assert got["abi.plugin_table"] == got["abi.host_newer_minor"] == runner.PASS
    assert not any(r.failed for r in rows), not_passed(rows)
    assert all(r.device == "cuda" for r in rows)


def test_a_plugin_that_does_not_load_is_an_error(tmp_path: Path) -> None:
    bogus = tmp_path / "libbogus.so"
    bogus.write_text("not a library")
    rows = runtime.run_plugin(bogus)
    assert [(r.check, r.outcome) for r in rows] == [("load", runner.ERROR)]
    assert "dlopen" in rows[0].message


def test_a_missing_checker_is_an_error_row(monkeypatch: pytest.MonkeyPatch, tmp_path: Path
                                           ) -> None:
    monkeypatch.setenv("XHAL_RUNTIME_CHECK", str(tmp_path / "no-such-checker"))
    rows = runtime.run_plugin(tu.cpu_plugin())
    assert [(r.check, r.outcome) for r in rows] == [("checker", runner.ERROR)]
    assert "no-such-checker" in rows[0].message and rows[0].failed


def test_cli_runtime_reports(fixtures: dict[str, Path], tmp_path: Path,
                             capsys: pytest.CaptureFixture) -> None:
    js, page = tmp_path / "r.json", tmp_path / "r.html"
    lib = str(fixtures["leak_streams"])
    assert cli.main(["--runtime", "--plugin", lib, "--device", "leaky:0", "--json", str(js),
                     "--html", str(page)]) == 1
    out = capsys.readouterr().out
    assert "LEAK runtime/leak.streams_events on leaky:0" in out
    assert out.rstrip().splitlines()[-1].endswith("1 failed")
    doc = json.loads(js.read_text())
    assert doc["schema"] == "xhal.conformance/1"
    rows = {c["check"]: c for c in doc["cases"] if c["kind"] == "runtime"}
    assert rows["leak.streams_events"]["outcome"] == "leak"
    assert rows["copy.overlap"]["outcome"] == "pass"
    assert doc["summary"]["failed"] == 1
    assert doc["runtime"]["devices"]["leaky:0"]["leak"] == 1
    cells = read_cells(page.read_text())
    assert cells[("runtime", "leak.streams_events", "leaky:0")] == "leak"
    assert cells[("runtime", "copy.d2d", "leaky:0")] == "pass"


def test_filter_selects_runtime_checks_and_no_runtime_skips_them(
        capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["--device", "cpu", "--filter", "runtime/copy.*"]) == 0
    lines = capsys.readouterr().out.rstrip().splitlines()
    n = len([c for c in runtime.check_names() if c.startswith("copy.")])
    assert lines[-1] == f"{n} passed, 0 failed"
    assert cli.main(["--device", "cpu", "--no-runtime", "--filter", "runtime/copy.*"]) == 1
    assert cli.main(["--list", "--filter", "runtime/"]) == 0
    listed = capsys.readouterr().out.split()
    assert "runtime/copy.overlap" in listed and "runtime/alloc.zero" in listed
    assert cli.main(["--runtime", "--no-runtime"]) == 2


# ---- subtly wrong kernels: failed for exactly those cases, with the error shown --------------

@pytest.fixture(scope="module")
def wrong_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, runner.Report]:
    out = tmp_path_factory.mktemp("wrong")
    lib = tu.build_plugin(tu.FIXTURES / "wrong_kernels.c", out)
    (device,) = xhal.load_plugin(str(lib))
    cases = [c for c in runner.generate_cases(xhal.specs(), ops=["add", "mul"])
             if c.dtype in ("float32", "float64")]
    return device, runner.run([device], cases=cases, decompositions=False)


def _flat_index_differs(shape: list[int], out: tuple[int, ...]) -> bool:
    """Does out[i] reading input[i % numel] differ from NumPy broadcasting for this input?"""
    import numpy as np

    n, total = int(np.prod(shape)), int(np.prod(out))
    if n == 0 or total == 0:
        return False
    true = np.broadcast_to(np.arange(n).reshape(shape), out).ravel()
    return bool((true != np.arange(total) % n).any())


def test_wrong_kernels_fail_exactly_their_cases(wrong_run: tuple[Any, runner.Report]) -> None:
    import numpy as np

    device, report = wrong_run
    by_id = {r.id: r for r in report.results}
    cases = {c.id: c for c in runner.generate_cases(xhal.specs(), ops=["add", "mul"])}
    predicted = set()
    for cid in by_id:
        case = cases[cid]
        if case.dtype != "float32":
            continue  # strided layouts too: the runner rebuilds their views on this device
        arrays, expected, broken = runner.prepare(case)
        assert not broken
        if case.op == "add" and np.isfinite(expected["C"]).any():
            predicted.add(cid)  # every finite result is 20 ulp off
        if case.op == "mul":
            out = expected["C"].shape
            if any(_flat_index_differs(list(arrays[k].shape), out) for k in ("A", "B")):
                predicted.add(cid)
    failed = {cid for cid, r in by_id.items() if r.outcome != runner.PASS
              and r.outcome != runner.UNSUPPORTED}
    assert failed == predicted, (sorted(failed - predicted)[:5], sorted(predicted - failed)[:5])
    assert all(by_id[c].outcome == runner.FAIL for c in failed)
    assert any(c.startswith("mul/") for c in failed) and any(c.startswith("add/") for c in failed)
    assert not any("float64" in c for c in failed)
    # max error shown: 20 ulp is a relative error of 1.2e-6 .. 2.4e-6 (tolerance 1e-6)
    grid = [by_id[c] for c in failed if c.startswith("add/float32/broadcast")]
    assert grid and all(1e-6 < r.max_rel_err <= 2.4e-6 for r in grid), \
        [(r.id, r.max_rel_err) for r in grid][:5]
    assert all("max rel err" in r.message and r.samples for r in grid)
    bc = by_id["mul/float32/broadcast[3,1]x[1,4]"]
    assert bc.max_abs_err > 1e-3 and bc.samples[0]["index"] == [0, 1]


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.cells: dict[tuple[str, str, str], str] = {}
        self.classes: dict[tuple[str, str, str], str] = {}
        self.failures: dict[str, str] = {}
        self.styles = ""
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "style":
            self._in_style = True
        if tag == "td" and "data-status" in a:
            key = ("runtime", a["data-check"], a["data-device"]) if "data-check" in a else \
                (a["data-op"], a["data-dtype"], a["data-device"])
            self.cells[key] = a["data-status"]
            self.classes[key] = a.get("class", "")
        if tag == "div" and "data-id" in a:
            self.failures[a["data-id"]] = a["data-status"]

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False if tag == "style" else self._in_style

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles += data


def read_cells(page: str) -> dict[tuple[str, str, str], str]:
    p = _Cells()
    p.feed(page)
    return p.cells


def test_html_report_of_a_run_with_known_failures(wrong_run: tuple[Any, runner.Report],
                                                  tmp_path: Path) -> None:
    from xhal.conformance.html import render, write_html

    device, report = wrong_run
    report.results.append(runner.CaseResult("runtime/leak.alloc_free", "runtime", "-",
                                            device.name, runner.LEAK, "fell", kind="runtime",
                                            check="leak.alloc_free"))
    report.results.append(runner.CaseResult("add/float32/x", "add", "bfloat16", device.name,
                                            runner.CRASHED, "crashed: worker killed by SIGSEGV"))
    path = tmp_path / "report.html"
    write_html(report, path)
    page = path.read_text()
    assert "http://" not in page and "https://" not in page and "<script" not in page
    p = _Cells()
    p.feed(page)
    name = device.name
    assert p.cells[("add", "float32", name)] == "fail"
    assert p.cells[("add", "float64", name)] == "pass"
    assert p.cells[("mul", "float32", name)] == "fail"
    assert p.cells[("mul", "float64", name)] == "pass"
    assert p.cells[("add", "bfloat16", name)] == "crashed"
    assert p.cells[("runtime", "leak.alloc_free", name)] == "leak"
    assert "s-fail" in p.classes[("add", "float32", name)]
    for status, colour in (("pass", "#c8e6c9"), ("fail", "#ef9a9a"), ("crashed", "#8e0000"),
                           ("leak", "#ce93d8"), ("unsupported", "#e0e0e0"),
                           ("timeout", "#ffcc80"), ("no-device", "#b0bec5")):
        assert f".s-{status}{{background:{colour}" in p.styles
    # each failure: shapes, attributes, max errors, expected vs got
    bc = "mul/float32/broadcast[3,1]x[1,4]"
    assert p.failures[bc] == "fail"
    start = page.index(f'data-id="{bc}"')
    end = page.find('<div class="failure"', start)
    block = page[start:end if end > 0 else len(page)]
    assert "A [3, 1]" in block and "B [1, 4]" in block
    assert 'class="max-abs"' in block and 'class="max-rel"' in block
    r = next(x for x in report.results if x.id == bc)
    assert repr(r.samples[0]["expected"]) in block or str(r.samples[0]["expected"]) in block
    assert render(report).count('class="failure"') == report.failed


def test_json_keeps_the_schema_and_adds_fields(wrong_run: tuple[Any, runner.Report]) -> None:
    _, report = wrong_run
    doc = to_json(report)
    old = {"id", "op", "dtype", "device", "outcome", "message", "max_abs_err", "max_rel_err",
           "shapes", "attrs"}
    assert all(old <= set(c) for c in doc["cases"])
    failed = [c for c in doc["cases"] if c["outcome"] == "fail"]
    assert failed and all(c["samples"] and c["kind"] == "op" for c in failed)
    assert {"passed", "failed", "unsupported"} <= set(doc["summary"])
    json.loads(json.dumps(doc, allow_nan=False))


def test_progress_bar_renders_on_a_terminal() -> None:
    buf = io.StringIO()
    rows = [runner.CaseResult(f"relu/float32/c{i}", "relu", "float32", "cpu:0",
                              runner.FAIL if i == 2 else runner.PASS) for i in range(4)]
    with ProgressBar(len(rows), file=buf, force=True) as bar:
        for r in rows:
            bar.update(r)
    text = buf.getvalue()
    assert "4/4" in text and "1 failed" in text
    quiet = io.StringIO()  # not a terminal: nothing
    with ProgressBar(4, file=quiet) as bar:
        bar.update(rows[0])
    assert quiet.getvalue() == ""
    print_report(runner.Report(devices=[], results=rows), io.StringIO())
