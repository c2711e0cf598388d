"""Plugin discovery and the device list.

Plugins are found, in this order: the plugins bundled in the package (``xhal/plugins``), the
colon-separated ``XHAL_PLUGIN_PATH`` (files or directories), and Python entry points in the
group ``xhal.plugins`` (each entry point resolves to a library path or a callable returning
one). A plugin that fails to load is skipped with its reason (``skipped_plugins()``,
``xhal devices -v``); ``import xhal`` never fails because of one.
"""

from __future__ import annotations

import threading
from importlib import metadata
from pathlib import Path

from . import _C
from .device import Device, make_device
from .errors import PluginLoadError, XhalError

BUNDLED_PLUGIN_DIR = Path(__file__).parent / "plugins"
ENTRY_POINT_GROUP = "xhal.plugins"

_lock = threading.Lock()
_devices: list[Device] = []
_skipped: list[str] = []
_discovered = False


def _refresh_devices() -> None:
    for index in range(len(_devices), _C.device_count()):
        _devices.append(make_device(index))


def _entry_point_paths() -> list[tuple[str, str]]:
    found = []
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            target = ep.load()
            path = target() if callable(target) else target
            found.append((ep.name, str(path)))
        except Exception as exc:  # a broken vendor package must not break import xhal
            _skipped.append(f"entry point {ep.name} ({ep.value}): {type(exc).__name__}: {exc}")
    return found


def discover() -> None:
    """Load every plugin that can be found (once per process)."""
    global _discovered
    with _lock:
        if _discovered:
            return
        _discovered = True
        for path in sorted(BUNDLED_PLUGIN_DIR.glob("*.so")):
            try:
                _C.load_plugin(str(path))
            except XhalError as exc:
                _skipped.append(str(exc))
        _C.load_plugins_from_env()
        _skipped.extend(_C.skipped_plugins())
        for name, path in _entry_point_paths():
            try:
                _C.load_plugin(path)
            except XhalError as exc:
                _skipped.append(f"entry point {name}: {exc}")
        _refresh_devices()


def load_plugin(path: str | Path) -> list[Device]:
    """Load one plugin library; return its devices. Raises PluginLoadError with the reason."""
    discover()
    with _lock:
        try:
            indices = _C.load_plugin(str(path))
        except XhalError as exc:
            raise PluginLoadError(str(exc)) from None
        _refresh_devices()
        return [_devices[i] for i in indices]


def devices() -> list[Device]:
    discover()
    return list(_devices)


def plugins() -> list[dict]:
    """Every loaded plugin (device_type, path, version, device_count, no_device_reason),
    including those with zero devices."""
    discover()
    return list(_C.plugins())


def skipped_plugins() -> list[str]:
    discover()
    return list(_skipped)


def device(name: str | Device | None = None) -> Device:
    """Look a device up by ``"cpu"``, ``"cpu:0"``, ``"xhal.cpu:0"`` or global index text.

    ``None`` gives the first CPU device (or the first device when there is no CPU)."""
    if isinstance(name, Device):
        return name
    all_devices = devices()
    if not all_devices:
        raise XhalError("no xhal devices are loaded (xhal devices -v shows why)")
    if name is None:
        cpus = [d for d in all_devices if d.properties["kind"] == "cpu"]
        return cpus[0] if cpus else all_devices[0]
    kind, _, idx = str(name).partition(":")
    local = int(idx) if idx else 0
    for d in all_devices:
        if (kind == d.device_type or kind == d.device_type.rsplit(".", 1)[-1]) and \
                d.local_index == local:
            return d
    known = ", ".join(d.name for d in all_devices)
    raise XhalError(f"no device named {name!r} (loaded: {known})")
