"""constant and constant_of_shape: ops without device inputs, typed by their attributes.

Called eagerly they run on the default device or on ``device=``; the output dtype follows the
attribute that is set (tensor: its dtype; value_float(s): float32; value_int(s): int64), and
exactly one must be set. The CPU kernels tell a set scalar/list attribute from an absent one
by the generated ``<name>_given`` flag.
"""

from __future__ import annotations

import numpy as np
import pytest

import xhal
from xhal import _C, _dispatch, errors


@pytest.mark.parametrize("device", [None, "cpu", "cpu:0"])
def test_constant_attributes_and_devices(device: str | None) -> None:
    cases = [
        ({"value_float": 1.5}, np.asarray(1.5, np.float32)),
        ({"value_floats": [1.0, -2.5]}, np.asarray([1.0, -2.5], np.float32)),
        ({"value_floats": []}, np.zeros(0, np.float32)),
        ({"value_int": -(2**62) - 3}, np.asarray(-(2**62) - 3, np.int64)),
        ({"value_ints": [3, 2, 1]}, np.asarray([3, 2, 1], np.int64)),
        ({"value_ints": []}, np.zeros(0, np.int64)),
        ({"value": np.arange(6, dtype=np.int8).reshape(2, 3)}, np.arange(6, dtype=np.int8)
         .reshape(2, 3)),
        ({"value": np.array([True, False])}, np.array([True, False])),
        ({"value": np.float64(2.25)}, np.asarray(2.25, np.float64)),
    ]
    for attrs, want in cases:
        got = xhal.ops.constant(**attrs, device=device)
        assert got.device.name == "cpu:0"
        arr = got.numpy()
        assert arr.dtype == want.dtype and arr.shape == want.shape, attrs
        assert np.array_equal(arr, want), attrs


def test_constant_takes_an_xhal_tensor_as_value() -> None:
    t = xhal.Tensor.from_numpy(np.array([[1.5, 2.5]], np.float16), "cpu")
    got = xhal.ops.constant(value=t, device="cpu")
    assert got.dtype == "float16" and got.numpy().tolist() == [[1.5, 2.5]]


@pytest.mark.parametrize("attrs", [{}, {"value_int": 1, "value_float": 2.0},
                                   {"value": np.zeros(2), "value_ints": [1]}])
def test_constant_needs_exactly_one_attribute(attrs: dict) -> None:
    with pytest.raises(errors.ShapeError, match="exactly one of value, value_float"):
        xhal.ops.constant(**attrs)


def test_constant_list_and_scalar_attributes_are_checked() -> None:
    with pytest.raises((TypeError, errors.ShapeError)):
        xhal.ops.constant(value_int=[1, 2])
    with pytest.raises((TypeError, errors.ShapeError)):
        xhal.ops.constant(value_floats=1.5)


def test_the_kernel_reads_the_given_flags() -> None:
    """Past the host's checks, the kernel itself refuses two attributes, and an int attribute
    set to 0 counts as set (0 is a value, not "absent")."""
    spec = xhal.specs()["ops"]["constant"]
    dev = xhal.device("cpu")
    out = xhal.Tensor.empty((), "int64", dev)
    with pytest.raises(errors.XhalError, match="exactly one of value"):
        _C.launch(dev.index, spec["op_id"], spec["version"], [],
                  {"value_int": 1, "value_float": 2.0}, [out._impl])
    with pytest.raises(errors.XhalError, match="exactly one of value"):
        _C.launch(dev.index, spec["op_id"], spec["version"], [], {}, [out._impl])
    _C.launch(dev.index, spec["op_id"], spec["version"], [], {"value_int": 0}, [out._impl])
    assert out.numpy() == 0
    wrong = xhal.Tensor.empty((), "float32", dev)
    with pytest.raises(errors.XhalError, match="value_int gives dtype"):
        _C.launch(dev.index, spec["op_id"], spec["version"], [], {"value_int": 3},
                  [wrong._impl])


@pytest.mark.parametrize("device", [None, "cpu"])
def test_constant_of_shape(device: str | None) -> None:
    z = xhal.ops.constant_of_shape(np.array([2, 3], np.int64), device=device)
    assert z.dtype == "float32" and z.numpy().tolist() == [[0.0] * 3] * 2
    v = xhal.ops.constant_of_shape([4], value=np.array([7], np.uint8), device=device)
    assert v.dtype == "uint8" and v.numpy().tolist() == [7] * 4
    s = xhal.ops.constant_of_shape(np.zeros(0, np.int64), value=np.array([True]))
    assert s.shape == () and s.numpy() == np.True_
    e = xhal.ops.constant_of_shape([3, 0], value=np.array([1.5], np.float16))
    assert e.shape == (3, 0) and e.dtype == "float16"
    shape = xhal.Tensor.from_numpy(np.array([2, 2], np.int64), "cpu")  # an xhal tensor input
    assert xhal.ops.constant_of_shape(shape, value=np.array([-1], np.int32)).numpy().tolist() \
        == [[-1, -1], [-1, -1]]


def test_constant_of_shape_errors() -> None:
    with pytest.raises(errors.ShapeError, match="value must hold one element"):
        xhal.ops.constant_of_shape([2], value=np.array([1, 2], np.int64))
    with pytest.raises(errors.ShapeError, match="negative dimension"):
        xhal.ops.constant_of_shape([2, -1])
    with pytest.raises(errors.InvalidArgumentError, match="must be int64"):
        xhal.ops.constant_of_shape(np.array([2], np.int32))


def test_dtype_from_attributes() -> None:
    spec = xhal.specs()["ops"]["constant"]
    full = {a["name"]: None for a in spec["attributes"]}
    assert _dispatch._dtype_from_attrs(spec, {**full, "value_ints": []}, "T") == "int64"
    assert _dispatch._dtype_from_attrs(spec, {**full, "value_float": 0.0}, "T") == "float32"
    assert _dispatch._dtype_from_attrs(
        spec, {**full, "value": np.zeros(1, np.int32)}, "T") == "int32"
