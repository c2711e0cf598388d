"""Per-op throughput of the xhal CPU plugin against numpy and ONNX Runtime's CPU provider.

    python bench/ops.py [--threads N] [--filter SUBSTRING] [--quick] [--rounds R] [--json FILE]
                        [--same-process]

Every workload runs, in one run and on the same thread count, through xhal
(``xhal.ops.<op>`` on cpu:0), numpy (where numpy has the op) and ONNX Runtime (a one-node model
of the op's ONNX mapping). Each implementation lives in a worker process of its own, so that
one library's thread pool never competes with another's for the cores (``--same-process``
runs them all in this process instead). The implementations take turns, one timed batch each,
for R rounds; the table gives each one's fastest batch (time per call) and the ratio of xhal's
time to each peer's (< 1.0: xhal is faster). GEMM-shaped work also gets GFLOP/s.

Figures, not tests: nothing here asserts. The machines this project runs on set
OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE, which slow OpenBLAS (numpy's and xhal's alike) to its AVX2
kernel; bench/README.md shows how to run this script with and without them.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Workload:
    name: str
    op: str  # xhal op
    onnx_op: str
    shapes: list[tuple[int, ...]]  # of the inputs, made from seed 0 when first asked for
    attrs: dict[str, Any] = field(default_factory=dict)  # xhal attribute names
    onnx_attrs: dict[str, Any] = field(default_factory=dict)
    numpy_fn: Callable[..., Any] | None = None
    flops: float = 0.0

    # Made on demand and dropped after the workload's turn: a worker holds one workload's
    # inputs at a time, and nothing is allocated in bulk while another process is timed.
    @functools.cached_property
    def inputs(self) -> list[np.ndarray]:
        return [_rand(*shape) for shape in self.shapes]

    def drop_inputs(self) -> None:
        self.__dict__.pop("inputs", None)


def _rand(*shape: int, dtype: str = "float32") -> np.ndarray:
    return np.random.default_rng(0).standard_normal(shape).astype(dtype)


def _np_softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _np_layer_norm(x: np.ndarray, g: np.ndarray, b: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-5) * g + b


# ResNet-18's convolutions at batch 1, 224x224: (C_in, C_out, H, kernel, stride, pad).
RESNET18_CONVS = [
    (3, 64, 224, 7, 2, 3), (64, 64, 56, 3, 1, 1), (64, 128, 56, 3, 2, 1),
    (64, 128, 56, 1, 2, 0), (128, 128, 28, 3, 1, 1), (128, 256, 28, 3, 2, 1),
    (128, 256, 28, 1, 2, 0), (256, 256, 14, 3, 1, 1), (256, 512, 14, 3, 2, 1),
    (256, 512, 14, 1, 2, 0), (512, 512, 7, 3, 1, 1),
]


def workloads(quick: bool) -> list[Workload]:
    w: list[Workload] = []
    for n in ([128, 512] if quick else [128, 256, 512, 1024, 2048]):
        w.append(Workload(f"matmul {n}x{n}x{n}", "matmul", "MatMul", [(n, n), (n, n)],
                          numpy_fn=np.matmul, flops=2.0 * n**3))
    # transformer shapes (BERT-base, seq 128): projections, FFN, attention scores
    for m, k, n in ([(128, 768, 768)] if quick else [(128, 768, 768), (128, 768, 3072),
                                                       (128, 3072, 768), (512, 1024, 4096)]):
        w.append(Workload(f"matmul {m}x{k}x{n}", "matmul", "MatMul", [(m, k), (k, n)],
                          numpy_fn=np.matmul, flops=2.0 * m * k * n))
    w.append(Workload("matmul attn [12,128,64]x[12,64,128]", "matmul", "MatMul",
                      [(12, 128, 64), (12, 64, 128)],
                      numpy_fn=np.matmul, flops=2.0 * 12 * 128 * 64 * 128))
    for n in ([256] if quick else [128, 512, 2048]):
        w.append(Workload(f"gemm {n} transB+bias", "gemm", "Gemm", [(n, n), (n, n), (n,)],
                          attrs={"trans_b": 1}, onnx_attrs={"transB": 1},
                          numpy_fn=lambda a, b, c: a @ b.T + c, flops=2.0 * n**3))
    for cin, cout, h, k, s, p in (RESNET18_CONVS[:3] if quick else RESNET18_CONVS):
        ho = (h + 2 * p - k) // s + 1
        w.append(Workload(f"conv {cin}->{cout} {k}x{k}/{s} @{h}", "conv", "Conv",
                          [(1, cin, h, h), (cout, cin, k, k)],
                          attrs={"strides": [s, s], "pads": [p] * 4, "kernel_shape": [k, k]},
                          onnx_attrs={"strides": [s, s], "pads": [p] * 4,
                                      "kernel_shape": [k, k]},
                          flops=2.0 * cout * ho * ho * cin * k * k))
    for shape in ([(12, 128, 128)] if quick else [(12, 128, 128), (12, 512, 512),
                                                    (128, 30522)]):
        w.append(Workload(f"softmax {list(shape)}", "softmax", "Softmax", [shape],
                          attrs={"axis": -1}, onnx_attrs={"axis": -1}, numpy_fn=_np_softmax))
    for rows, d in ([(128, 768)] if quick else [(128, 768), (512, 768), (2048, 1024)]):
        w.append(Workload(f"layer_normalization [{rows},{d}]", "layer_normalization",
                          "LayerNormalization", [(rows, d), (d,), (d,)], attrs={"axis": -1},
                          onnx_attrs={"axis": -1}, numpy_fn=_np_layer_norm))
    sizes = [1000, 100_000] if quick else [1000, 10_000, 100_000, 1_000_000, 10_000_000]
    for n in sizes:
        w.append(Workload(f"add {n:.0e}", "add", "Add", [(n,), (n,)], numpy_fn=np.add))
        w.append(Workload(f"mul {n:.0e}", "mul", "Mul", [(n,), (n,)], numpy_fn=np.multiply))
        w.append(Workload(f"relu {n:.0e}", "relu", "Relu", [(n,)],
                          numpy_fn=lambda x: np.maximum(x, 0)))
        w.append(Workload(f"sigmoid {n:.0e}", "sigmoid", "Sigmoid", [(n,)],
                          numpy_fn=lambda x: 1 / (1 + np.exp(-x))))
        w.append(Workload(f"exp {n:.0e}", "exp", "Exp", [(n,)], numpy_fn=np.exp))
    return w


def calibrate(fn: Callable[[], Any], batch_time: float) -> int:
    """Calls per timed batch so that one batch takes about `batch_time` seconds.

    Timed over at least 10 ms of calls, not one call: a single call can include waking a
    thread pool, which made the batches of 1e5-element ops 50x too short."""
    fn()  # warm up: caches, allocator, lazy initialisation
    calls, t0 = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - t0) < 0.01:
        fn()
        calls += 1
    return max(1, int(batch_time * calls / max(elapsed, 1e-7)))


def time_batch(fn: Callable[[], Any], calls: int, threads: int) -> float:
    """Seconds per call over one batch of `calls` calls."""
    if threads > 1:
        # The previous implementation's thread pool (OpenBLAS, ONNX Runtime) spins for a while
        # after its last call (OpenBLAS: about 2^28 cycles); on a 2-core machine those spinning
        # threads would be timed here. 0.05 s was too short: numpy's spinning worker made
        # xhal's 2-thread GEMMs up to 10x slower.
        time.sleep(0.2)
    # One untimed call first: after the pause every implementation's threads are asleep, and
    # waking them (0.2-0.3 ms on a VM) is not the steady state the batch measures.
    fn()
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - t0) / calls


def ort_session(wl: Workload, threads: int) -> Callable[[], Any] | None:
    try:
        import onnxruntime as ort
        from onnx import TensorProto, helper
    except ImportError:
        return None
    names = [f"in{i}" for i in range(len(wl.inputs))]
    node = helper.make_node(wl.onnx_op, names, ["out"], **wl.onnx_attrs)
    graph = helper.make_graph(
        [node], "bench",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(x.shape))
         for n, x in zip(names, wl.inputs, strict=True)],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, None)])
    opset = 17 if wl.onnx_op == "LayerNormalization" else 13
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(model.SerializeToString(), opts,
                                providers=["CPUExecutionProvider"])
    feeds = dict(zip(names, wl.inputs, strict=True))
    return lambda: sess.run(None, feeds)


def xhal_call(wl: Workload) -> Callable[[], Any] | None:
    import xhal

    fn = getattr(xhal.ops, wl.op, None)
    if fn is None:
        return None
    args = [xhal.tensor(x) for x in wl.inputs]
    return lambda: fn(*args, **wl.attrs)


IMPLEMENTATIONS = ("xhal", "ort", "numpy")


def make_call(impl: str, wl: Workload, threads: int) -> Callable[[], Any] | None:
    if impl == "xhal":
        return xhal_call(wl)
    if impl == "ort":
        return ort_session(wl, threads)
    return (lambda: wl.numpy_fn(*wl.inputs)) if wl.numpy_fn else None


class InProcess:
    """An implementation measured in this process."""

    def __init__(self, impl: str, threads: int) -> None:
        self.impl, self.threads = impl, threads
        self.fn: Callable[[], Any] | None = None
        self.wl: Workload | None = None
        self.calls = 0

    def prepare(self, wl: Workload) -> bool:
        self.wl = wl
        self.fn = make_call(self.impl, wl, self.threads)
        if self.fn is not None:
            self.calls = calibrate(self.fn, 0.04)
        return self.fn is not None

    def time_batch(self) -> float:
        assert self.fn is not None
        return time_batch(self.fn, self.calls, self.threads)

    def close(self) -> None:
        self.fn = None
        if self.wl is not None:
            self.wl.drop_inputs()
            self.wl = None


class WorkerProcess:
    """An implementation measured in a worker process of its own (this script, `--worker`).

    Lines on the worker's stdin: `prepare INDEX` (answer: `ok` or `none`), `time` (answer: seconds
    per call of one batch). The worker builds the same workloads from the same seeds.
    """

    def __init__(self, impl: str, threads: int, quick: bool) -> None:
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", impl,
               "--threads", str(threads)] + (["--quick"] if quick else [])
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1)

    def _ask(self, line: str) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        if not answer:
            raise RuntimeError(f"bench worker {self.proc.args[3]} exited "
                               f"(status {self.proc.wait()}) after '{line}'")
        return answer.strip()

    def prepare(self, index: int) -> bool:
        return self._ask(f"prepare {index}") == "ok"

    def time_batch(self) -> float:
        return float(self._ask("time"))

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait()


def worker_main(impl: str, threads: int, quick: bool) -> int:
    """The `--worker` side of WorkerProcess: answers on the stdout it was started with."""
    answers = sys.stdout
    sys.stdout = sys.stderr  # anything a library prints must not corrupt the answers
    loads = workloads(quick)
    here = InProcess(impl, threads)
    for line in sys.stdin:
        cmd, *arg = line.split()
        if cmd == "prepare":
            here.close()
            ready = here.prepare(loads[int(arg[0])])
            answers.write("ok\n" if ready else "none\n")
        elif cmd == "time":
            answers.write(f"{here.time_batch()!r}\n")
        else:
            raise SystemExit(f"bench worker: unknown command {line!r}")
        answers.flush()
    return 0


def run(threads: int, name_filter: str | None, quick: bool, rounds: int,
        same_process: bool) -> list[dict[str, Any]]:
    runners: dict[str, Any] = {
        impl: InProcess(impl, threads) if same_process else WorkerProcess(impl, threads, quick)
        for impl in IMPLEMENTATIONS}
    rows = []
    try:
        for index, wl in enumerate(workloads(quick)):
            if name_filter and name_filter not in wl.name:
                continue
            row: dict[str, Any] = {"workload": wl.name, "threads": threads, "rounds": rounds}
            ready = [impl for impl, runner in runners.items()
                     if runner.prepare(wl if same_process else index)]
            # The machines are shared: a neighbour's burst only ever adds time, and it can last
            # longer than one implementation's turn. So the implementations take turns batch by
            # batch, and each keeps its fastest batch.
            samples: dict[str, list[float]] = {impl: [] for impl in ready}
            for _ in range(rounds):
                for impl in ready:
                    samples[impl].append(runners[impl].time_batch())
            for impl in IMPLEMENTATIONS:
                row[impl] = min(samples[impl]) if impl in samples else None
            if row["xhal"] is not None:
                for peer in ("numpy", "ort"):
                    if row[peer]:
                        row[f"xhal/{peer}"] = row["xhal"] / row[peer]
                if wl.flops:
                    row["xhal_gflops"] = wl.flops / row["xhal"] / 1e9
                    if row["numpy"]:
                        row["numpy_gflops"] = wl.flops / row["numpy"] / 1e9
            rows.append(row)
            print(_format_row(row), flush=True)
            wl.drop_inputs()
    finally:
        for runner in runners.values():
            runner.close()
    return rows


def _ms(t: float | None) -> str:
    return "      -" if t is None else f"{t * 1e3:9.3f}"


def _ratio(r: float | None) -> str:
    return "    -" if r is None else f"{r:5.2f}"


def _format_row(row: dict[str, Any]) -> str:
    gf = f"{row['xhal_gflops']:7.1f}" if "xhal_gflops" in row else "      -"
    return (f"{row['workload']:<38} {_ms(row['xhal'])} {_ms(row['numpy'])} {_ms(row['ort'])}"
            f"   {_ratio(row.get('xhal/numpy'))}  {_ratio(row.get('xhal/ort'))}  {gf}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--filter")
    parser.add_argument("--quick", action="store_true", help="a few small workloads")
    parser.add_argument("--json", help="write the rows as JSON")
    parser.add_argument("--rounds", type=int, default=5,
                        help="interleaved timed batches per implementation (the fastest counts)")
    parser.add_argument("--same-process", action="store_true",
                        help="measure every implementation in this process, not one worker each")
    parser.add_argument("--worker", choices=IMPLEMENTATIONS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    # The thread counts must be set before numpy's OpenBLAS and xhal's plugin start.
    if os.environ.get("XHAL_CPU_THREADS") != str(args.threads):
        env = dict(os.environ, XHAL_CPU_THREADS=str(args.threads),
                   OPENBLAS_NUM_THREADS=str(args.threads), OMP_NUM_THREADS=str(args.threads))
        os.execve(sys.executable, [sys.executable, *sys.argv], env)
    if args.worker:
        return worker_main(args.worker, args.threads, args.quick)
    coretype = os.environ.get("OPENBLAS_CORETYPE", "(unset)")
    where = "one process" if args.same_process else "a worker process per implementation"
    print(f"threads {args.threads}, OPENBLAS_CORETYPE={coretype}, {where}")
    print(f"{'workload':<38} {'xhal ms':>9} {'numpy ms':>9} {'ort ms':>9}   "
          f"{'x/np':>5}  {'x/ort':>5}  {'GFLOP/s':>7}")
    rows = run(args.threads, args.filter, args.quick, args.rounds, args.same_process)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"threads": args.threads, "openblas_coretype": coretype,
                       "same_process": args.same_process, "rows": rows},
                      fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
