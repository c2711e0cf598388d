"""xhal.Tensor: an n-dimensional array on an xhal device, exchangeable with numpy (and any
DLPack consumer or producer) without copies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _C
from ._runtime import device as _device
from ._runtime import devices as _devices
from .device import Device
from .dtypes import dtype_id, dtype_name, from_numpy_dtype, numpy_dtype
from .errors import XhalError

_DL_CUDA = 2  # DLPack kDLCUDA


def raw_view(array: np.ndarray) -> np.ndarray:
    """The array itself, or a same-bytes uint16 view for extension dtypes (bfloat16) that the
    buffer protocol cannot describe."""
    if array.dtype.kind == "V" or array.dtype.char == "E":
        return array.view(np.uint16)
    return array


class Tensor:
    """A view of device memory with a shape, strides (in elements) and an xhal dtype."""

    __slots__ = ("_impl", "_device")

    def __init__(self, impl: _C.TensorImpl, device: Device | None) -> None:
        self._impl = impl
        self._device = device

    # ---- construction ----------------------------------------------------------------------
    @classmethod
    def from_numpy(cls, array: Any, device: Device | str | None = None) -> Tensor:
        """Copy ``array`` to ``device`` (default: the CPU device)."""
        dev = _device(device)
        arr = np.asarray(array, order="C")  # ascontiguousarray would make 0-d arrays 1-d
        name = from_numpy_dtype(arr.dtype)
        return cls(_C.TensorImpl.from_array(raw_view(arr), dev.index, dtype_id(name)), dev)

    @classmethod
    def empty(cls, shape: Sequence[int], dtype: str, device: Device | str | None = None) -> Tensor:
        dev = _device(device)
        return cls(_C.TensorImpl.empty(dev.index, dtype_id(dtype), [int(d) for d in shape]), dev)

    # ---- properties ------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self._impl.shape

    @property
    def strides(self) -> tuple[int, ...]:
        """Strides in elements (DLPack convention)."""
        return self._impl.strides

    @property
    def dtype(self) -> str:
        return dtype_name(self._impl.dtype)

    @property
    def device(self) -> Device | None:
        """The device holding the data (None for plain host memory lent by a producer)."""
        return self._device

    @property
    def ndim(self) -> int:
        return len(self._impl.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self._impl.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        return self._impl.nbytes

    @property
    def data_ptr(self) -> int:
        return self._impl.data_ptr

    def as_strided(self, shape: Sequence[int], strides: Sequence[int], offset: int = 0) -> Tensor:
        """A view of this tensor's memory with other sizes and strides (both in elements) from
        element ``offset`` of the underlying buffer, as ``torch.as_strided``; no copy. The view
        must stay inside the buffer (ValueError otherwise)."""
        item = np.dtype(numpy_dtype(self.dtype)).itemsize
        impl = self._impl.as_strided([int(d) for d in shape], [int(s) for s in strides],
                                     int(offset) * item)
        return Tensor(impl, self._device)

    # ---- conversion ------------------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """A numpy copy of the data (works for every device; use numpy.from_dlpack to share)."""
        if not self._impl.is_compact:
            # Made compact by the device itself (identity takes strided inputs, or the host
            # compacts them), which also covers devices the host cannot read and bfloat16,
            # which numpy cannot import through DLPack.
            from .ops import identity

            return identity(self).numpy()
        out = np.empty(self.shape, dtype=numpy_dtype(self.dtype))
        self._impl.copy_to_array(raw_view(out))
        return out

    def to(self, device: Device | str) -> Tensor:
        """This tensor on ``device`` (itself when already there). Copies go through the host."""
        dev = _device(device)
        if self._device is not None and dev.index == self._device.index:
            return self
        return Tensor.from_numpy(self.numpy(), dev)

    def __dlpack__(self, *, stream: Any = None, max_version: tuple[int, int] | None = None,
                   dl_device: tuple[int, int] | None = None, copy: bool | None = None) -> Any:
        return self._impl.__dlpack__(stream=stream, max_version=max_version,
                                     dl_device=dl_device, copy=copy)

    def __dlpack_device__(self) -> tuple[int, int]:
        return self._impl.__dlpack_device__()

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        arr = self.numpy()
        return arr if dtype is None else arr.astype(dtype)

    def __repr__(self) -> str:
        where = self._device.name if self._device else "host"
        return f"xhal.Tensor(shape={list(self.shape)}, dtype={self.dtype}, device={where})"


def tensor(data: Any, device: Device | str | None = None, dtype: str | None = None) -> Tensor:
    """Build a tensor from array-like data (a copy)."""
    arr = np.asarray(data, dtype=numpy_dtype(dtype) if dtype else None)
    return Tensor.from_numpy(arr, device)


def from_dlpack(obj: Any) -> Tensor:
    """Wrap any DLPack producer (numpy, PyTorch, CuPy, JAX...) as an xhal Tensor, no copy."""
    dl_type, dl_id = obj.__dlpack_device__()
    match = next((d for d in _devices() if d.properties["dlpack_device_type"] == dl_type
                  and d.local_index == dl_id), None)
    # On a device with streams, ask the producer to order its pending work before our default
    # stream (DLPack's `stream` argument), so no one synchronises the device.
    kwargs: dict[str, Any] = {}
    if match is not None and dl_type == _DL_CUDA:
        try:
            kwargs["stream"] = match.native_stream
        except XhalError:
            pass
    try:
        capsule = obj.__dlpack__(max_version=(1, 0), **kwargs)
    except TypeError:  # producers that predate DLPack 1.0 and the max_version keyword
        capsule = obj.__dlpack__(**kwargs)
    index = match.index if match is not None else -1
    return Tensor(_C.from_dlpack_capsule(capsule, index), match)
