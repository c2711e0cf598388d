"""Plugin loading: refusals are clear one-line PluginLoadErrors, never crashes; plugins built
against an older or a newer minor of the same ABI major load (ABI invariants 2, 6 and 7).

The fixture plugins in tests/fixtures/*.c are compiled here with the system C compiler against
the *installed* headers. Every load runs in a fresh interpreter, so that a host bug that crashes
on a bad plugin fails one test instead of the whole session, and so that the fixtures' device
types never leak into the process running the other tests.
"""

from __future__ import annotations

import json
import re
import sys
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures"))
import xhal_testutil as tu  # noqa: E402

FIXTURES = tu.FIXTURES
ENTRY = "xhal_get_plugin_api"

# Runs in a child interpreter: load each path given in argv (if any), report what happened.
PROBE = textwrap.dedent("""
    import json, sys
    import xhal
    import xhal.errors
    report = {"loads": []}
    for path in sys.argv[1:]:
        try:
            added = xhal.load_plugin(path)
        except Exception as exc:
            report["loads"].append({
                "path": path, "ok": False, "type": type(exc).__name__,
                "plugin_load_error": isinstance(exc, xhal.errors.PluginLoadError),
                "message": str(exc)})
        else:
            report["loads"].append({"path": path, "ok": True, "devices": len(list(added))})
    report["devices"] = len(list(xhal.devices()))
    report["skipped"] = [str(s) for s in xhal.skipped_plugins()]
    print("XHAL-PROBE " + json.dumps(report))
""")


def probe(tmp_path: Path, *paths: Path, plugin_path: str | None = None) -> dict:
    env = tu.clean_env() if plugin_path is None else tu.clean_env(XHAL_PLUGIN_PATH=plugin_path)
    proc = tu.run([sys.executable, "-c", PROBE, *map(str, paths)], cwd=tmp_path, env=env,
                  check=False, timeout=120)
    assert proc.returncode == 0, (
        f"the child interpreter failed (exit code {proc.returncode}; negative = killed by a "
        f"signal, i.e. a crash)\n--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}")
    assert "Traceback" not in proc.stderr, proc.stderr
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("XHAL-PROBE ")), None)
    assert line, proc.stdout
    return json.loads(line[len("XHAL-PROBE "):])


@pytest.fixture(scope="module")
def plugins(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("fixture_plugins")
    built = {name: tu.build_plugin(FIXTURES / f"{name}.c", out)
             for name in ("wrong_major", "no_entry", "older_minor", "newer_minor",
                          "missing_required")}
    # Same device type ("test.newer_minor") as newer_minor, in another file.
    built["duplicate"] = tu.build_plugin(FIXTURES / "newer_minor.c", out, name="duplicate")
    return built


def _refusal(report: dict) -> dict:
    (load,) = report["loads"]
    assert not load["ok"], f"{load['path']} loaded, but must be refused"
    assert load["plugin_load_error"], \
        f"expected xhal.errors.PluginLoadError, got {load['type']}: {load['message']}"
    message = load["message"]
    assert message.strip() and "\n" not in message.strip(), \
        f"the message must be one line: {message!r}"
    return load


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "libdoes_not_exist.so"
    load = _refusal(probe(tmp_path, missing))
    assert "libdoes_not_exist.so" in load["message"], load["message"]


def test_no_entry_symbol(tmp_path: Path, plugins: dict[str, Path]) -> None:
    load = _refusal(probe(tmp_path, plugins["no_entry"]))
    assert plugins["no_entry"].name in load["message"], load["message"]
    assert ENTRY in load["message"], load["message"]


def test_wrong_major_names_both_versions(tmp_path: Path, plugins: dict[str, Path]) -> None:
    major, minor = tu.abi_version()
    load = _refusal(probe(tmp_path, plugins["wrong_major"]))
    message = load["message"]
    assert plugins["wrong_major"].name in message, message
    assert re.search(rf"\b{major + 1}\.0\b", message), \
        f"the message must name the plugin's ABI {major + 1}.0: {message}"
    assert re.search(rf"\b{major}\.{minor}\b", message), \
        f"the message must name the host's ABI {major}.{minor}: {message}"


def test_required_entry_missing(tmp_path: Path, plugins: dict[str, Path]) -> None:
    """A table without one of the entries every plugin must fill is refused at load."""
    load = _refusal(probe(tmp_path, plugins["missing_required"]))
    assert plugins["missing_required"].name in load["message"], load["message"]
    assert "mem_alloc" in load["message"], load["message"]


def test_xhal_still_works_after_refusals(tmp_path: Path, plugins: dict[str, Path]) -> None:
    report = probe(tmp_path, tmp_path / "libnope.so", plugins["no_entry"], plugins["wrong_major"])
    assert [load["ok"] for load in report["loads"]] == [False, False, False]
    assert report["devices"] >= 1, "the bundled CPU plugin should still provide a device"


@pytest.mark.parametrize("form", ["files", "directory"])
def test_plugin_path_skips_broken_plugins(tmp_path: Path, plugins: dict[str, Path],
                                          form: str) -> None:
    """Broken plugins on XHAL_PLUGIN_PATH never fail `import xhal`; they are skipped and each
    skip is recorded with the file and the reason. The path lists files or directories."""
    bad = [plugins["wrong_major"], plugins["no_entry"]]
    good = [plugins["older_minor"], plugins["newer_minor"]]
    if form == "files":
        plugin_path = ":".join(str(p) for p in bad + good)
    else:
        directory = tmp_path / "plugin_dir"
        directory.mkdir()
        for p in bad + good:
            (directory / p.name).write_bytes(p.read_bytes())
        plugin_path = str(directory)
    report = probe(tmp_path, plugin_path=plugin_path)
    skipped = report["skipped"]
    for plugin in bad:
        entries = [s for s in skipped if plugin.name in s]
        assert len(entries) == 1, f"{plugin.name} should be recorded once as skipped: {skipped}"
    major, minor = tu.abi_version()
    (wrong,) = [s for s in skipped if plugins["wrong_major"].name in s]
    assert f"{major + 1}.0" in wrong and f"{major}.{minor}" in wrong, wrong
    (no_entry,) = [s for s in skipped if plugins["no_entry"].name in s]
    assert ENTRY in no_entry, no_entry
    for plugin in good:
        assert not [s for s in skipped if plugin.name in s], \
            f"{plugin.name} is a valid plugin and must not be skipped: {skipped}"


@pytest.mark.parametrize("name", ["older_minor", "newer_minor"])
def test_other_minor_loads(tmp_path: Path, plugins: dict[str, Path], name: str) -> None:
    """Within one major, a plugin built against an older or a newer minor loads: the host
    reads only the prefix of the table that both struct_size values cover."""
    report = probe(tmp_path, plugins[name])
    (load,) = report["loads"]
    assert load["ok"], f"{name} must load: {load.get('type')}: {load.get('message')}"
    assert load["devices"] == 0, "the fixture plugins report zero devices"


def test_duplicate_device_type_refused(tmp_path: Path, plugins: dict[str, Path]) -> None:
    report = probe(tmp_path, plugins["newer_minor"], plugins["duplicate"])
    first, second = report["loads"]
    assert first["ok"], first
    load = _refusal({"loads": [second]})
    assert "test.newer_minor" in load["message"], load["message"]
    assert plugins["duplicate"].name in load["message"], load["message"]
