"""Large elementwise outputs are written with streaming stores (plugins/cpu/kernels/
stream_store.h): beyond the threads' L2 caches the kernels compute block by block into a small
buffer and stream it out, with plain stores for the unaligned ends of each thread's range.
Conformance cases are too small to reach that path, so these tensors are large (tens of MiB)
and oddly sized, and the results are checked against numpy element for element."""

from __future__ import annotations

import numpy as np
import pytest

import xhal

N = 3 * 1024 * 1024 + 37  # well past 2 threads' L2, not a multiple of any block or vector


def _data(shape: tuple[int, ...], dtype: str, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if dtype.startswith("int"):
        return rng.integers(-1000, 1000, size=shape).astype(dtype)
    return rng.uniform(-5, 5, size=shape).astype(dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int32"])
def test_large_unary_outputs(dtype: str) -> None:
    x = _data((N,), dtype, 0)
    np.testing.assert_array_equal(xhal.ops.relu(xhal.tensor(x)).numpy(), np.maximum(x, 0))
    np.testing.assert_array_equal(xhal.ops.neg(xhal.tensor(x)).numpy(), -x)
    if dtype != "int32":
        got = xhal.ops.leaky_relu(xhal.tensor(x), alpha=0.5).numpy()
        np.testing.assert_array_equal(got, np.where(x < 0, x * np.asarray(0.5, dtype), x))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
@pytest.mark.parametrize(("shape_a", "shape_b"), [((N,), (N,)), ((3, N // 3), (N // 3,)),
                                                  ((N,), ())])
def test_large_binary_outputs(dtype: str, shape_a: tuple, shape_b: tuple) -> None:
    a, b = _data(shape_a, dtype, 1), _data(shape_b, dtype, 2)
    np.testing.assert_array_equal(xhal.ops.add(xhal.tensor(a), xhal.tensor(b)).numpy(), a + b)
    np.testing.assert_array_equal(xhal.ops.mul(xhal.tensor(a), xhal.tensor(b)).numpy(), a * b)
