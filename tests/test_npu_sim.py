"""plugins/npu_sim, the reference vendor plugin: built out of tree against the installed SDK
(``find_package(xhal)`` + ``xhal::headers``) exactly as a chip vendor would, then checked for what
makes real NPUs hard for frameworks: conformance with 0 failures (float32 judged through the
plugin's manifest), device addresses the host cannot dereference, out-of-memory, and
asynchronous streams that punish missing synchronisation.

Every check that loads the plugin runs in a subprocess, so that a fault stays there.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures"))
import xhal_testutil as tu  # noqa: E402

PROJECT = tu.REPO / "plugins" / "npu_sim"
OPS = ["add", "sub", "mul", "div", "relu", "sigmoid", "exp", "matmul", "gemm", "softmax",
       "reshape", "transpose", "reduce_sum", "layer_normalization"]
FLOAT32_OPS = {"add", "mul", "relu", "matmul", "gemm", "softmax"}  # through bfloat16
CLAIMED = {(op, dt) for op in OPS for dt in ("float16", "bfloat16")} | {
    (op, "float32") for op in FLOAT32_OPS}


@pytest.fixture(scope="module")
def plugin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    build = tmp_path_factory.mktemp("npu_sim") / "build"
    tu.run(["cmake", "-S", PROJECT, "-B", build, f"-Dxhal_DIR={tu.cmake_dir()}",
            "-DCMAKE_BUILD_TYPE=Release", "-DCMAKE_CXX_FLAGS=-Werror"])
    tu.run(["cmake", "--build", build], timeout=900)
    lib = build / "libnpu_sim.so"
    assert lib.is_file()
    assert (build / "libnpu_sim.xhal-manifest.yaml").is_file(), "the build copies the manifest"
    return lib


def python(plugin: Path, code: str, check: bool = True, **env: str) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter with the plugin loaded as `dev` (its device 0)."""
    prelude = ("import sys, numpy as np, xhal\n"
               "dev = xhal.load_plugin(sys.argv[1])[0]\n")
    return tu.run([sys.executable, "-c", prelude + code, plugin], env=tu.clean_env(**env),
                  check=check, timeout=300)


def test_exports_only_the_entry_point(plugin: Path) -> None:
    out = tu.run(["nm", "-D", "--defined-only", plugin]).stdout
    assert {line.split()[-1] for line in out.splitlines() if line.strip()} == \
        {"xhal_get_plugin_api"}


def test_properties_describe_an_npu(plugin: Path) -> None:
    code = ("p = dev.properties\n"
            "print(dev.device_type, p['kind'], p['dlpack_device_type'], p['flags'],"
            " p['alignment'], p['total_memory'], ','.join(sorted(p['dtypes'])))\n")
    out = python(plugin, code, NPU_SIM_MEMORY_BYTES=str(64 << 20)).stdout.split()
    device_type, kind, dl, flags, alignment, total, dtypes = out
    assert device_type == "xhal.npu_sim"
    assert kind == "npu" and int(dl) == 12  # XHAL_DL_EXT_DEV
    assert int(flags) & 1 == 0 and int(flags) & 4 == 4  # not HOST_ACCESSIBLE, ASYNC_STREAMS
    assert int(alignment) == 256 and int(total) == 64 << 20
    assert dtypes == "bfloat16,float16,float32"


