"""xhal: an open hardware-abstraction and operator-standard SDK.

    import xhal, numpy as np
    a = xhal.tensor(np.ones((2, 3), np.float32))
    b = xhal.ops.add(a, a)
    b.numpy()
"""

from __future__ import annotations

from . import (
    errors,
    ops,  # noqa: E402  (after Tensor: the wrappers import it)
)
from ._runtime import device, devices, load_plugin, plugins, skipped_plugins
from ._specs import cmake_dir, spec_dir, specs
from .device import Device
from .errors import (
    ABIMismatchError,
    DeviceError,
    InvalidArgumentError,
    OutOfMemoryError,
    PluginLoadError,
    ShapeError,
    UnsupportedError,
    XhalError,
)
from .tensor import Tensor, from_dlpack, tensor

__version__ = "0.1.0"

__all__ = [
    "ABIMismatchError", "Device", "DeviceError", "InvalidArgumentError", "OutOfMemoryError",
    "PluginLoadError", "ShapeError", "Tensor", "UnsupportedError", "XhalError", "cmake_dir",
    "device", "devices", "errors", "from_dlpack", "load_plugin", "ops", "plugins",
    "skipped_plugins",
    "spec_dir", "specs", "tensor",
]
