"""Crash isolation: run each device's cases in a worker process (ARCHITECTURE invariant 6).

The parent generates and selects the cases; a worker (``multiprocessing``, spawn start method,
so no state is inherited) loads the plugins, finds its device, and runs one row at a time on
request. A worker that dies (a kernel's SIGSEGV, abort(), ...) reports the row as ``crashed``
with the signal; a row that takes longer than the timeout is ``timeout`` and its worker is
killed. Either way the run goes on with the next row in a fresh worker.

A worker's start (imports, plugin loading, case generation) is not counted against the timeout.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict
from typing import Any

from .cases import Case, Filter
from .runner import (
    CRASHED,
    ERROR,
    TIMEOUT,
    CaseResult,
    Report,
    decomposed_id,
    describe_device,
    select,
)

DEFAULT_TIMEOUT = 60.0
_START_TIMEOUT = 300.0  # importing xhal and generating cases on a loaded machine


def _worker_main(conn: Any, device_name: str, plugins: Sequence[str]) -> None:
    """Worker loop: ``(case id, decomposed)`` in, a CaseResult dict out; None ends it."""
    import xhal

    from .cases import generate_cases
    from .runner import prepare, run_prepared

    try:
        loaded = [d for p in plugins for d in xhal.load_plugin(p)]
        known = {d.name: d for d in [*xhal.devices(), *loaded]}
        device = known.get(device_name) or xhal.device(device_name)
        cases = {c.id: c for c in generate_cases(xhal.specs())}
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which gives up
        conn.send(("failed", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", None))
    last: tuple[str, Any] | None = None
    while True:
        msg = conn.recv()
        if msg is None:
            return
        case_id, decomposed = msg
        case = cases[case_id]
        if last is None or last[0] != case_id:
            last = (case_id, prepare(case))
        row = run_prepared(case, device, last[1], decomposed=decomposed)
        conn.send(("done", asdict(row)))


class WorkerStartError(RuntimeError):
    pass


class _Worker:
    def __init__(self, device_name: str, plugins: Sequence[str]) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(
            target=_worker_main, args=(child, device_name, list(plugins)), daemon=True
        )
        self.proc.start()
        child.close()
        if not self.conn.poll(_START_TIMEOUT):
            self.kill()
            raise WorkerStartError(f"worker for {device_name} did not start")
        try:
            kind, detail = self.conn.recv()
        except (EOFError, OSError) as exc:
            self.proc.join(5)
            raise WorkerStartError(f"worker for {device_name} died: {_death(self.proc)}") from exc
        if kind != "ready":
            self.kill()
            raise WorkerStartError(f"worker for {device_name}: {detail}")

    def run(self, case_id: str, decomposed: bool, timeout: float) -> tuple[str, Any]:
        """("done", row dict) | ("crashed", how) | ("timeout", seconds)."""
        try:
            self.conn.send((case_id, decomposed))
            ready = self.conn.poll(timeout)
        except (BrokenPipeError, OSError):
            ready = True
        if not ready:
            self.kill()
            return TIMEOUT, timeout
        try:
            return self.conn.recv()
        except (EOFError, OSError):
            self.proc.join(10)
            return CRASHED, _death(self.proc)

    def close(self) -> None:
        try:
            self.conn.send(None)
        except (BrokenPipeError, OSError):
            pass
        self.proc.join(10)
        if self.proc.is_alive():
            self.kill()

    def kill(self) -> None:
        self.proc.kill()
        self.proc.join(10)


def _death(proc: Any) -> str:
    code = proc.exitcode
    if code is None:
        return "the worker stopped answering"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"worker killed by {name}"
    return f"worker exited with status {code}"


def run_isolated(
    devices: Sequence[Any],
    filter: Filter = None,  # noqa: A002 - the CLI's word
    *,
    plugins: Sequence[str] = (),
    cases: Iterable[Case] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    progress: Callable[[CaseResult], None] | None = None,
    decompositions: bool = True,
) -> Report:
    """As :func:`.runner.run`, each device's rows in a worker process (see module docstring).

    ``plugins`` are the library paths the workers load (as ``--plugin`` did in the parent).
    """
    import xhal

    from .cases import generate_cases

    if cases is None:
        cases = generate_cases(xhal.specs())
    chosen = list(select(cases, filter, decompositions))
    report = Report(devices=[describe_device(d) for d in devices])
    for device in devices:
        name = str(getattr(device, "name", device))
        worker: _Worker | None = None
        try:
            for case, plain, decomposed in chosen:
                for dec in [d for d, want in ((False, plain), (True, decomposed)) if want]:
                    row = _one(case, dec, name, plugins, timeout, worker)
                    worker = row[1]
                    report.results.append(row[0])
                    if progress is not None:
                        progress(row[0])
        finally:
            if worker is not None:
                worker.close()
    return report


def _one(
    case: Case,
    decomposed: bool,
    device_name: str,
    plugins: Sequence[str],
    timeout: float,
    worker: _Worker | None,
) -> tuple[CaseResult, _Worker | None]:
    """One row, starting a worker when there is none; returns the row and the live worker."""
    cid = decomposed_id(case) if decomposed else case.id
    op = f"{case.op}[decomposed]" if decomposed else case.op
    if worker is None:
        try:
            worker = _Worker(device_name, plugins)
        except WorkerStartError as exc:
            return CaseResult(cid, op, case.dtype, device_name, ERROR, str(exc)), None
    kind, detail = worker.run(case.id, decomposed, timeout)
    if kind == "done":
        return CaseResult(**detail), worker
    if kind == CRASHED:
        message = f"crashed: {detail}"
    else:
        message = f"timed out after {detail:g} s (worker killed)"
    return CaseResult(cid, op, case.dtype, device_name, kind, message), None
