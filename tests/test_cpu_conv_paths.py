"""Every CPU convolution path passes conformance: the blocked AVX-512 kernel (conv_gemm.cpp, the
default on AVX-512 machines) and im2col + OpenBLAS (what XHAL_CPU_ISA=avx2 or baseline selects,
and what other machines run)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st


@pytest.mark.parametrize("isa", ["avx512", "avx2", "baseline"])
def test_conv_conformance_on_each_path(isa: str, tmp_path: Path) -> None:
    report = tmp_path / "conv.json"
    env = dict(os.environ, XHAL_CPU_ISA=isa, XHAL_CPU_THREADS="2")
    proc = subprocess.run(
        [sys.executable, "-m", "xhal", "conformance", "--device", "cpu:0", "--no-runtime",
         "--filter", "conv*", "--json", str(report)],
        capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    data = json.loads(report.read_text())
    ops = {c["op"] for c in data["cases"] if c["outcome"] == "pass"}
    assert {"conv", "conv_transpose"} <= ops
    assert data["summary"]["failed"] == 0


def assert_conv_matches_reference(x: Any, w: Any, b: Any, attrs: dict[str, Any]) -> None:
    """xhal's conv on cpu:0 against the spec's numpy reference, at the float32 tolerance."""
    import xhal
    from xhal.conformance.compare import compare
    from xhal.conformance.reference import evaluate

    tensors = [xhal.tensor(x), xhal.tensor(w), xhal.tensor(b) if b is not None else None]
    got = xhal.ops.conv(*tensors, **attrs).numpy()
    spec = xhal.specs()["ops"]["conv"]
    want = evaluate(spec, {"X": x, "W": w, "B": b}, attrs, {"Y": "float32"})["Y"]
    tol = spec["tolerance"]["float32"]
    cmp = compare(got, want, rtol=tol["rtol"], atol=tol["atol"])
    assert cmp.ok, cmp.message


# The AVX-512 kernel's packed path (strided 1x1 and 3-D convolutions) packs column blocks of
# whole 32-position panels; these shapes cross panel, block and output-row boundaries at odd
# places. Compared with the numpy reference at the spec's float32 tolerance.
@settings(max_examples=40, deadline=None)
@given(rank=st.integers(1, 3), c_in=st.integers(1, 40), c_out=st.integers(1, 30),
       size=st.integers(1, 37), stride=st.integers(1, 3), k3=st.booleans(), data=st.data())
def test_packed_path_shapes(rank: int, c_in: int, c_out: int, size: int, stride: int, k3: bool,
                            data: st.DataObject) -> None:
    import numpy as np

    k = 3 if k3 and size >= 3 else 1
    pads = data.draw(st.sampled_from([0, 1])) if k == 3 else 0
    spatial = tuple(max(size - 7 * d, 1) for d in range(rank))  # keep 3-D small
    rng = np.random.default_rng(size * 131 + c_in)
    x = rng.standard_normal((1, c_in, *spatial)).astype(np.float32)
    w = rng.standard_normal((c_out, c_in, *(min(k, s) for s in spatial))).astype(np.float32)
    attrs = {"strides": [stride] * rank, "pads": [pads] * (2 * rank)}
    assert_conv_matches_reference(x, w, None, attrs)


# The in-place path (2-D/1-D, stride 1 or more than one tap) computes a wide grid split into
# panel groups and tile ranges, with a different loop order for outputs of at most 8 panels;
# these shapes cover both sides of that line, partial 12-channel tiles, dilations and padding
# that widens the grid, at sizes where the work is split across threads.
@settings(max_examples=40, deadline=None)
@given(c_in=st.integers(1, 24), c_out=st.integers(1, 40), size=st.integers(3, 40),
       k=st.sampled_from([2, 3, 5]), stride=st.integers(1, 2), dilation=st.integers(1, 2),
       pad=st.integers(0, 2), bias=st.booleans())
def test_direct_path_shapes(c_in: int, c_out: int, size: int, k: int, stride: int,
                            dilation: int, pad: int, bias: bool) -> None:
    import numpy as np

    reach = dilation * (k - 1) + 1
    size = max(size, reach)
    rng = np.random.default_rng(size * 131 + c_in * 7 + c_out)
    x = rng.standard_normal((1, c_in, size, size + 3)).astype(np.float32)
    w = rng.standard_normal((c_out, c_in, k, k)).astype(np.float32)
    b = rng.standard_normal(c_out).astype(np.float32) if bias else None
    attrs = {"strides": [stride, stride], "pads": [pad] * 4, "dilations": [dilation] * 2}
    assert_conv_matches_reference(x, w, b, attrs)


# With stride 1 across, the in-place path's padded rows overlap: a row's right padding is the next
# row's left padding, rows W + max(left, right) apart (or Wo apart, when the padding outgrows the
# kernel). Uneven and oversized left/right padding, dilation across, and a stride down cover the
# cases where a tap past a row's end must read zeros and never the next row's values.
@settings(max_examples=60, deadline=None)
@given(c_in=st.integers(1, 12), c_out=st.integers(1, 30), height=st.integers(1, 12),
       width=st.integers(1, 40), kw=st.integers(1, 5), dilation=st.integers(1, 3),
       left=st.integers(0, 6), right=st.integers(0, 6), top=st.integers(0, 2),
       stride_down=st.integers(1, 2))
def test_direct_path_overlapping_padded_rows(c_in: int, c_out: int, height: int, width: int,
                                             kw: int, dilation: int, left: int, right: int,
                                             top: int, stride_down: int) -> None:
    import numpy as np

    assume(width + left + right >= dilation * (kw - 1) + 1)
    rng = np.random.default_rng(width * 977 + left * 31 + right)
    x = rng.standard_normal((1, c_in, height + 2, width)).astype(np.float32)
    w = rng.standard_normal((c_out, c_in, 3, kw)).astype(np.float32)
    attrs = {"strides": [stride_down, 1], "pads": [top, left, 1, right],
             "dilations": [1, dilation]}
    assert_conv_matches_reference(x, w, None, attrs)


# The in-place path stores each 32-column panel's kept columns compacted straight into Y. With
# a dilated kernel the dropped columns of a wide-grid row (dilation x (k - 1) of them) can fill
# whole panels (nothing kept) or split a panel's kept columns across two output rows; more than
# 256 input taps also make the later K slices read back and add to what the first one stored.
@pytest.mark.parametrize("dilation,width,c_in", [(17, 40, 3), (17, 70, 30), (9, 33, 29),
                                                 (1, 31, 40)])
def test_direct_path_compacted_columns(dilation: int, width: int, c_in: int) -> None:
    import numpy as np

    rng = np.random.default_rng(dilation * 1000 + width)
    x = rng.standard_normal((1, c_in, 2 * dilation + 3, width)).astype(np.float32)
    w = rng.standard_normal((13, c_in, 3, 3)).astype(np.float32)
    b = rng.standard_normal(13).astype(np.float32)
    attrs = {"pads": [1, 2, 0, 1], "dilations": [dilation, dilation]}
    assert_conv_matches_reference(x, w, b, attrs)


# Strided 1x1 convolutions with output rows of 16 or more pack their columns by rows (runs cut
# at row and panel ends; stride 2 through a permute, others one by one) instead of gathers.
@pytest.mark.parametrize("spatial,strides", [((56, 56), (2, 2)), ((9, 47), (1, 2)),
                                             ((101,), (3,)), ((3, 5, 67), (2, 1, 2)),
                                             ((6, 33), (2, 1))])
def test_pointwise_rows_packing(spatial: tuple[int, ...], strides: tuple[int, ...]) -> None:
    import numpy as np

    rng = np.random.default_rng(sum(spatial))
    x = rng.standard_normal((2, 21, *spatial)).astype(np.float32)
    w = rng.standard_normal((14, 21) + (1,) * len(spatial)).astype(np.float32)
    b = rng.standard_normal(14).astype(np.float32)
    attrs = {"strides": list(strides)}
    assert_conv_matches_reference(x, w, b, attrs)


# A packed block's columns beyond its last whole 16 go to a one-vector panel (16 or fewer) and,
# when there are at most 4 of them past a multiple of 16, to dot products along K; blocks of
# few columns also split the output channels, tile range first. Strided 1x1 outputs of every
# width modulo 16, output channels that leave partial 12-channel tiles and 4-row dot steps, and
# input channel counts across a 256-row K slice and off a multiple of 16.
@settings(max_examples=40, deadline=None)
@given(c_in=st.integers(1, 300), c_out=st.integers(1, 100), out_h=st.integers(1, 9),
       out_w=st.integers(1, 14), stride=st.integers(2, 3), bias=st.booleans())
def test_packed_path_narrow_and_dot_columns(c_in: int, c_out: int, out_h: int, out_w: int,
                                            stride: int, bias: bool) -> None:
    import numpy as np

    rng = np.random.default_rng(c_in * 1000 + c_out * 10 + out_w)
    h, w_in = (out_h - 1) * stride + 1, (out_w - 1) * stride + 1
    x = rng.standard_normal((1, c_in, h, w_in)).astype(np.float32)
    w = rng.standard_normal((c_out, c_in, 1, 1)).astype(np.float32)
    b = rng.standard_normal(c_out).astype(np.float32) if bias else None
    assert_conv_matches_reference(x, w, b, {"strides": [stride, stride]})


# ResNet-18's strided 1x1 layers: 49 positions (32 + 16 + 1 dot column), 196 (blocks of 32 and
# 64 columns, the last ending on 4 dot columns) and 784 (whole panels but the last).
@pytest.mark.parametrize("c_in,c_out,size", [(256, 512, 14), (128, 256, 28), (64, 128, 56)])
def test_packed_path_resnet_layers(c_in: int, c_out: int, size: int) -> None:
    import numpy as np

    rng = np.random.default_rng(c_in)
    x = rng.standard_normal((1, c_in, size, size)).astype(np.float32)
    w = rng.standard_normal((c_out, c_in, 1, 1)).astype(np.float32)
    b = rng.standard_normal(c_out).astype(np.float32)
    assert_conv_matches_reference(x, w, b, {"strides": [2, 2]})


# Small outputs for 64 or more output channels (ResNet's 7x7 layers) are vectorised over output
# channels (conv_channel_panels in conv_gemm.cpp): tiles of whole output rows 1 to 14 wide with
# a shorter last tile, panels of 32 channels with a partial last one, and slices of 128 taps
# (tap counts that are not a multiple of 16 included).
@settings(max_examples=40, deadline=None)
@given(c_in=st.integers(1, 40), c_out=st.integers(64, 100), out_w=st.integers(1, 14),
       k=st.sampled_from([2, 3]), stride=st.integers(1, 2), dilation=st.integers(1, 2),
       pad=st.integers(0, 1), bias=st.booleans(), data=st.data())
def test_channel_panel_path_shapes(c_in: int, c_out: int, out_w: int, k: int, stride: int,
                                   dilation: int, pad: int, bias: bool,
                                   data: st.DataObject) -> None:
    import numpy as np

    out_h = data.draw(st.integers(1, 64 // out_w))
    span = dilation * (k - 1) + 1 - 2 * pad  # input extent of one output position, pads taken
    h, w_in = (out_h - 1) * stride + span, (out_w - 1) * stride + span
    assume(h >= 1 and w_in >= 1)
    rng = np.random.default_rng(c_in * 1000 + c_out * 10 + out_w)
    x = rng.standard_normal((1, c_in, h, w_in)).astype(np.float32)
    w = rng.standard_normal((c_out, c_in, k, k)).astype(np.float32)
    b = rng.standard_normal(c_out).astype(np.float32) if bias else None
    attrs = {"strides": [stride] * 2, "pads": [pad] * 4, "dilations": [dilation] * 2}
    assert_conv_matches_reference(x, w, b, attrs)


# The same path on ResNet-like layers: a strided 3x3 to 7x7 whose 576 taps end in a half slice,
# a grouped one (each group's 64 channels a call of their own) and a 1-D convolution.
@pytest.mark.parametrize("x_shape,w_shape,attrs", [
    ((1, 64, 14, 14), (96, 64, 3, 3), {"strides": [2, 2], "pads": [1, 1, 1, 1]}),
    ((2, 32, 7, 7), (128, 16, 3, 3), {"pads": [1, 1, 1, 1], "group": 2}),
    ((1, 24, 12), (70, 24, 5), {"strides": [2], "pads": [2, 2]}),
])
def test_channel_panel_path_layers(x_shape: tuple[int, ...], w_shape: tuple[int, ...],
                                   attrs: dict[str, Any]) -> None:
    import numpy as np

    rng = np.random.default_rng(w_shape[0])
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = rng.standard_normal(w_shape).astype(np.float32)
    b = rng.standard_normal(w_shape[0]).astype(np.float32)
    assert_conv_matches_reference(x, w, b, attrs)
