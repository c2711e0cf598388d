"""The examples build against the *installed* SDK (find_package(xhal)) and run."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures"))
import xhal_testutil as tu  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
EXPECTED = "result: 11 22 33 44 55 66"


@pytest.fixture(scope="module")
def c_add(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """examples/c_add configured with -Dxhal_DIR=$(python -m xhal --cmake-dir) and built."""
    build = tmp_path_factory.mktemp("c_add") / "build"
    generator = ["-G", "Ninja"] if shutil.which("ninja") else []
    tu.run(["cmake", "-S", EXAMPLES / "c_add", "-B", build, *generator,
            "-DCMAKE_BUILD_TYPE=Release", f"-Dxhal_DIR={tu.cmake_dir()}"], env=tu.clean_env())
    tu.run(["cmake", "--build", build], env=tu.clean_env())
    exe = build / "c_add"
    assert exe.is_file(), f"cmake --build produced no {exe}"
    return exe


def test_c_add_with_plugin_argument(c_add: Path, tmp_path: Path) -> None:
    proc = tu.run([c_add, tu.cpu_plugin()], cwd=tmp_path, env=tu.clean_env(), timeout=60)
    lines = proc.stdout.splitlines()
    assert EXPECTED in lines, proc.stdout
    assert lines[-1] == "c_add: OK", proc.stdout


def test_c_add_with_plugin_path(c_add: Path, tmp_path: Path) -> None:
    proc = tu.run([c_add], cwd=tmp_path, timeout=60,
                  env=tu.clean_env(XHAL_PLUGIN_PATH=str(tu.cpu_plugin())))
    lines = proc.stdout.splitlines()
    assert EXPECTED in lines, proc.stdout
    assert lines[-1] == "c_add: OK", proc.stdout


def test_c_add_reports_load_failure(c_add: Path, tmp_path: Path) -> None:
    """A bad plugin path comes back through xhal_last_error() as a message, not a crash."""
    missing = tmp_path / "no_such_plugin.so"
    proc = tu.run([c_add, missing], cwd=tmp_path, env=tu.clean_env(), check=False, timeout=60)
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    assert "xhal_runtime_load_plugin" in proc.stderr, proc.stderr
    assert "no_such_plugin.so" in proc.stderr, proc.stderr
