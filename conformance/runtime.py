"""Runtime conformance: the device interface of a plugin (memory, copies, streams, events,
errors, concurrency, leaks, ABI negotiation), checked by ``xhal-runtime-check``.

The checker is a standalone C++ program installed with the SDK (``xhal/bin``, source in
``conformance/runtime_check/``): a minimal host that dlopens one plugin and drives its table
directly. It runs in a subprocess of its own per plugin, and prints one JSON line per event.
A check during which the checker dies is reported ``crashed`` (with the signal), one that runs
past the timeout ``timeout``; the checker then starts again after that check, so one bad entry
point does not hide the others.

Rows are :class:`~.runner.CaseResult` with ``kind="runtime"``, id ``runtime/<check>``, op
``runtime`` and dtype ``-``; plugin-level checks (ABI, device count) are reported on the
plugin's short device type (``cpu``), device checks on the device (``cpu:0``).
"""

from __future__ import annotations

import functools
import json
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from .cases import Filter, matches
from .runner import CRASHED, ERROR, FAIL, LEAK, NO_DEVICE, PASS, TIMEOUT, UNSUPPORTED, CaseResult

PREFIX = "runtime/"
DEFAULT_TIMEOUT = 120.0
_OUTCOMES = {o: o for o in (PASS, FAIL, UNSUPPORTED, LEAK, NO_DEVICE, CRASHED, TIMEOUT)}
_MAX_RESTARTS = 16
GRACE = 5.0  # beyond the timeout: the checker enforces the timeout on its own children first


class CheckerNotFound(RuntimeError):
    pass


def checker_path() -> Path:
    """The installed ``xhal-runtime-check`` (``$XHAL_RUNTIME_CHECK`` overrides it)."""
    override = os.environ.get("XHAL_RUNTIME_CHECK")
    if override:
        path = Path(override)
    else:
        import xhal

        path = Path(xhal.__file__).resolve().parent / "bin" / "xhal-runtime-check"
    if not path.is_file():
        raise CheckerNotFound(
            f"{path} does not exist: the installed xhal has no runtime checker (reinstall xhal)"
        )
    return path


