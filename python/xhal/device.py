"""Devices: every device of every loaded plugin, numbered globally in load order."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import _C
from .dtypes import names_in_mask

_KINDS = {0: "cpu", 1: "gpu", 2: "npu", 3: "other"}


@dataclass(frozen=True)
class Device:
    index: int  # global index in this process
    device_type: str  # namespaced plugin device type, e.g. "xhal.cpu"
    local_index: int  # the plugin's own index
    properties: dict[str, Any] = field(compare=False, repr=False)

    @property
    def name(self) -> str:
        """Short name: the device type without its namespace, e.g. ``cpu:0``."""
        return f"{self.device_type.rsplit('.', 1)[-1]}:{self.local_index}"

    @property
    def plugin_path(self) -> str:
        return self.properties["plugin_path"]

    @property
    def host_accessible(self) -> bool:
        return bool(self.properties["flags"] & 1)

    def synchronize(self) -> None:
        _C.synchronize(self.index)

    @property
    def native_stream(self) -> int:
        """The default stream's native handle (a ``cudaStream_t`` on xhal.cuda): run a
        framework's work on it, e.g. ``torch.cuda.ExternalStream(dev.native_stream)``, and DLPack
        exchange needs no synchronisation. Raises XhalError(unsupported) where a plugin has none."""
        return _C.native_stream(self.index)

    def memory_stats(self) -> dict[str, int]:
        allocated, cached = _C.memory_stats(self.index)
        return {"allocated": allocated, "cached": cached}

    def empty_cache(self) -> None:
        _C.empty_cache(self.index)

    def __str__(self) -> str:
        return self.name


def make_device(index: int) -> Device:
    info = dict(_C.device_info(index))
    info["dtypes"] = names_in_mask(info["dtype_mask"])
    info["kind"] = _KINDS.get(info["kind"], "other")
    return Device(index, info["device_type"], info["local_index"], info)
