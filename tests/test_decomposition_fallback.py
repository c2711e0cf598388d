"""A device that lacks a composite op still runs it, through the spec's decomposition (D11).

The CPU plugin has every op, so the tests make it lack the composites: the dispatcher's native
launch answers XHAL_ERROR_UNSUPPORTED for their op ids (as a plugin without the kernel does),
while the primitive steps of the decomposition run normally. Results must match the op's
numpy reference under the spec's tolerance, and the fallback is counted.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import xhal
from xhal import _dispatch, decompose, errors
from xhal.conformance.compare import compare
from xhal.conformance.reference import evaluate
from xhal.conformance.values import numpy_dtype

COMPOSITES = ("softmax", "gelu", "elu", "selu", "hard_sigmoid", "layer_normalization",
              "instance_normalization", "relu", "leaky_relu", "clip", "greater_or_equal",
              "less_or_equal")


class _Lacking:
    """Stands in for the native module: launch() refuses the given op ids."""

    def __init__(self, real: Any, op_ids: set[int]) -> None:
        self._real, self._ids, self.refused = real, op_ids, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def FastOp(self, op_id: int, *args: Any) -> Any:  # noqa: N802 - the native class's name
        """The native fast path launches without asking launch(): for a refused op it raises
        what the real one raises when the plugin answers XHAL_ERROR_UNSUPPORTED."""
        real = self._real.FastOp(op_id, *args)
        if op_id not in self._ids:
            return real

        def refuse(inputs: tuple, attrs: dict) -> Any:
            self.refused += 1
            raise errors.UnsupportedError(f"no kernel for op {op_id} (test)")
        return refuse

    def launch(self, device: int, op_id: int, *args: Any) -> Any:
        if op_id in self._ids:
            self.refused += 1
            raise errors.UnsupportedError(f"no kernel for op {op_id} (test)")
        return self._real.launch(device, op_id, *args)


@pytest.fixture()
def lacking(monkeypatch: pytest.MonkeyPatch) -> _Lacking:
    specs = xhal.specs()["ops"]
    stub = _Lacking(_dispatch._C, {specs[op]["op_id"] for op in COMPOSITES})
    monkeypatch.setattr(_dispatch, "_C", stub)
    _dispatch._PLANS.clear()  # plans hold native fast paths that would bypass the stub
    yield stub
    _dispatch._PLANS.clear()


def _data(shape: tuple[int, ...], dtype: str, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(-4, 4, size=shape).astype(numpy_dtype(dtype))


CALLS = [
    ("softmax", {"X": (3, 7)}, {"axis": 0}),
    ("gelu", {"X": (5, 13)}, {}),
    ("gelu", {"X": (5, 13)}, {"approximate": "tanh"}),
    ("elu", {"X": (33,)}, {"alpha": 0.5}),
    ("selu", {"X": (3, 5, 7)}, {}),
    ("hard_sigmoid", {"X": (7, 3)}, {"alpha": 0.3, "beta": 0.4}),
    ("layer_normalization", {"X": (2, 3, 5), "Scale": (3, 5), "B": (5,)}, {"axis": -2}),
    ("layer_normalization", {"X": (4, 6), "Scale": (6,)}, {"epsilon": 0.5}),
    ("layer_normalization", {"X": (4, 0), "Scale": (0,), "B": (0,)}, {}),
    ("instance_normalization", {"input": (2, 3, 4, 5), "scale": (3,), "B": (3,)}, {}),
    ("instance_normalization", {"input": (3, 4), "scale": (4,), "B": (4,)}, {}),
    ("relu", {"X": (4, 5)}, {}),
    ("leaky_relu", {"X": (4, 5)}, {"alpha": 0.1}),
    ("clip", {"X": (4, 5), "min": (), "max": ()}, {}),
    ("clip", {"X": (4, 5), "min": ()}, {}),
    ("clip", {"X": (4, 5), "max": (1,)}, {}),
    ("clip", {"X": (4, 5)}, {}),
    ("greater_or_equal", {"A": (3, 1), "B": (1, 4)}, {}),
    ("less_or_equal", {"A": (3, 4), "B": (4,)}, {}),
]


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16", "float64"])
@pytest.mark.parametrize(("op", "shapes", "attrs"), CALLS,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CALLS)])
def test_a_device_lacking_the_composite_runs_its_decomposition(
        lacking: _Lacking, op: str, shapes: dict, attrs: dict, dtype: str) -> None:
    spec = xhal.specs()["ops"][op]
    arrays = {name: _data(shape, dtype, k) for k, (name, shape) in enumerate(shapes.items())}
    args = [xhal.Tensor.from_numpy(arrays[i["name"]], "cpu") if i["name"] in arrays else None
            for i in spec["inputs"]]
    before = decompose.fallback_counts[op]
    refused = lacking.refused
    result = getattr(xhal.ops, op)(*args, **attrs)
    assert decompose.fallback_counts[op] == before + 1
    assert lacking.refused > refused  # the composite itself was really refused
    outs = result if isinstance(result, tuple) else (result,)
    dtypes = {o["name"]: dtype if o["type"] in spec["type_vars"] else o["type"]
              for o in spec["outputs"]}
    expected = evaluate(spec, {n: arrays.get(n) for n in (i["name"] for i in spec["inputs"])},
                        attrs, dtypes)
    for o, got in zip(spec["outputs"], outs, strict=True):
        assert got.dtype == dtypes[o["name"]], (op, o["name"])
        tol = spec["tolerance"].get(dtypes[o["name"]], {"rtol": 0.0, "atol": 0.0})
        cmp = compare(got.numpy(), expected[o["name"]], rtol=tol["rtol"], atol=tol["atol"])
        assert cmp.ok, (op, o["name"], cmp.message)


def test_without_the_stub_the_kernel_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    before = decompose.fallback_counts["gelu"]
    xhal.ops.gelu(xhal.Tensor.from_numpy(np.ones(4, np.float32), "cpu"))
    assert decompose.fallback_counts["gelu"] == before


def _gelu_spec() -> dict:
    return xhal.specs()["ops"]["gelu"]


def test_variants_are_chosen_by_attribute_and_by_optional_inputs() -> None:
    gelu = _gelu_spec()
    dec = gelu["decomposition"]
    assert decompose.select_body(gelu, {"approximate": "none"}, {}) is dec["body"]
    assert decompose.select_body(gelu, {"approximate": "tanh"}, {}) is dec["variants"][0]["body"]
    ln = xhal.specs()["ops"]["layer_normalization"]
    with_b = decompose.select_body(ln, {"axis": -1}, {"B": True})
    without_b = decompose.select_body(ln, {"axis": -1}, {"B": False})
    assert with_b is ln["decomposition"]["body"]
    assert without_b is ln["decomposition"]["variants"][0]["body"]
    assert not any("B" in step["inputs"] for step in without_b)
    # a list in `when` means any of its values
    spec = {"decomposition": {"body": ["default"], "variants": [
        {"when": {"mode": ["a", "b"]}, "body": ["ab"]}]}}
    assert decompose.select_body(spec, {"mode": "b"}, {}) == ["ab"]
    assert decompose.select_body(spec, {"mode": "c"}, {}) == ["default"]


def test_the_two_gelu_bodies_compute_different_functions() -> None:
    """The tanh variant really runs: its result matches the tanh reference, not the erf one."""
    x = np.linspace(-3, 3, 61).astype(np.float64)
    t = xhal.Tensor.from_numpy(x, "cpu")
    dev = xhal.device("cpu")
    spec = _gelu_spec()
    for approx in ("none", "tanh"):
        got = decompose.run_decomposition("gelu", (t,), {"approximate": approx}, dev).numpy()
        want = evaluate(spec, {"X": x}, {"approximate": approx}, {"Y": "float64"})["Y"]
        other = evaluate(spec, {"X": x}, {"approximate": "tanh" if approx == "none" else "none"},
                         {"Y": "float64"})["Y"]
        assert np.allclose(got, want, rtol=1e-12, atol=1e-14)
        assert not np.allclose(got, other, rtol=1e-6, atol=1e-9)


def test_float_attributes_reach_constants_as_float32() -> None:
    """hard_sigmoid's alpha 0.2 is the float32 0.2 in a float64 decomposition, as in kernels."""
    x = np.array([1.0, -1.0, 2.0], np.float64)
    got = decompose.run_decomposition(
        "hard_sigmoid", (xhal.Tensor.from_numpy(x, "cpu"),), {}, xhal.device("cpu")).numpy()
    assert got.tolist() == (float(np.float32(0.2)) * x + float(np.float32(0.5))).tolist()
