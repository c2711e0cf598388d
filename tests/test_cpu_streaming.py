"""Large elementwise outputs are written with streaming stores (plugins/cpu/kernels/
stream_store.h) once a call outgrows the caches (XHAL_CPU_STREAM_MIN_BYTES, by default the L3
plus the threads' L2s): the kernels compute block by block into a small buffer and stream it
out (float32 relu and exp stream straight from registers, vec_math's relu_stream_n and
exp_stream_n), with plain stores for the unaligned ends of each thread's range.
Conformance cases are too small to reach that path, so these tensors are large (12 MiB) and
oddly sized, and the checks run in processes whose threshold is set below them, so that every
machine streams them whatever its caches; results are compared with numpy element for element.
The streaming loops are vec_math's, so the float32 checks also run on each of its
instruction-set paths."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import xhal

N = 3 * 1024 * 1024 + 37  # 12 MiB of float32, not a multiple of any block or vector
STREAMED = {"XHAL_CPU_STREAM_MIN_BYTES": str(1 << 20)}  # every call of N elements streams


def _data(shape: tuple[int, ...], dtype: str, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if dtype.startswith("int"):
        return rng.integers(-1000, 1000, size=shape).astype(dtype)
    return rng.uniform(-5, 5, size=shape).astype(dtype)


def _check_unary() -> None:
    for dtype in ("float32", "float64", "float16", "int32"):
        x = _data((N,), dtype, 0)
        np.testing.assert_array_equal(xhal.ops.relu(xhal.tensor(x)).numpy(), np.maximum(x, 0))
        np.testing.assert_array_equal(xhal.ops.neg(xhal.tensor(x)).numpy(), -x)
        if dtype != "int32":
            got = xhal.ops.leaky_relu(xhal.tensor(x), alpha=0.5).numpy()
            np.testing.assert_array_equal(got, np.where(x < 0, x * np.asarray(0.5, dtype), x))


def _check_binary() -> None:
    for dtype in ("float32", "float64", "int32"):
        for shape_a, shape_b in [((N,), (N,)), ((3, N // 3), (N // 3,)), ((N,), ())]:
            a, b = _data(shape_a, dtype, 1), _data(shape_b, dtype, 2)
            got = xhal.ops.add(xhal.tensor(a), xhal.tensor(b)).numpy()
            np.testing.assert_array_equal(got, a + b, err_msg=f"add {dtype} {shape_a} {shape_b}")
            got = xhal.ops.mul(xhal.tensor(a), xhal.tensor(b)).numpy()
            np.testing.assert_array_equal(got, a * b, err_msg=f"mul {dtype} {shape_a} {shape_b}")


def _check_float32() -> None:
    x = _data((N,), "float32", 3)
    # Every special value at every position modulo a cache line, so each lands in the
    # unaligned head, the streamed middle and the tail of some thread's range.
    specials = np.array([np.nan, -0.0, 0.0, -np.inf, np.inf, -1e-45, 1e-45], np.float32)
    for k, v in enumerate(specials):
        x[k * 17 : N : 113] = v
    got = xhal.ops.relu(xhal.tensor(x)).numpy()
    want = np.where(x < 0, np.float32(0), x)
    np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))  # -0 and NaN bits
    for begin in (0, 1, 5, 16):  # outputs that start off a cache line
        part = np.ascontiguousarray(x[begin:])
        got = xhal.ops.relu(xhal.tensor(part)).numpy()
        np.testing.assert_array_equal(got.view(np.uint32), want[begin:].view(np.uint32))
    # exp streams too: the large call must give, bit for bit, what calls below the streaming
    # threshold give (the same vector loop with plain stores).
    big = xhal.ops.exp(xhal.tensor(x)).numpy()
    for begin in range(0, N, 100_003):
        part = np.ascontiguousarray(x[begin : begin + 100_003])
        small = xhal.ops.exp(xhal.tensor(part)).numpy()
        np.testing.assert_array_equal(
            big[begin : begin + 100_003].view(np.uint32), small.view(np.uint32)
        )
    y = _data((N,), "float32", 4)
    np.testing.assert_array_equal(xhal.ops.add(xhal.tensor(x), xhal.tensor(y)).numpy(), x + y)


CHECKS = {"unary": _check_unary, "binary": _check_binary, "float32": _check_float32}


@pytest.mark.parametrize("check", ["unary", "binary"])
def test_large_outputs_streamed(check: str, run_as_script) -> None:
    run_as_script(__file__, check, **STREAMED)


@pytest.mark.parametrize("isa", ["avx512", "avx2", "baseline"])
@pytest.mark.parametrize("threads", ["1", "2"])
def test_float32_streaming_paths(isa: str, threads: str, run_as_script) -> None:
    run_as_script(__file__, "float32", XHAL_CPU_ISA=isa, XHAL_CPU_THREADS=threads, **STREAMED)


# The same checks in this process, at the machine's own threshold: on most machines these
# tensors then fit the caches and take the plain stores.
@pytest.mark.parametrize("check", sorted(CHECKS))
def test_large_outputs_default_threshold(check: str) -> None:
    CHECKS[check]()


def test_stream_threshold_setting_rejects_junk(run_as_script) -> None:
    proc = run_as_script(__file__, "float32", XHAL_CPU_STREAM_MIN_BYTES="12MiB")
    assert "ignoring XHAL_CPU_STREAM_MIN_BYTES='12MiB' (not a positive integer)" in proc.stderr


if __name__ == "__main__":
    for name in sys.argv[1:]:
        CHECKS[name]()
