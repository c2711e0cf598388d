"""The native eager fast path (hal/python/fast_op.cpp) must agree with the general path.

A call without ``device=`` takes the native path when it can; naming the device forces the
general path (Python shape rules, every check). For random shapes, valid or not, both must give
the same output shape and values, or the same error. Matmul and gemm are covered here because
their shape rules were re-written natively; elementwise broadcasting is exercised everywhere.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xhal
from xhal import _dispatch


def _tensor(shape: tuple[int, ...], seed: int) -> xhal.Tensor:
    return xhal.tensor(np.random.default_rng(seed).standard_normal(shape).astype(np.float32))


def _both_paths(op: str, *args, **attrs):
    """(native result or exception, general result or exception)."""
    results = []
    for device in (None, "cpu:0"):
        try:
            results.append(getattr(xhal.ops, op)(*args, device=device, **attrs))
        except Exception as e:  # compared below: the same class of error is required
            results.append(e)
    return results


def _assert_same(native, general) -> None:
    if isinstance(general, Exception):
        assert type(native) is type(general), (native, general)
        return
    assert not isinstance(native, Exception), native
    assert native.shape == general.shape
    np.testing.assert_array_equal(native.numpy(), general.numpy())


@pytest.mark.parametrize("op", ["matmul", "gemm", "add", "relu", "softmax", "conv"])
def test_the_native_path_exists_for(op: str) -> None:
    if op == "conv":
        xhal.ops.conv(_tensor((1, 1, 3, 3), 0), _tensor((1, 1, 2, 2), 0))
    else:
        getattr(xhal.ops, op)(*(_tensor((2, 2), 0),) * (1 if op in ("relu", "softmax") else 2))
    assert _dispatch._PLANS[op].native is not None


dims = st.integers(min_value=0, max_value=4)
shapes = st.lists(dims, min_size=1, max_size=4).map(tuple)


@settings(max_examples=150, deadline=None)
@given(a=shapes, b=shapes, data=st.data())
def test_matmul_native_agrees_with_general(a: tuple, b: tuple, data: st.DataObject) -> None:
    if data.draw(st.booleans()) and len(a) >= 1 and len(b) >= 2:  # make K agree half the time
        b = (*b[:-2], a[-1], b[-1])
    native, general = _both_paths("matmul", _tensor(a, 1), _tensor(b, 2))
    _assert_same(native, general)
    if not isinstance(general, Exception):
        expected = np.matmul(_tensor(a, 1).numpy(), _tensor(b, 2).numpy())
        assert general.shape == expected.shape
        np.testing.assert_allclose(general.numpy(), expected, rtol=1e-5, atol=1e-5)


@settings(max_examples=150, deadline=None)
@given(m=dims, k=dims, n=dims, ta=st.integers(0, 1), tb=st.integers(0, 1),
       c=st.sampled_from([None, (), (1,), ("n",), ("m", 1), ("m", "n"), (1, "n"), (2, 3, 4),
                          ("k",)]),
       rank_a=st.integers(1, 3))
def test_gemm_native_agrees_with_general(m: int, k: int, n: int, ta: int, tb: int, c,
                                         rank_a: int) -> None:
    a_shape = (k, m) if ta else (m, k)
    if rank_a != 2:  # gemm wants 2-D operands: both paths must refuse the same way
        a_shape = a_shape[:1] if rank_a == 1 else (1, *a_shape)
    b_shape = (n, k) if tb else (k, n)
    inputs = [_tensor(a_shape, 3), _tensor(b_shape, 4)]
    if c is not None:
        sizes = {"m": m, "n": n, "k": k}
        inputs.append(_tensor(tuple(sizes.get(d, d) for d in c), 5))
    else:
        inputs.append(None)
    native, general = _both_paths("gemm", *inputs, trans_a=ta, trans_b=tb, alpha=0.5, beta=2.0)
    _assert_same(native, general)


def test_gemm_native_path_rejects_like_the_general_one() -> None:
    with pytest.raises(xhal.ShapeError, match="inner dimensions differ"):
        xhal.ops.gemm(_tensor((2, 3), 0), _tensor((4, 5), 0))
    with pytest.raises(ValueError, match="trans_b.*not one of"):
        xhal.ops.gemm(_tensor((2, 3), 0), _tensor((3, 5), 0), trans_b=3)


@settings(max_examples=60, deadline=None)
@given(shape=st.lists(dims, min_size=0, max_size=3).map(tuple),
       axis=st.one_of(st.none(), st.integers(-5, 4)), log=st.booleans())
def test_softmax_native_agrees_with_general(shape: tuple, axis: int | None, log: bool) -> None:
    attrs = {} if axis is None else {"axis": axis}
    native, general = _both_paths("log_softmax" if log else "softmax", _tensor(shape, 6), **attrs)
    _assert_same(native, general)


def test_non_integer_rule_attributes_take_the_general_path() -> None:
    with pytest.raises(TypeError):
        xhal.ops.softmax(_tensor((2, 3), 0), axis=1.5)
    with pytest.raises((TypeError, OverflowError, ValueError)):
        xhal.ops.softmax(_tensor((2, 3), 0), axis=2**70)


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 3), c=st.integers(1, 4), m=st.integers(1, 4), group=st.integers(1, 3),
       size=st.integers(1, 6), k=st.integers(1, 3), stride=st.integers(1, 3),
       dilation=st.integers(1, 2), pad=st.integers(0, 2), bias=st.booleans(),
       auto_pad=st.sampled_from(["NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER", "BAD"]),
       kernel_shape=st.booleans(), data=st.data())
def test_conv_native_agrees_with_general(n: int, c: int, m: int, group: int, size: int, k: int,
                                         stride: int, dilation: int, pad: int, bias: bool,
                                         auto_pad: str, kernel_shape: bool,
                                         data: st.DataObject) -> None:
    # Shapes and attributes valid or not (group not dividing, kernel past the padded input,
    # attribute lists of the wrong length, a bad auto_pad): both paths must agree.
    w_c = data.draw(st.sampled_from([c // group if group else c, c, 1]))
    attrs: dict = {"group": group, "auto_pad": auto_pad,
                   "strides": [stride] * data.draw(st.sampled_from([n, n, n - 1])),
                   "dilations": [dilation] * n}
    if auto_pad == "NOTSET":
        attrs["pads"] = [pad] * (2 * n)
    if kernel_shape:
        attrs["kernel_shape"] = [k] * n
    x = _tensor((1, c, *[size] * n), 7)
    w = _tensor((m, max(w_c, 1), *[k] * n), 8)
    b = _tensor((m,), 9) if bias else None
    native, general = _both_paths("conv", x, w, b, **attrs)
    _assert_same(native, general)