@functools.cache
def check_names() -> tuple[str, ...]:
    """Every check the installed checker knows, in the order it runs them."""
    out = subprocess.run(
        [str(checker_path()), "--list"], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return tuple(line.strip() for line in out.splitlines() if line.strip())


def check_ids() -> list[str]:
    return [PREFIX + name for name in check_names()]


def selected(filter: Filter) -> list[str] | None:  # noqa: A002 - the CLI's word
    """Check names the filter selects (None: all of them)."""
    if not filter:
        return None
    return [n for n in check_names() if matches(PREFIX + n, filter)]


def count(filter: Filter) -> int:  # noqa: A002
    """How many checks the filter selects per device (0 when the checker is missing)."""
    try:
        chosen = selected(filter)
        return len(check_names() if chosen is None else chosen)
    except (CheckerNotFound, OSError, subprocess.SubprocessError):
        return 0


def wanted(filter: Filter) -> bool:  # noqa: A002
    """True when the filter selects at least one runtime check."""
    if not filter:
        return True
    try:
        return bool(selected(filter))
    except (CheckerNotFound, OSError, subprocess.SubprocessError):
        return False


def _short(device_type: str) -> str:
    return device_type.rsplit(".", 1)[-1] if device_type else "plugin"


def _row(check: str, device: str, outcome: str, message: str, seconds: float = 0.0) -> CaseResult:
    return CaseResult(
        PREFIX + check, "runtime", "-", device, outcome, message, seconds=seconds,
        kind="runtime", check=check,
    )


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


def run_plugin(
    plugin_path: str | Path,
    *,
    devices: Sequence[int] | None = None,
    filter: Filter = None,  # noqa: A002
    timeout: float = DEFAULT_TIMEOUT,
    progress: Callable[[CaseResult], None] | None = None,
    env: dict[str, str] | None = None,
) -> list[CaseResult]:
    """Run the runtime checks on one plugin (``devices``: its local indices, None for all)."""
    rows: list[CaseResult] = []

    def add(row: CaseResult) -> None:
        rows.append(row)
        if progress is not None:
            progress(row)

    try:
        exe = checker_path()
        only = selected(filter)
    except (CheckerNotFound, OSError, subprocess.SubprocessError) as exc:
        add(_row("checker", _short(""), ERROR, f"runtime checker unavailable: {exc}"))
        return rows
    if only == []:
        return rows
    targets: list[int | None] = [None] if devices is None else list(devices)
    plugin_level: set[str] = set()
    for n, device in enumerate(targets):
        skip = {f"{c}@-1" for c in plugin_level} if n else set()
        _run_target(exe, str(plugin_path), device, only, skip, timeout, env, add, plugin_level)
    return rows


def _run_target(
    exe: Path,
    plugin: str,
    device: int | None,
    only: list[str] | None,
    skip: set[str],
    timeout: float,
    env: dict[str, str] | None,
    add: Callable[[CaseResult], None],
    plugin_level: set[str],
) -> None:
    """One device (or all): the checker, restarted after a check that crashed or hung."""
    short = _short("")
    restarts = 0
    while True:
        cmd = [str(exe), "--json", "--child-timeout", f"{timeout:g}"]
        if device is not None:
            cmd += ["--device", str(device)]
        if only is not None:
            cmd += ["--only", ",".join(only)]
        if skip:
            cmd += ["--skip", ",".join(sorted(skip))]
        cmd.append(plugin)
        state = _Run(cmd, env, timeout + GRACE)  # its children have `timeout` each
        for event in state.events():
            kind = event.get("event")
            if kind == "plugin":
                short = _short(str(event.get("device_type", "")))
            elif kind == "load_error":
                add(_row("load", short, ERROR, f"{plugin}: {event.get('message', '')}"))
            elif kind == "result":
                check, dev = str(event["check"]), int(event["device"])
                name = short if dev < 0 else f"{short}:{dev}"
                if dev < 0:
                    plugin_level.add(check)
                skip.add(f"{check}@{dev}")
                outcome = _OUTCOMES.get(str(event.get("outcome")), ERROR)
                add(_row(check, name, outcome, str(event.get("message", "")),
                         float(event.get("seconds", 0.0))))
        if not state.timed_out and state.code in (0, 1):
            return
        if not state.timed_out and state.code == 2:  # the plugin did not load
            if not state.saw_load_error:
                add(_row("load", short, ERROR, f"{plugin}: {state.stderr_tail()}"))
            return
        # Died (signal) or hung during a check: report that check, go on after it.
        if state.timed_out:
            how, outcome = f"timed out after {timeout + GRACE:g} s (checker killed)", TIMEOUT
        elif state.code is not None and state.code < 0:
            how, outcome = f"killed by {_signal_name(state.code)}", CRASHED
        else:
            how, outcome = f"checker exited with status {state.code}", CRASHED
        tail = state.stderr_tail()
        message = how + (f"; stderr: {tail}" if tail else "")
        if state.current is None:
            add(_row("checker", short, outcome, f"{plugin}: {message}"))
            return
        check, dev = state.current
        name = short if dev < 0 else f"{short}:{dev}"
        add(_row(check, name, outcome, message))
        skip.add(f"{check}@{dev}")
        restarts += 1
        if restarts > _MAX_RESTARTS:
            add(_row("checker", short, ERROR, f"{plugin}: gave up after {restarts} restarts"))
            return


class _Run:
    """The checker as a subprocess whose JSON lines are read with a no-progress timeout."""

    def __init__(self, cmd: list[str], env: dict[str, str] | None, timeout: float) -> None:
        self.timeout = timeout
        self.code: int | None = None
        self.timed_out = False
        self.saw_load_error = False
        self.current: tuple[str, int] | None = None
        self._stderr = b""
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True
        )

    def events(self) -> Iterable[dict[str, Any]]:
        sel = selectors.DefaultSelector()
        assert self.proc.stdout is not None and self.proc.stderr is not None
        sel.register(self.proc.stdout, selectors.EVENT_READ, "out")
        sel.register(self.proc.stderr, selectors.EVENT_READ, "err")
        buf = b""
        open_streams = 2
        deadline = time.monotonic() + self.timeout
        while open_streams:
            left = deadline - time.monotonic()
            if left <= 0:
                self.timed_out = True
                self._kill()
                break
            for key, _ in sel.select(min(left, 1.0)):
                data = os.read(key.fileobj.fileno(), 65536)  # type: ignore[union-attr]
                if not data:
                    sel.unregister(key.fileobj)
                    open_streams -= 1
                    continue
                if key.data == "err":
                    self._stderr = (self._stderr + data)[-4000:]
                    continue
                buf += data
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    event = _parse(line)
                    if event is None:
                        continue
                    deadline = time.monotonic() + self.timeout
                    if event.get("event") == "begin":
                        self.current = (str(event["check"]), int(event["device"]))
                    elif event.get("event") == "result":
                        self.current = None
                    elif event.get("event") == "load_error":
                        self.saw_load_error = True
                    yield event
        sel.close()
        try:
            self.code = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._kill()
            self.code = self.proc.wait()

    def _kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # the checker and its children
        except ProcessLookupError:
            pass

    def stderr_tail(self) -> str:
        text = self._stderr.decode("utf-8", "replace").strip()
        return " | ".join(text.splitlines()[-3:])[-500:]


def _parse(line: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(line.decode("utf-8", "replace"))
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def run_runtime(
    devices: Sequence[Any],
    *,
    deviceless: Sequence[str] = (),
    filter: Filter = None,  # noqa: A002
    timeout: float = DEFAULT_TIMEOUT,
    progress: Callable[[CaseResult], None] | None = None,
) -> list[CaseResult]:
    """The runtime checks for the plugins behind ``devices`` (on those devices only), and for
    the ``deviceless`` plugin libraries (loaded, but with no device: reported ``no-device``)."""
    by_plugin: dict[str, list[int]] = {}
    for d in devices:
        path = str(getattr(d, "plugin_path", "") or "")
        if path:
            by_plugin.setdefault(path, []).append(int(getattr(d, "local_index", 0)))
    rows: list[CaseResult] = []
    for path, indices in by_plugin.items():
        rows += run_plugin(
            path, devices=sorted(set(indices)), filter=filter, timeout=timeout, progress=progress
        )
    for path in deviceless:
        if path not in by_plugin:
            rows += run_plugin(path, filter=filter, timeout=timeout, progress=progress)
    return rows
