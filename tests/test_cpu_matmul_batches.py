"""The CPU plugin's batched matmul: batches at uniform steps (dense, or one operand broadcast
across all of them) go to OpenBLAS in one strided batched call; partial broadcasts run product
by product. Both must agree with numpy for every batch layout."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xhal

batch_dims = st.lists(st.integers(1, 4), min_size=0, max_size=3)


@settings(max_examples=60, deadline=None)
@given(batch=batch_dims, m=st.integers(1, 40), k=st.integers(0, 40), n=st.integers(1, 40),
       dtype=st.sampled_from(["float32", "float64"]), data=st.data())
def test_batched_matmul_matches_numpy(batch: list[int], m: int, k: int, n: int, dtype: str,
                                      data: st.DataObject) -> None:
    # Each operand keeps a batch dimension, drops it to 1 (broadcast) or loses leading ones.
    a_batch = [data.draw(st.sampled_from([d, 1])) for d in batch]
    b_batch = [data.draw(st.sampled_from([d, 1])) for d in batch]
    b_batch = b_batch[data.draw(st.integers(0, len(b_batch))):]
    rng = np.random.default_rng(m * 1000 + k * 10 + n)
    a = rng.standard_normal((*a_batch, m, k)).astype(dtype)
    b = rng.standard_normal((*b_batch, k, n)).astype(dtype)
    got = xhal.ops.matmul(xhal.tensor(a), xhal.tensor(b)).numpy()
    want = np.matmul(a, b)
    assert got.shape == want.shape
    tol = 1e-4 if dtype == "float32" else 1e-10
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * max(k, 1))


@pytest.mark.parametrize("a_shape,b_shape", [
    ((12, 128, 64), (12, 64, 128)),   # attention scores: dense batches
    ((1, 12, 32, 16), (3, 1, 16, 8)),  # partial broadcast: product by product
    ((5, 7, 3), (3, 9)),               # B without batch: folded into rows
    ((7, 3), (5, 3, 9)),               # A broadcast across all batches: step 0
])
def test_batch_layouts(a_shape: tuple[int, ...], b_shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal(a_shape).astype(np.float32)
    b = rng.standard_normal(b_shape).astype(np.float32)
    got = xhal.ops.matmul(xhal.tensor(a), xhal.tensor(b)).numpy()
    np.testing.assert_allclose(got, np.matmul(a, b), rtol=1e-4, atol=1e-4)
