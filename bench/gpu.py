"""Throughput of the xhal CUDA plugin against PyTorch on the same GPU, in one process.

    python bench/gpu.py [--device cuda:0] [--filter SUBSTRING] [--quick] [--json FILE]

Inputs are PyTorch tensors handed to xhal through DLPack (no copy), so both libraries read the
same memory. Each workload runs `reps` times back to back on each library after a warm-up, then
the device is synchronised; the figure is the median over `trials` of (wall time / reps). xhal's
ops are asynchronous, so its Python dispatch overlaps the GPU work once a kernel takes longer
than the dispatch. The table gives both times and the throughput ratio xhal/torch (>= 1.0: xhal is
as fast or faster); results are also compared, so a fast wrong kernel shows up here too.

Targets (issue 5): matmul/gemm >= 0.8x PyTorch at 4096^2 in float16, bfloat16 and float32 (both
without TF32: torch.backends.cuda.matmul.allow_tf32 is False by default, and xhal's default
precision mode is "highest"); softmax and layer_normalization >= 0.8x.

Figures, not tests: nothing here asserts. Needs a GPU, torch with CUDA, and xhal built with the
CUDA plugin.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Workload:
    name: str
    dtype: str
    run_xhal: Callable[[], Any]
    run_torch: Callable[[], Any]
    flops: float = 0.0
    bytes_moved: float = 0.0
    atol: float = 1e-2


def _time(fn: Callable[[], Any], sync: Callable[[], None], reps: int, trials: int) -> float:
    fn()
    sync()
    times = []
    for _ in range(trials):
        start = time.perf_counter()
        for _ in range(reps):
            fn()
        sync()
        times.append((time.perf_counter() - start) / reps)
    return statistics.median(times)


def build(device: str, quick: bool) -> list[Workload]:
    import torch

    import xhal

    dev = xhal.device(device)
    tdev = torch.device(f"cuda:{dev.local_index}")
    gen = torch.Generator(device=tdev).manual_seed(0)
    dtypes = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
    out: list[Workload] = []

    def rand(*shape: int, dtype: Any) -> Any:
        return torch.randn(*shape, generator=gen, device=tdev, dtype=dtype)

    def x(t: Any) -> Any:
        return xhal.from_dlpack(t)

    n = 1024 if quick else 4096
    for name, dt in dtypes.items():
        a, b, c = rand(n, n, dtype=dt), rand(n, n, dtype=dt), rand(n, dtype=dt)
        xa, xb, xc = x(a), x(b), x(c)
        tol = 0.5 if dt != torch.float32 else 5e-2  # sums of n products of N(0,1): |y| ~ 64
        out.append(Workload(f"matmul {n}x{n}x{n}", name,
                            lambda xa=xa, xb=xb: xhal.ops.matmul(xa, xb),
                            lambda a=a, b=b: torch.matmul(a, b), 2.0 * n**3, atol=tol))
        out.append(Workload(f"gemm {n}x{n}x{n} +bias transB", name,
                            lambda xa=xa, xb=xb, xc=xc: xhal.ops.gemm(xa, xb, xc, trans_b=1),
                            lambda a=a, b=b, c=c: torch.addmm(c, a, b.t()), 2.0 * n**3, atol=tol))
    # ResNet-18 convolutions at batch 32 (C_in, C_out, H, kernel, stride, pad).
    convs = [(64, 64, 56, 3, 1, 1), (128, 128, 28, 3, 1, 1), (256, 256, 14, 3, 1, 1),
             (512, 512, 7, 3, 1, 1), (64, 128, 56, 1, 2, 0)]
    batch = 8 if quick else 32
    for name, dt in [("float32", torch.float32), ("float16", torch.float16)]:
        for cin, cout, h, k, s, p in convs:
            xin, w = rand(batch, cin, h, h, dtype=dt), rand(cout, cin, k, k, dtype=dt) * 0.05
            xx, xw = x(xin), x(w)
            ho = (h + 2 * p - k) // s + 1
            out.append(Workload(
                f"conv {cin}->{cout} {h}x{h} k{k} s{s} n{batch}", name,
                lambda xx=xx, xw=xw, k=k, s=s, p=p: xhal.ops.conv(
                    xx, xw, kernel_shape=[k, k], strides=[s, s], pads=[p, p, p, p]),
                lambda xin=xin, w=w, s=s, p=p: torch.nn.functional.conv2d(xin, w, stride=s,
                                                                          padding=p),
                2.0 * batch * cout * ho * ho * cin * k * k, atol=0.5 if dt != torch.float32
                else 2e-2))
    rows = [(4096 if quick else 32 * 12 * 128, 128), (8192, 1024), (4096, 4096)]
    for name, dt in dtypes.items():
        for r, cols in rows:
            t = rand(r, cols, dtype=dt)
            xt = x(t)
            out.append(Workload(f"softmax [{r}, {cols}]", name,
                                lambda xt=xt: xhal.ops.softmax(xt, axis=-1),
                                lambda t=t: torch.softmax(t, dim=-1),
                                bytes_moved=2.0 * t.numel() * t.element_size(), atol=1e-2))
        for r, cols in [(32 * 128, 768), (8192, 1024), (4096, 4096)]:
            t, g, bb = rand(r, cols, dtype=dt), rand(cols, dtype=dt), rand(cols, dtype=dt)
            xt, xg, xbb = x(t), x(g), x(bb)
            out.append(Workload(
                f"layer_normalization [{r}, {cols}]", name,
                lambda xt=xt, xg=xg, xbb=xbb: xhal.ops.layer_normalization(xt, xg, xbb, axis=-1)[0],
                lambda t=t, g=g, bb=bb, cols=cols: torch.nn.functional.layer_norm(
                    t, (cols,), g, bb),
                bytes_moved=2.0 * t.numel() * t.element_size(),
                atol=5e-2 if dt != torch.float32 else 1e-3))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda:0")
    parser.add_argument("--filter", default="")
    parser.add_argument("--quick", action="store_true", help="smaller shapes, fewer repetitions")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)

    import torch

    import xhal

    if not torch.cuda.is_available():
        print("bench/gpu.py: torch sees no CUDA device", file=sys.stderr)
        return 2
    dev = xhal.device(args.device)
    tsync = torch.cuda.synchronize
    reps, trials = (5, 3) if args.quick else (20, 5)
    results = []
    print(f"xhal {args.device} ({dev.properties['name']}) vs torch {torch.__version__} "
          f"({torch.cuda.get_device_name()}); TF32 matmul in torch: "
          f"{torch.backends.cuda.matmul.allow_tf32}")
    header = f"{'workload':44} {'dtype':9} {'xhal ms':>9} {'torch ms':>9} {'ratio':>6}  rate"
    print(header)
    print("-" * len(header))
    for w in build(args.device, args.quick):
        if args.filter and args.filter not in f"{w.name} {w.dtype}":
            continue
        row: dict[str, Any] = {"workload": w.name, "dtype": w.dtype}
        try:
            got = torch.from_dlpack(w.run_xhal())
            want = w.run_torch()
            tsync()
            err = (got.float() - want.float()).abs().max().item()
            row["max_abs_diff"] = err
            row["matches_torch"] = bool(err <= w.atol)
            tx = _time(w.run_xhal, dev.synchronize, reps, trials)
            tt = _time(w.run_torch, tsync, reps, trials)
        except Exception as e:  # a failing workload is a row, not the end of the run
            row["error"] = f"{type(e).__name__}: {e}"
            results.append(row)
            print(f"{w.name:44} {w.dtype:9} ERROR {row['error'][:120]}")
            continue
        row.update(xhal_ms=tx * 1e3, torch_ms=tt * 1e3, ratio=tt / tx)
        rate = ""
        if w.flops:
            row["xhal_tflops"], row["torch_tflops"] = w.flops / tx / 1e12, w.flops / tt / 1e12
            rate = f"{row['xhal_tflops']:.1f} vs {row['torch_tflops']:.1f} TFLOP/s"
        elif w.bytes_moved:
            row["xhal_gbps"], row["torch_gbps"] = w.bytes_moved / tx / 1e9, w.bytes_moved / tt / 1e9
            rate = f"{row['xhal_gbps']:.0f} vs {row['torch_gbps']:.0f} GB/s"
        if not row["matches_torch"]:
            rate += f"  MISMATCH max|diff|={err:.3g}"
        results.append(row)
        print(f"{w.name:44} {w.dtype:9} {tx * 1e3:9.3f} {tt * 1e3:9.3f} {tt / tx:6.2f}  {rate}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": dev.properties["name"], "torch": torch.__version__,
                       "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
