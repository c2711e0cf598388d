"""``xhal conformance``: run the suite on devices and report.

Each device's cases run in a worker process (``--in-process`` to run them here): a kernel that
crashes is reported as ``crashed``, one that runs past ``--timeout`` as ``timeout``, and the run
goes on. The runtime checks (``conformance/runtime.py``: the device interface of each plugin,
``runtime/<check>`` rows) run too unless ``--filter`` selects none of them or ``--no-runtime``;
``--runtime`` runs only them. ``--html FILE`` writes a self-contained HTML report.
``--onnx-node-tests`` runs ONNX's backend node tests instead (in this process).

Exit status: 0 when at least one case ran and none failed; 1 on any failure or error, or when
no case ran at all (so an empty filter or an all-unsupported device is not mistaken for green);
2 on a usage problem (unknown device, plugin that does not load).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

import xhal
from xhal import errors

from . import runtime
from .cases import generate_cases, matches
from .report import ProgressBar, print_report, write_json
from .runner import Report, describe_device, run, select


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="xhal conformance",
        description="Run the operator conformance suite (derived from the op specs) on devices.",
    )
    p.add_argument(
        "--device",
        action="append",
        default=[],
        metavar="NAME",
        help="device to test, e.g. cpu or cpu:0 (repeatable; default: every device)",
    )
    p.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="PATH",
        help="load this plugin library first (repeatable)",
    )
    p.add_argument("--json", metavar="FILE", help="also write a JSON report to FILE")
    p.add_argument(
        "--filter",
        metavar="SUBSTRING_OR_GLOB",
        action="append",
        help="run only cases whose id contains this text or matches this glob (repeatable: "
        "cases matching any of them)",
    )
    p.add_argument("--list", action="store_true", help="list the matching case ids and exit")
    p.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="a case running longer than this is reported as 'timeout' (default 60)",
    )
    p.add_argument(
        "--in-process",
        action="store_true",
        help="run the cases in this process (faster; a crashing kernel ends the run)",
    )
    p.add_argument(
        "--runtime",
        action="store_true",
        help="run only the runtime checks (device interface: memory, copies, streams, events, "
        "errors, concurrency, leaks, ABI), not the op cases",
    )
    p.add_argument(
        "--no-runtime",
        action="store_true",
        help="skip the runtime checks (by default they run unless --filter selects none of "
        "their ids, runtime/<check>)",
    )
    p.add_argument("--html", metavar="FILE", help="also write a self-contained HTML report")
    p.add_argument(
        "--onnx-node-tests",
        action="store_true",
        help="run ONNX's backend node tests (those the specs cover) instead of the spec cases",
    )
    return p


def _select(names: Sequence[str], plugin_devices: Sequence[Any]) -> list[Any]:
    """Devices named on the command line; without names every known device."""
    known = list(xhal.devices())
    seen = {d.name for d in known}
    known += [d for d in plugin_devices if d.name not in seen]
    if not names:
        return known
    chosen: list[Any] = []
    for name in names:
        hits = [d for d in known if name in (d.name, d.device_type, d.name.split(":")[0])]
        if not hits:
            hits = [xhal.device(name)]
        chosen += [d for d in hits if d.name not in {c.name for c in chosen}]
    return chosen


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["conformance"]:
        args = args[1:]
    opts = _parser().parse_args(args)
    if opts.runtime and (opts.no_runtime or opts.onnx_node_tests):
        print("xhal conformance: --runtime cannot be combined with --no-runtime or "
              "--onnx-node-tests", file=sys.stderr)
        return 2
    with_runtime = not opts.no_runtime and not opts.onnx_node_tests
    if opts.list:
        if opts.onnx_node_tests:
            from .onnx_node_tests import load_tests

            names = [t.name for t in load_tests()]
        else:
            names = [] if opts.runtime else [c.id for c in generate_cases(xhal.specs())]
            if with_runtime:
                try:
                    names += runtime.check_ids()
                except (runtime.CheckerNotFound, OSError) as exc:
                    print(f"xhal conformance: {exc}", file=sys.stderr)
        for name in names:
            if matches(name, opts.filter):
                print(name)
        return 0
    loaded: list[Any] = []
    deviceless: list[str] = []
    try:
        for path in opts.plugin:
            devs = list(xhal.load_plugin(path))
            loaded += devs
            if not devs:
                deviceless.append(path)
        devices = _select(opts.device, loaded)
    except errors.XhalError as exc:
        print(f"xhal conformance: {exc}", file=sys.stderr)
        return 2
    if opts.device:
        deviceless = []  # only the devices named
    run_runtime = with_runtime and runtime.wanted(opts.filter)
    if not devices and not (run_runtime and deviceless):
        print("xhal conformance: no devices found", file=sys.stderr)
        return 1
    # A plugin that loaded without a device (no GPU, no driver) is reported, never failed.
    for plugin in xhal.plugins():
        if plugin["device_count"] == 0:
            reason = plugin["no_device_reason"] or "the plugin reports no device"
            print(f"{plugin['device_type']}: no device ({reason}); not run, not counted")
    if opts.onnx_node_tests:
        from . import onnx_node_tests

        report = onnx_node_tests.run(devices, opts.filter)
    else:
        cases = [] if opts.runtime else list(generate_cases(xhal.specs()))
        rows = sum(int(p) + int(d) for _, p, d in select(cases, opts.filter)) * len(devices)
        if run_runtime:
            rows += runtime.count(opts.filter) * max(1, len(devices) + len(deviceless))
        with ProgressBar(rows) as bar:
            if opts.runtime:
                report = Report(devices=[describe_device(d) for d in devices])
            elif opts.in_process:
                report = run(devices, opts.filter, cases=cases, progress=bar.update)
            else:
                from .isolation import run_isolated

                report = run_isolated(devices, opts.filter, plugins=opts.plugin,
                                      timeout=opts.timeout, cases=cases, progress=bar.update)
            if run_runtime:
                report.results += runtime.run_runtime(
                    devices, deviceless=deviceless, filter=opts.filter,
                    timeout=max(opts.timeout, 60.0), progress=bar.update)
    print_report(report)
    if opts.json:
        write_json(report, opts.json)
    if opts.html:
        from .html import write_html

        write_html(report, opts.html)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
