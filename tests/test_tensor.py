"""xhal.Tensor: numpy round trips, DLPack exchange without copies, device moves."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import xhal

DTYPES = ["float32", "float64", "float16", "int32", "int64", "int8", "uint8", "bool"]


@pytest.fixture(scope="module")
def cpu() -> xhal.Device:
    return xhal.device("cpu")


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(DTYPES).flatmap(
    lambda dt: hnp.arrays(np.dtype(dt), hnp.array_shapes(min_dims=0, max_dims=4, min_side=0,
                                                         max_side=5))))
def test_numpy_round_trip_is_bit_exact(array: np.ndarray) -> None:
    t = xhal.Tensor.from_numpy(array)
    assert t.shape == array.shape
    assert t.dtype == array.dtype.name
    back = t.numpy()
    assert back.dtype == array.dtype
    assert back.tobytes() == np.ascontiguousarray(array).tobytes()


def test_bfloat16_round_trip() -> None:
    ml_dtypes = pytest.importorskip("ml_dtypes")
    a = np.array([1.5, -2.25, np.inf], dtype=ml_dtypes.bfloat16)
    t = xhal.Tensor.from_numpy(a)
    assert t.dtype == "bfloat16"
    assert t.numpy().tobytes() == a.tobytes()


def test_from_numpy_copies_non_contiguous_input() -> None:
    a = np.arange(24, dtype=np.float32).reshape(4, 6)[:, ::2]
    assert np.array_equal(xhal.Tensor.from_numpy(a).numpy(), a)


def test_export_to_numpy_shares_memory(cpu: xhal.Device) -> None:
    t = xhal.tensor(np.arange(12, dtype=np.float32).reshape(3, 4), device=cpu)
    view = np.from_dlpack(t)
    assert view.ctypes.data == t.data_ptr  # no copy
    assert view.shape == (3, 4)
    assert np.array_equal(view, np.arange(12, dtype=np.float32).reshape(3, 4))
    del t  # the capsule keeps the buffer alive
    assert view.sum() == 66


def test_import_from_numpy_shares_memory(cpu: xhal.Device) -> None:
    a = np.arange(10, dtype=np.int64)
    t = xhal.from_dlpack(a)
    assert t.data_ptr == a.ctypes.data  # no copy
    assert t.device == cpu
    assert t.shape == (10,) and t.dtype == "int64"
    a[3] = 100  # same memory
    assert t.numpy()[3] == 100


def test_round_trip_numpy_xhal_numpy_keeps_one_buffer() -> None:
    a = np.linspace(0, 1, 7, dtype=np.float64)
    back = np.from_dlpack(xhal.from_dlpack(a))
    assert back.ctypes.data == a.ctypes.data
    assert np.array_equal(back, a)


def test_import_strided_view_keeps_strides_and_ops_see_values() -> None:
    base = np.arange(20, dtype=np.float32).reshape(4, 5)
    view = base[:, 1::2]  # strided, offset
    t = xhal.from_dlpack(view)
    assert t.shape == (4, 2)
    assert t.strides == (5, 2)
    assert np.array_equal(t.numpy(), view)
    # the dispatcher makes strided inputs compact for kernels that need it
    assert np.array_equal(xhal.ops.add(t, t).numpy(), view + view)


def test_dlpack_device_and_legacy_capsule(cpu: xhal.Device) -> None:
    t = xhal.tensor(np.ones(3, np.float32))
    assert t.__dlpack_device__() == (1, 0)  # kDLCPU, device 0
    legacy = t.__dlpack__()  # no max_version: a pre-1.0 "dltensor" capsule
    assert "dltensor" in repr(legacy)
    imported = xhal.Tensor(xhal._C.from_dlpack_capsule(legacy, cpu.index), cpu)
    assert imported.data_ptr == t.data_ptr


def test_consumed_capsule_cannot_be_imported_twice(cpu: xhal.Device) -> None:
    capsule = xhal.tensor(np.ones(3, np.float32)).__dlpack__(max_version=(1, 0))
    xhal._C.from_dlpack_capsule(capsule, cpu.index)
    with pytest.raises(BufferError, match="already consumed"):
        xhal._C.from_dlpack_capsule(capsule, cpu.index)


def test_copy_true_is_refused() -> None:
    with pytest.raises(BufferError):
        xhal.tensor(np.ones(2, np.float32)).__dlpack__(copy=True)


def test_to_same_device_is_identity(cpu: xhal.Device) -> None:
    t = xhal.tensor(np.ones(2, np.float32), device=cpu)
    assert t.to(cpu) is t
    assert t.to("cpu:0") is t


def test_unknown_device_name_is_a_clear_error() -> None:
    with pytest.raises(xhal.XhalError, match="no device named 'warp9'"):
        xhal.device("warp9")


def test_caching_allocator_reuses_blocks(cpu: xhal.Device) -> None:
    cpu.empty_cache()
    a = xhal.Tensor.empty((1000,), "float32", cpu)
    ptr = a.data_ptr
    del a
    assert cpu.memory_stats()["cached"] >= 4000
    b = xhal.Tensor.empty((1000,), "float32", cpu)
    assert b.data_ptr == ptr  # same size class, same block
    del b
    cpu.empty_cache()
    assert cpu.memory_stats()["cached"] == 0


def test_cpu_plugin_starts_blocks_of_64_kib_or_more_on_a_page(cpu: xhal.Device) -> None:
    # D33: a kernel's input and output then never sit a few cache lines apart modulo 4 KiB.
    cpu.empty_cache()
    small = [xhal.Tensor.empty((n,), "float32", cpu) for n in (1, 100, 1000, 16 * 1024 - 1)]
    large = [xhal.Tensor.empty((n,), "float32", cpu) for n in (16 * 1024, 300_000, 1_000_000)]
    assert all(t.data_ptr % 64 == 0 for t in small)
    assert all(t.data_ptr % 4096 == 0 for t in large)
    assert xhal.ops.exp(large[-1]).data_ptr % 4096 == 0  # a kernel's output alike
