"""Conformance reports: a terminal table (rich when installed) and a JSON document.

The terminal report ends with the unsupported count on one line and then, alone on the last
line, exactly ``N passed, N failed`` (errors count as failed), which scripts may grep.
The JSON schema ``xhal.conformance/1`` is stable: fields are only ever added.
"""

from __future__ import annotations

import json
import math
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import IO, Any

from .runner import FAILED_OUTCOMES, NO_DEVICE, PASS, UNSUPPORTED, CaseResult, Report

SCHEMA = "xhal.conformance/1"
MAX_DETAILS = 50  # failure details printed in the terminal (all of them go to JSON)


def summary_line(report: Report) -> str:
    return f"{report.passed} passed, {report.failed} failed"


def _matrix(report: Report) -> list[tuple[str, str, str, Counter[str]]]:
    """(op, dtype, device, outcome counts) rows in first-seen order."""
    cells: dict[tuple[str, str, str], Counter[str]] = defaultdict(Counter)
    for r in report.results:
        cells[(r.op, r.dtype, r.device)][r.outcome] += 1
    return [(op, dt, dev, c) for (op, dt, dev), c in cells.items()]


def _details(report: Report) -> list[str]:
    lines = []
    for r in report.results:
        if r.kind == "runtime":
            if r.failed or r.outcome == NO_DEVICE:
                lines.append(f"{r.outcome.upper()} {r.id} on {r.device}: {r.message}")
            continue
        if not r.failed:
            continue
        shapes = ", ".join(f"{k}={v}" for k, v in r.shapes.items())
        attrs = f"; attrs {r.attrs}" if r.attrs else ""
        lines.append(
            f"{r.outcome.upper()} {r.id} on {r.device}: {r.message} (shapes {shapes}{attrs})"
        )
    return lines


def _unsupported_line(report: Report) -> str:
    per_device = Counter(r.device for r in report.results if r.outcome == UNSUPPORTED)
    detail = ", ".join(f"{d}: {n}" for d, n in per_device.items())
    line = f"{report.unsupported} unsupported" + (f" ({detail})" if detail else "")
    if report.no_device:
        line += f"; {report.no_device} no-device"
    return line


def print_report(report: Report, file: IO[str] | None = None) -> None:
    """Print the op x dtype x device table, the failure details and the closing lines."""
    out = file if file is not None else sys.stdout
    rows = _matrix(report)
    details = _details(report)
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        Console = None  # noqa: N806 - mirrors the class name it stands in for
    if Console is not None:
        console = Console(file=out, highlight=False, soft_wrap=True)
        table = Table(title="xhal conformance")
        for col in ("op", "dtype", "device"):
            table.add_column(col)
        for col in ("passed", "failed", "unsupported"):
            table.add_column(col, justify="right")
        from rich.markup import escape

        for op, dt, dev, c in rows:
            failed = sum(c[o] for o in FAILED_OUTCOMES)
            table.add_row(
                escape(op),  # "softmax[decomposed]" is not markup
                escape(dt),
                escape(dev),
                str(c[PASS]),
                f"[red]{failed}[/red]" if failed else "0",
                str(c[UNSUPPORTED]),
            )
        console.print(table)
        for line in details[:MAX_DETAILS]:
            console.print(line, markup=False)
        console.file.flush()
    else:
        print(
            f"{'op':<12} {'dtype':<10} {'device':<12} {'passed':>6} {'failed':>6} "
            f"{'unsupported':>11}",
            file=out,
        )
        for op, dt, dev, c in rows:
            print(
                f"{op:<12} {dt:<10} {dev:<12} {c[PASS]:>6} {sum(c[o] for o in FAILED_OUTCOMES):>6} "
                f"{c[UNSUPPORTED]:>11}",
                file=out,
            )
        for line in details[:MAX_DETAILS]:
            print(line, file=out)
    if len(details) > MAX_DETAILS:
        print(f"... {len(details) - MAX_DETAILS} more failures (see --json)", file=out)
    for line in getattr(report, "extra_lines", list)():  # e.g. the ONNX node tests' rates
        print(line, file=out)
    print(_unsupported_line(report), file=out)
    print(summary_line(report), file=out)


def _number(value: float | None) -> float | None:
    """JSON has no NaN or Infinity: non-finite errors become null."""
    return value if value is not None and math.isfinite(value) else None


def to_json(report: Report) -> dict[str, Any]:
    doc = _to_json(report)
    doc.update(getattr(report, "extra_json", dict)())  # added fields only, per the schema rule
    return doc


def _to_json(report: Report) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "devices": report.devices,
        "cases": [
            {
                "id": r.id,
                "op": r.op,
                "dtype": r.dtype,
                "device": r.device,
                "outcome": r.outcome,
                "message": r.message,
                "max_abs_err": _number(r.max_abs_err),
                "max_rel_err": _number(r.max_rel_err),
                "shapes": r.shapes,
                "attrs": r.attrs,
                # added fields (the schema only grows)
                "kind": r.kind,
                "check": r.check,
                "samples": r.samples,
                "seconds": _number(r.seconds),
            }
            for r in report.results
        ],
        "summary": {
            "passed": report.passed,
            "failed": report.failed,
            "unsupported": report.unsupported,
            "no_device": report.no_device,
        },
        "runtime": _runtime_summary(report.results),
    }


def _runtime_summary(results: list[CaseResult]) -> dict[str, Any]:
    """Outcome counts of the runtime checks, per device."""
    per_device: dict[str, Counter[str]] = defaultdict(Counter)
    for r in results:
        if r.kind == "runtime":
            per_device[r.device][r.outcome] += 1
    return {"devices": {d: dict(c) for d, c in per_device.items()}}


class ProgressBar:
    """A rich progress bar on a terminal (stderr by default) while a run goes; ``update`` is the
    runner's ``progress`` callback. Without rich, or when the stream is not a terminal (and
    ``force`` is off), it shows nothing."""

    def __init__(self, total: int, file: IO[str] | None = None, force: bool = False) -> None:
        self.total = total
        self._progress: Any = None
        self._task: Any = None
        out = file if file is not None else sys.stderr
        if not (force or getattr(out, "isatty", lambda: False)()):
            return
        try:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )
        except ImportError:
            return
        console = Console(file=out, force_terminal=force or None, highlight=False)
        self._progress = Progress(
            TextColumn("conformance"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[failed]} failed"),
            TimeElapsedColumn(),
            TextColumn("{task.fields[current]}"),
            console=console,
            transient=not force,
        )
        self._task = self._progress.add_task("run", total=total, failed=0, current="")
        self._failed = 0

    def __enter__(self) -> ProgressBar:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def update(self, row: CaseResult) -> None:
        if self._progress is None:
            return
        self._failed += int(row.failed)
        self._progress.update(
            self._task, advance=1, failed=self._failed, current=f"{row.id} on {row.device}"
        )


def write_json(report: Report, path: str | Path) -> None:
    Path(path).write_text(json.dumps(to_json(report), indent=1) + "\n", encoding="utf-8")
