"""The CPU plugin's thread pool (plugins/cpu/thread_pool.cpp): workers poll for the next job
for a while before they sleep, and the caller polls for their completion. These runs cross
every transition (a job while workers poll, after they fell asleep, from several host threads
at once) and check every result, with more workers than this machine has cores."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import time
    import numpy as np
    import xhal

    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 4096)).astype(np.float32)  # several grains of work
    y = rng.standard_normal((64, 4096)).astype(np.float32)
    tx, ty = xhal.tensor(x), xhal.tensor(y)
    want_add, want_relu = x + y, np.maximum(x, 0)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    want_softmax = e / e.sum(axis=-1, keepdims=True)

    def check(i):
        k = i % 3
        if k == 0:
            assert np.array_equal(xhal.ops.add(tx, ty).numpy(), want_add)
        elif k == 1:
            assert np.array_equal(xhal.ops.relu(tx).numpy(), want_relu)
        else:
            np.testing.assert_allclose(xhal.ops.softmax(tx, axis=-1).numpy(), want_softmax,
                                       rtol=1e-5, atol=1e-7)

    # One host thread: back to back, then with pauses shorter and longer than the polling.
    for i, pause in enumerate([0.0] * 30 + [5e-5, 2e-4, 1e-3, 5e-3] * 8):
        check(i)
        time.sleep(pause)

    # Several host threads at once: one gets the pool, the others run their share alone.
    def worker(seed):
        for i in range(40):
            check(seed + i)
            if i % 7 == 0:
                time.sleep(1e-3)
    run_in_threads(worker, range(4))
    print("ok")
""")


# Prepended to every script: fn(arg) on a host thread per arg, all at once; the first failure
# of any of them fails the script.
RUN_IN_THREADS = textwrap.dedent("""
    import threading

    def run_in_threads(fn, args):
        errors = []

        def guarded(arg):
            try:
                fn(arg)
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=guarded, args=(arg,)) for arg in args]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
""")


def run_script(script: str, threads: str) -> None:
    """Runs RUN_IN_THREADS + `script` in a fresh process with XHAL_CPU_THREADS=threads; it must
    print "ok"."""
    env = dict(os.environ, XHAL_CPU_THREADS=threads)
    proc = subprocess.run([sys.executable, "-c", RUN_IN_THREADS + script], capture_output=True,
                          text=True, env=env, timeout=300)
    assert proc.returncode == 0, threads + proc.stdout[-2000:] + proc.stderr[-3000:]
    assert proc.stdout.strip().endswith("ok")


def test_pool_transitions_and_concurrent_callers() -> None:
    run_script(SCRIPT, "4")


# Each participant owns a contiguous share of the chunks and then takes what is left of the
# others': with chunk counts below, equal to and above the thread count (3, 4 or 5 threads),
# every element must be written exactly once.
CHUNKS_SCRIPT = textwrap.dedent("""
    import numpy as np
    import xhal

    grain = 32 * 1024
    for n in [2 * grain, 3 * grain + 5, 4 * grain - 1, 5 * grain + 3, 7 * grain, 8 * grain + 11,
              10 * grain + 1, 1_000_003]:
        x = np.arange(n, dtype=np.float32)
        y = np.full(n, 0.5, dtype=np.float32)
        for _ in range(3):
            got = xhal.ops.add(xhal.tensor(x), xhal.tensor(y)).numpy()
            assert np.array_equal(got, x + y), n
            assert np.array_equal(xhal.ops.relu(xhal.tensor(-x)).numpy(), np.zeros(n)), n
    print("ok")
""")


def test_chunk_shares_cover_every_element() -> None:
    for threads in ("3", "4", "5"):
        run_script(CHUNKS_SCRIPT, threads)


# A kernel that hands its work to OpenBLAS first parks the pool's workers (they stop polling for
# the next job and sleep); the next parallel kernel must wake them again, from this host thread
# or from several at once.
PARK_SCRIPT = textwrap.dedent("""
    import numpy as np
    import xhal

    rng = np.random.default_rng(0)
    a = rng.standard_normal((96, 80)).astype(np.float32)
    b = rng.standard_normal((80, 64)).astype(np.float32)
    x = rng.standard_normal(300_001).astype(np.float32)
    ta, tb, tx = xhal.tensor(a), xhal.tensor(b), xhal.tensor(x)
    want_mm, want_relu = a @ b, np.maximum(x, 0)

    def loop(rounds):
        for _ in range(rounds):
            assert np.array_equal(xhal.ops.relu(tx).numpy(), want_relu)
            assert np.allclose(xhal.ops.matmul(ta, tb).numpy(), want_mm, rtol=1e-5, atol=1e-4)

    loop(200)
    run_in_threads(loop, [50] * 3)
    print("ok")
""")


@pytest.mark.parametrize("threads", ["2", "3"])
def test_pool_wakes_after_blas_parked_it(threads: str) -> None:
    run_script(PARK_SCRIPT, threads)
