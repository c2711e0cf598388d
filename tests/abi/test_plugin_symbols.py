"""ABI invariants 1, 2 and 9 at the symbol level, for every plugin the installed package ships.

* A plugin exports exactly one dynamic symbol, ``xhal_get_plugin_api`` (nothing else leaks: no
  C++ symbols, no helpers that could clash with another plugin loaded RTLD_LOCAL).
* A plugin imports no ``xhal_*`` symbol: it reaches the host only through the xhal_host_api_t
  table it is handed, so it never links libxhal and loads into any host of its major version.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS / "fixtures"))
import xhal_testutil as tu  # noqa: E402

ENTRY = "xhal_get_plugin_api"


def _installed_plugins() -> list[Path]:
    plugins = sorted(p for p in tu.plugins_dir().glob("*.so*") if p.is_file())
    assert plugins, f"the installed package ships no plugin in {tu.plugins_dir()}"
    return plugins


def _dynamic_symbols(lib: Path, which: str) -> list[tuple[str, str]]:
    """(type letter, name without @version) of `nm -D --<which>-only`."""
    nm = shutil.which("nm")
    assert nm, "nm (binutils) is required to check plugin symbols"
    out = tu.run([nm, "-D", f"--{which}-only", lib]).stdout
    symbols = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        kind, name = parts[-2], parts[-1].split("@")[0]
        symbols.append((kind, name))
    return symbols


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "plugin" in metafunc.fixturenames:
        plugins = sorted(p for p in tu.plugins_dir().glob("*.so*") if p.is_file())
        # No plugin at all still yields one (failing) test per check instead of none.
        metafunc.parametrize("plugin", plugins or [None],
                             ids=[p.name for p in plugins] or ["no-plugins"])


def _require(plugin: Path | None) -> Path:
    assert plugin is not None, f"the installed package ships no plugin in {tu.plugins_dir()}"
    return plugin


def test_exports_only_the_entry_symbol(plugin: Path | None) -> None:
    plugin = _require(plugin)
    # 'A' entries are version-definition nodes, not code or data.
    exported = sorted(name for kind, name in _dynamic_symbols(plugin, "defined") if kind != "A")
    assert exported == [ENTRY], (
        f"{plugin.name} must export exactly one dynamic symbol, {ENTRY}; it exports "
        f"{len(exported)}: {', '.join(exported[:20])}{' ...' if len(exported) > 20 else ''}. "
        "Build with -fvisibility=hidden (and -fvisibility-inlines-hidden, a version script or "
        "-static-libstdc++ with hidden C++ symbols) and mark only the entry point XHAL_EXPORT.")


def test_imports_nothing_from_the_host(plugin: Path | None) -> None:
    plugin = _require(plugin)
    imported = sorted(name for _, name in _dynamic_symbols(plugin, "undefined")
                      if name.startswith("xhal_"))
    assert not imported, (
        f"{plugin.name} imports {', '.join(imported)} from the host; a plugin may reach libxhal "
        "only through the xhal_host_api_t table handed to xhal_get_plugin_api")


def test_does_not_link_libxhal(plugin: Path | None) -> None:
    plugin = _require(plugin)
    readelf = shutil.which("readelf")
    assert readelf, "readelf (binutils) is required to check plugin dependencies"
    dynamic = tu.run([readelf, "-d", plugin]).stdout
    needed = [line.split("[")[-1].rstrip("]") for line in dynamic.splitlines()
              if "(NEEDED)" in line]
    assert not [n for n in needed if n.startswith("libxhal.")], (
        f"{plugin.name} links {needed}; a plugin must not depend on libxhal (it gets the host's "
        "functions through xhal_host_api_t)")


def test_cpu_plugin_is_installed() -> None:
    assert tu.cpu_plugin() in _installed_plugins()
