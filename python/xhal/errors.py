"""Exceptions raised by xhal. Each maps to one xhal_status_t of the C ABI."""

from __future__ import annotations


class XhalError(Exception):
    """Base class. ``status`` is the xhal_status_t code of the failing call."""

    status = 6  # XHAL_ERROR_INTERNAL


class InvalidArgumentError(XhalError, ValueError):
    status = 1


class OutOfMemoryError(XhalError, MemoryError):
    status = 2


class UnsupportedError(XhalError):
    """No kernel for this op / version / dtype signature on the device, or an unimplemented
    device function."""

    status = 3


class DeviceError(XhalError):
    status = 5


class ABIMismatchError(XhalError):
    status = 7


class ShapeError(InvalidArgumentError):
    """An op's shape rule rejected its inputs; the message names the op, the shapes and the rule."""


class PluginLoadError(XhalError):
    """A plugin library could not be loaded; the message names the file and the reason."""


_BY_STATUS: dict[int, type[XhalError]] = {
    1: InvalidArgumentError,
    2: OutOfMemoryError,
    3: UnsupportedError,
    5: DeviceError,
    6: XhalError,
    7: ABIMismatchError,
}


def error_for_status(status: int, message: str) -> XhalError:
    return _BY_STATUS.get(status, XhalError)(message)
