"""Plugin discovery through Python entry points (group ``xhal.plugins``): a vendor's wheel is
found once it is installed. The test builds a real (throwaway) wheel around a fixture plugin,
installs it with pip into a private directory and imports xhal with that directory on the path.
"""

from __future__ import annotations

import base64
import hashlib
import sys
import textwrap
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures"))
import xhal_testutil as tu  # noqa: E402

DIST = "xhal_plugin_fixture"


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(library: Path, out_dir: Path, entry_value: str) -> Path:
    """A minimal, valid wheel: a module that locates the bundled plugin library, and the
    entry point that names it."""
    module = textwrap.dedent(f"""
        from pathlib import Path

        def library_path() -> str:
            return str(Path(__file__).parent / "{library.name}")
    """).encode()
    files = {
        f"{DIST}/__init__.py": module,
        f"{DIST}/{library.name}": library.read_bytes(),
        f"{DIST}-1.0.dist-info/METADATA":
            f"Metadata-Version: 2.1\nName: {DIST}\nVersion: 1.0\n".encode(),
        f"{DIST}-1.0.dist-info/WHEEL":
            b"Wheel-Version: 1.0\nGenerator: xhal-tests\nRoot-Is-Purelib: false\n"
            b"Tag: py3-none-any\n",
        f"{DIST}-1.0.dist-info/entry_points.txt":
            f"[xhal.plugins]\nfixture = {entry_value}\n".encode(),
    }
    record = [_record_line(n, d) for n, d in files.items()] + [f"{DIST}-1.0.dist-info/RECORD,,"]
    files[f"{DIST}-1.0.dist-info/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel = out_dir / f"{DIST}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return wheel


def install(wheel: Path, target: Path) -> None:
    tu.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--target",
            target, wheel])


PROBE = ("import xhal; print(sorted(p['device_type'] for p in xhal.plugins())); "
         "print(xhal.skipped_plugins())")


def test_installed_wheel_plugin_is_discovered(tmp_path: Path) -> None:
    library = tu.build_plugin(tu.FIXTURES / "newer_minor.c", tmp_path, name="vendorfixture")
    wheel = build_wheel(library, tmp_path, f"{DIST}:library_path")
    site = tmp_path / "site"
    install(wheel, site)
    env = tu.clean_env(PYTHONPATH=str(site))
    loaded, skipped = tu.run([sys.executable, "-c", PROBE], env=env,
                             cwd=tmp_path).stdout.splitlines()[-2:]
    assert "test.newer_minor" in loaded, loaded
    assert skipped == "[]"


def test_broken_entry_point_is_skipped_with_its_reason(tmp_path: Path) -> None:
    library = tu.build_plugin(tu.FIXTURES / "newer_minor.c", tmp_path, name="vendorfixture")
    wheel = build_wheel(library, tmp_path, f"{DIST}:no_such_function")
    site = tmp_path / "site"
    install(wheel, site)
    out = tu.run([sys.executable, "-c", PROBE], env=tu.clean_env(PYTHONPATH=str(site)),
                 cwd=tmp_path).stdout
    assert "entry point fixture" in out and "no_such_function" in out, out