def test_conformance_has_no_failures(plugin: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    proc = subprocess.run(
        [sys.executable, "-m", "xhal", "conformance", "--plugin", str(plugin), "--device",
         "npu_sim", "--json", str(report)], capture_output=True, text=True, timeout=1800,
        env=tu.clean_env(NPU_SIM_DELAY_US="20"))
    assert report.is_file(), proc.stderr
    data = json.loads(report.read_text())
    bad = [(c["id"], c["outcome"], c["message"]) for c in data["cases"]
           if c["outcome"] not in ("pass", "unsupported")]
    assert not bad, bad[:10]
    assert data["summary"]["failed"] == 0
    # the runtime checks ran too (test_runtime_conformance has them); the rest are op cases
    assert any(c["kind"] == "runtime" for c in data["cases"])
    data["cases"] = [c for c in data["cases"] if c["kind"] == "op"]
    ran = {(c["op"], c["dtype"]) for c in data["cases"] if c["outcome"] == "pass"}
    # +strided cases are rebuilt as views in npu_sim's memory; the kernels that take strided
    # inputs run them (and passed, per `bad` above), the others are refused by the host.
    strided = [c for c in data["cases"] if c["id"].endswith("+strided")]
    assert any(c["outcome"] == "pass" for c in strided)
    plain = {(c["op"], c["dtype"]) for c in data["cases"] if c["outcome"] == "unsupported"
             and "[" not in c["op"] and not c["id"].endswith("+strided")}
    # Unsupported is exactly what npu_sim does not claim ...
    assert not plain & CLAIMED, sorted(plain & CLAIMED)
    assert all(dt not in ("float16", "bfloat16") or op not in OPS for op, dt in plain)
    # ... and everything it claims that the suite has cases for passed.
    cased = {(c["op"], c["dtype"]) for c in data["cases"] if "[" not in c["op"]}
    assert ("reduce_sum", "bfloat16") in cased
    assert cased & CLAIMED <= ran
    assert {(op, dt) for op, dt in ran if "[" not in op} <= CLAIMED
    assert {op for op, _ in ran} >= set(OPS)
    assert ("matmul", "float32") in ran  # judged with bfloat16's tolerance (the manifest)


def test_host_access_to_a_device_address_faults(plugin: Path) -> None:
    code = ("import ctypes\n"
            "t = xhal.tensor(np.ones(1024, np.float16), device=dev)\n"
            "t.numpy()\n"  # the copy API works
            "print('address', hex(t.data_ptr), flush=True)\n"
            "ctypes.c_char.from_address(t.data_ptr).value\n"
            "print('read a device address from the host', flush=True)\n")
    proc = python(plugin, code, check=False)
    assert "address 0x" in proc.stdout, proc.stderr
    assert "read a device address" not in proc.stdout
    assert proc.returncode == -signal.SIGSEGV, (proc.returncode, proc.stderr)


def test_out_of_memory_is_an_error_not_a_crash(plugin: Path) -> None:
    code = ("try:\n"
            "    xhal.Tensor.empty([4 << 20], 'float16', device=dev)\n"
            "except xhal.OutOfMemoryError as e:\n"
            "    print('OOM', e)\n"
            "small = xhal.tensor(np.arange(8, dtype=np.float16), device=dev)\n"
            "print('after', small.numpy().tolist())\n")
    out = python(plugin, code, NPU_SIM_MEMORY_BYTES=str(4 << 20)).stdout
    assert "OOM" in out and "NPU_SIM_MEMORY_BYTES" in out, out
    assert "after [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]" in out


def test_async_chain_gives_right_results_after_synchronising(plugin: Path) -> None:
    # Every queued item sleeps 2 ms on the worker: a host that reads before the stream is done
    # (or frees an input the queue still needs) gets wrong numbers, not just slow ones.
    code = ("import ml_dtypes\n"
            "rng = np.random.default_rng(0)\n"
            "a = rng.standard_normal((16, 32)).astype(np.float32)\n"
            "b = rng.standard_normal((32, 8)).astype(np.float32)\n"
            "x = xhal.tensor(a.astype(np.float16), device=dev)\n"
            "y = xhal.tensor(b.astype(np.float16), device=dev)\n"
            "z = xhal.ops.relu(xhal.ops.matmul(x, y))\n"
            "for _ in range(5):\n"
            "    z = xhal.ops.add(z, xhal.tensor(np.ones((16, 8), np.float16), device=dev))\n"
            "z = xhal.ops.softmax(xhal.ops.transpose(z, perm=[1, 0]), axis=-1)\n"
            "got = z.numpy().astype(np.float32)\n"
            "m = np.maximum(a.astype(np.float16).astype(np.float32)"
            " @ b.astype(np.float16).astype(np.float32), 0) + 5\n"
            "e = np.exp(m.T - m.T.max(-1, keepdims=True)); want = e / e.sum(-1, keepdims=True)\n"
            "print('maxerr', float(np.abs(got - want).max()))\n"
            "bf = xhal.tensor(a.astype(ml_dtypes.bfloat16), device=dev)\n"
            "s = xhal.ops.reduce_sum(xhal.ops.softmax(bf, axis=1), axes=np.array([1]),"
            " keepdims=0)\n"
            "print('sumerr', float(np.abs(s.numpy().astype(np.float32) - 1).max()))\n")
    out = python(plugin, code, NPU_SIM_DELAY_US="2000").stdout
    values = dict(line.split() for line in out.splitlines())
    assert float(values["maxerr"]) < 1e-2, out
    assert float(values["sumerr"]) < 2e-2, out


def test_threads_allocate_and_free_concurrently(plugin: Path) -> None:
    code = ("import threading\n"
            "errors = []\n"
            "def work(seed):\n"
            "    try:\n"
            "        for i in range(50):\n"
            "            v = np.full(1 + (seed * 37 + i) % 300, seed, np.float16)\n"
            "            t = xhal.tensor(v, device=dev)\n"
            "            assert (t.numpy() == v).all()\n"
            "    except Exception as e:\n"
            "        errors.append(repr(e))\n"
            "ts = [threading.Thread(target=work, args=(s,)) for s in range(8)]\n"
            "[t.start() for t in ts]; [t.join() for t in ts]\n"
            "print('errors', len(errors), errors[:1])\n")
    out = python(plugin, code, NPU_SIM_DELAY_US="50").stdout
    assert "errors 0" in out, out


def test_readme_documents_the_subset(plugin: Path) -> None:
    readme = (PROJECT / "README.md").read_text()
    for op in OPS:
        assert f"`{op}`" in readme
    assert "xhal new-plugin npu_sim" in readme and "NPU_SIM_MEMORY_BYTES" in readme


def test_runtime_entry_points(plugin: Path, tmp_path: Path) -> None:
    """plugins/npu_sim/tests/runtime_check.c drives the plugin table directly (no xhal host):
    handle arithmetic, invalid handles, overlapping device-to-device copies, NOT_READY while
    pending, events across streams with elapsed time, a kernel that copies its descriptors at
    enqueue time, a queued copy's or kernel's freed buffer reported at the next synchronize,
    out-of-memory."""
    exe = tmp_path / "runtime_check"
    tu.run([tu.c_compiler(), "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic",
            f"-I{tu.include_dir()}", PROJECT / "tests" / "runtime_check.c", "-ldl", "-o", exe])
    proc = tu.run([exe, plugin], env=tu.clean_env(), check=False, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 failed" in proc.stdout and "FAIL" not in proc.stdout


def test_runtime_conformance(plugin: Path) -> None:
    """The generic runtime checks (xhal-runtime-check, as `xhal conformance` runs them) pass on
    npu_sim: handles the host cannot read, worker-thread streams with every queued item delayed
    (a missing wait or event shows as wrong bytes), a 16 MiB arena, misuse detected."""
    from xhal.conformance import runtime

    rows = runtime.run_plugin(plugin, env=tu.clean_env(NPU_SIM_MEMORY_BYTES=str(16 << 20),
                                                       NPU_SIM_DELAY_US="200"))
    bad = {r.check: f"{r.outcome}: {r.message}" for r in rows if r.outcome != "pass"}
    assert not bad, bad
    assert {r.check for r in rows} >= {
        "copy.overlap", "stream.order_kernels", "event.cross_stream", "leak.alloc_free",
        "concurrency.alloc_free", "alloc.exhaustion", "alloc.double_free", "abi.host_newer_minor"}
    assert all(r.device in ("npu_sim", "npu_sim:0") for r in rows)


def test_without_its_manifest_float32_is_judged_as_float32(plugin: Path, tmp_path: Path) -> None:
    """The manifest is what makes float32-through-bfloat16 legitimate: the same library without
    it fails float32 matmul (its inputs lost precision the spec's float32 tolerance forbids)."""
    bare = tmp_path / "libnpu_sim.so"
    bare.write_bytes(plugin.read_bytes())
    report = tmp_path / "report.json"
    subprocess.run(
        [sys.executable, "-m", "xhal", "conformance", "--plugin", str(bare), "--device",
         "npu_sim", "--filter", "matmul/float32*", "--json", str(report)],
        capture_output=True, text=True, timeout=600, env=tu.clean_env())
    data = json.loads(report.read_text())
    assert data["summary"]["failed"] > 0


def test_manifest_module(tmp_path: Path) -> None:
    from xhal.conformance import manifest

    bare = tmp_path / "libbare.so"
    bare.write_bytes(b"")
    assert manifest.manifest_path(bare) is None and manifest.load(str(bare)) == {}
    lib = tmp_path / "libfoo.so"  # (load() caches per library path: a fresh name)
    lib.write_bytes(b"")
    (tmp_path / "libfoo.xhal-manifest.yaml").write_text(
        "precision:\n  matmul: {float32: bfloat16}\n")
    assert manifest.manifest_path(lib) == tmp_path / "libfoo.xhal-manifest.yaml"
    assert manifest.parse({"precision": {"matmul": {"float32": "bfloat16"}}}) == \
        {"matmul": {"float32": "bfloat16"}}
    with pytest.raises(manifest.ManifestError, match="precision.add"):
        manifest.parse({"precision": {"add": "bfloat16"}}, "m.yaml")

    class Dev:
        plugin_path = str(lib)

    class Case:
        op, dtype = "matmul", "float32"
        spec = {"tolerance": {"float32": {"rtol": 1e-4, "atol": 1e-4}}}

    assert manifest.computed_as(Dev(), "matmul", "float32") == "bfloat16"
    assert manifest.computed_as(Dev(), "matmul", "float16") is None
    assert manifest.computed_as(None, "matmul", "float32") is None
    # no bfloat16 tolerance in this spec: the case's own dtype judges it
    assert manifest.tolerance_dtype(Dev(), Case(), "float32") == "float32"
    Case.spec = {"tolerance": {"bfloat16": {"rtol": 1e-2, "atol": 1e-2}}}
    assert manifest.tolerance_dtype(Dev(), Case(), "float32") == "bfloat16"
