"""Strided conformance inputs on devices that cannot read host memory: the runner rebuilds the
view on the device (whole buffer uploaded, then an as_strided view), so strided kernels are
tested there too. Checked here on cpu:0, where the same code path runs."""

from __future__ import annotations

import numpy as np
import pytest

import xhal
from xhal.conformance.runner import _device_view, strided_view


@pytest.mark.parametrize("layout", ["transposed", "step2", "offset"])
@pytest.mark.parametrize("dtype", ["float32", "int64", "bfloat16"])
def test_view_rebuilt_on_the_device_keeps_values_and_strides(layout: str, dtype: str) -> None:
    arr = np.arange(24, dtype=np.float64).reshape(2, 3, 4).astype(xhal.dtypes.numpy_dtype(dtype))
    view = strided_view(arr, layout)
    t = _device_view(view, xhal.device("cpu:0"))
    assert t.shape == arr.shape
    assert list(t.strides) == [s // view.itemsize for s in view.strides]
    assert not t._impl.is_compact or t._impl.byte_offset > 0  # "offset" is compact, offset
    np.testing.assert_array_equal(t.numpy(), arr)


def test_strided_op_input_rebuilt_on_the_device_gives_the_right_result() -> None:
    a = np.random.default_rng(0).standard_normal((3, 5)).astype(np.float32)
    view = strided_view(a, "transposed")
    out = xhal.ops.relu(_device_view(view, xhal.device("cpu:0")))
    np.testing.assert_array_equal(out.numpy(), np.maximum(a, 0))


def test_as_strided_refuses_a_view_outside_the_buffer() -> None:
    t = xhal.tensor(np.zeros(6, np.float32))
    with pytest.raises(ValueError, match="reaches byte"):
        t.as_strided([2, 4], [4, 1])
