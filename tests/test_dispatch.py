"""Eager op calls: argument checking, dtype binding, shape errors, kernel resolution."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import xhal


def t(a, dtype="float32"):
    return xhal.tensor(np.asarray(a, dtype=dtype))


def test_add_broadcasts() -> None:
    out = xhal.ops.add(t(np.ones((2, 1, 3))), t(np.arange(4).reshape(4, 1)))
    assert out.shape == (2, 4, 3)
    assert np.array_equal(out.numpy(), np.ones((2, 1, 3)) + np.arange(4).reshape(4, 1))


def test_gemm_attributes_and_optional_input() -> None:
    a, b = np.random.default_rng(0).standard_normal((2, 4, 3)).astype(np.float32)
    out = xhal.ops.gemm(t(a), t(b), None, alpha=0.5, trans_a=1).numpy()
    np.testing.assert_allclose(out, 0.5 * a.T @ b, rtol=1e-5, atol=1e-6)


def test_host_memory_inputs_accept_lists() -> None:
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    assert xhal.ops.reshape(t(x), np.array([4, -1])).shape == (4, 6)
    r = xhal.ops.reduce_sum(t(x), np.array([0, 2]), keepdims=0)
    np.testing.assert_allclose(r.numpy(), x.sum(axis=(0, 2)))


def test_dtype_mismatch_names_the_type_variable() -> None:
    with pytest.raises(xhal.InvalidArgumentError, match="type variable T is float32"):
        xhal.ops.add(t([1.0]), t([1.0], "float64"))


def test_shape_error_names_op_rule_and_shapes() -> None:
    with pytest.raises(xhal.ShapeError) as info:
        xhal.ops.matmul(t(np.ones((2, 3))), t(np.ones((4, 5))))
    message = str(info.value)
    assert "matmul" in message and "[2, 3]" in message and "[4, 5]" in message


def test_unknown_attribute_is_rejected() -> None:
    with pytest.raises(TypeError):
        xhal.ops.softmax(t([1.0, 2.0]), axes=0)  # the attribute is `axis`


def test_attribute_outside_allowed_values() -> None:
    with pytest.raises(ValueError, match="trans_a.*not one of"):
        xhal.ops.gemm(t(np.ones((2, 2))), t(np.ones((2, 2))), trans_a=2)


def test_dtype_outside_the_standard_is_invalid() -> None:
    with pytest.raises(xhal.InvalidArgumentError, match="T admits only float32, float64, float16"):
        xhal.ops.softmax(t([1, 2], "int32"))


def test_non_tensor_input_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="add: input B must be an xhal.Tensor"):
        xhal.ops.add(t([1.0]), np.ones(1, np.float32))


def test_wrappers_carry_the_spec_signature_and_doc() -> None:
    sig = inspect.signature(xhal.ops.gemm)
    assert sig.parameters["alpha"].default == 1.0
    assert sig.parameters["trans_b"].default == 0
    assert sig.parameters["C"].default is None
    assert "ONNX Gemm-13" in xhal.ops.gemm.__doc__

