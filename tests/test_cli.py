"""The `xhal` command line as a shell user meets it."""

from __future__ import annotations

import subprocess
import sys


def test_a_closed_pipe_ends_quietly() -> None:
    # `xhal conformance --list | head -1`: the reader leaves early; no traceback.
    proc = subprocess.Popen([sys.executable, "-m", "xhal", "conformance", "--list"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    assert proc.stdout.readline()
    proc.stdout.close()
    _, err = proc.communicate(timeout=120)
    assert b"Traceback" not in err and b"BrokenPipe" not in err, err.decode()[-2000:]


def test_version_names_the_abi() -> None:
    out = subprocess.run([sys.executable, "-m", "xhal", "--version"], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    assert out.startswith("xhal ") and "ABI 1." in out
