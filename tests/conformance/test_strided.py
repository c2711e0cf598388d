"""Strided variants: bounded in number, same data as their base case, passed as real views."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

import xhal
from xhal.conformance import runner
from xhal.conformance.cases import MAX_STRIDED, STRIDED_LAYOUTS, generate_cases


@pytest.fixture(scope="module")
def cases() -> list:
    return generate_cases(xhal.specs())


@pytest.mark.parametrize("layout", STRIDED_LAYOUTS)
@pytest.mark.parametrize("dtype", ["float32", "float16", "int64", "bool"])
def test_views_equal_the_array_but_are_not_plain(layout: str, dtype: str) -> None:
    a = (np.arange(24).reshape(2, 3, 4) % 5).astype(dtype)
    v = runner.strided_view(a, layout)
    np.testing.assert_array_equal(v, a)
    assert v.base is not None
    assert not v.flags.c_contiguous or layout == "offset"
    assert runner.strided_view(np.ones(3, dtype), layout).base is None  # rank 1: left alone


def test_strided_variants_are_bounded_and_share_data(cases: list) -> None:
    by_id = {c.id: c for c in cases}
    strided = [c for c in cases if c.layout]
    assert strided
    per_sig = Counter((c.op, c.dtype) for c in strided)
    assert max(per_sig.values()) <= MAX_STRIDED
    for c in strided:
        assert c.id.endswith("+strided") and "bfloat16" not in c.id
        base = by_id[c.id.removesuffix("+strided")]
        assert not base.layout and base.shapes == c.shapes and base.attrs == c.attrs
        if c.elements < 5000:
            a, b = base.arrays(), c.arrays()
            for k in a:
                if a[k] is not None and not isinstance(a[k], list):
                    np.testing.assert_array_equal(a[k], b[k])


def test_strided_inputs_reach_the_device_as_views(
    monkeypatch: pytest.MonkeyPatch, cases: list
) -> None:
    if not hasattr(xhal, "from_dlpack"):
        pytest.skip("installed xhal has no runtime")
    cpu = xhal.device("cpu")
    seen: list = []
    real = xhal.from_dlpack

    def spy(view: np.ndarray) -> object:
        t = real(view)
        seen.append((view, t.strides))
        return t

    monkeypatch.setattr(xhal, "from_dlpack", spy)
    chosen = [c for c in cases if c.layout][:6]
    report = runner.run([cpu], cases=chosen, decompositions=False)
    assert report.failed == 0 and report.passed == len(chosen)
    # the device tensors keep the views' strides (in elements): no copy on the way in
    assert seen and all(t == tuple(s // v.itemsize for s in v.strides) for v, t in seen)
    assert any(not v.flags.c_contiguous for v, _ in seen)


def test_scalar_inputs_of_strided_cases_stay_scalar(
    monkeypatch: pytest.MonkeyPatch, cases: list
) -> None:
    if not hasattr(xhal, "from_dlpack"):
        pytest.skip("installed xhal has no runtime")
    case = next((c for c in cases if c.id == "add/float32/broadcast[2,3]x[]+strided"), None)
    if case is None:
        pytest.skip("no such strided case")
    shapes: list = []
    real = xhal.Tensor.from_numpy

    def spy(array: np.ndarray, device: object = None) -> object:
        shapes.append(np.shape(array))
        return real(array, device)

    monkeypatch.setattr(xhal.Tensor, "from_numpy", spy)
    report = runner.run([xhal.device("cpu")], cases=[case], decompositions=False)
    assert report.passed == 1 and () in shapes
