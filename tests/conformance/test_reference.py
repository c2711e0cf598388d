"""numpy references: one per spec, ONNX semantics, consistent with the shape rules."""

from __future__ import annotations

import numpy as np
import pytest

import xhal
from xhal.conformance import reference as R
from xhal.conformance.cases import generate_cases
from xhal.shape_rules import infer_output_shapes


@pytest.fixture(scope="module")
def specs() -> dict:
    return xhal.specs()


def test_every_spec_names_an_existing_reference(specs: dict) -> None:
    for op, spec in specs["ops"].items():
        assert spec["reference"] in R.REFERENCES, f"{op}: no reference '{spec['reference']}'"


def test_references_agree_with_shape_rules_and_dtypes(specs: dict) -> None:
    """Every generated case: output dtype as the spec says, output shape as the shape rule says."""
    for case in generate_cases(specs, max_elements=1 << 16):
        arrays = case.arrays()
        out = R.evaluate(case.spec, arrays, case.attrs, case.output_dtypes())
        host = {
            i["name"]: arrays[i["name"]]
            for i in case.spec["inputs"]
            if i.get("host_memory") and arrays[i["name"]] is not None
        }
        want = infer_output_shapes(
            case.spec,
            {  # a variadic input: a list of shapes
                k: None if v is None else [x.shape for x in v] if isinstance(v, list) else v.shape
                for k, v in arrays.items()
            },
            host,
            case.attrs,
        )
        for name, arr in out.items():
            base, _, k = name.partition("[")  # a variadic output's member Y[k]
            shape = want[name] if name in want else want[base][int(k.rstrip("]"))]
            assert arr.shape == shape, case.id
            assert arr.dtype == np.dtype(case.output_dtypes()[base]), case.id
            assert arr.flags.c_contiguous, case.id


def test_integer_wraparound() -> None:
    i32 = np.iinfo(np.int32)
    a = np.array([i32.max, i32.min, i32.max], dtype=np.int32)
    b = np.array([1, -1, 2], dtype=np.int32)
    assert R.add(a, b).tolist() == [i32.min, i32.max, i32.min + 1]
    assert R.sub(a, b).tolist() == [i32.max - 1, i32.min + 1, i32.max - 2]
    assert R.mul(a, b).tolist() == [i32.max, i32.min, -2]
    i64 = np.iinfo(np.int64)
    assert R.add(np.array(i64.max), np.array(1)).tolist() == i64.min
    assert R.add(np.array(i64.max), np.array(1)).shape == ()


def test_integer_division_truncates_toward_zero() -> None:
    a = np.array([7, -7, 7, -7, 6, -1, 0], dtype=np.int32)
    b = np.array([2, 2, -2, -2, 3, 5, -3], dtype=np.int32)
    assert R.div(a, b).tolist() == [3, -3, -3, 3, 2, 0, 0]
    assert R.div(np.array([7.0], np.float32), np.array([2.0], np.float32)).tolist() == [3.5]


def test_division_undefined_mask() -> None:
    a = np.array([[np.iinfo(np.int32).min], [4]], dtype=np.int32)
    b = np.array([-1, 0, 2], dtype=np.int32)
    assert R.UNDEFINED["div"](a, b).tolist() == [[False, True, False], [False, True, False]]
    assert R.div(a[:1, :], b[:1]).tolist()[0][0] == np.iinfo(np.int32).min  # MIN / -1 wraps
    assert not R.UNDEFINED["div"](a.astype(np.float32), b.astype(np.float32)).any()


def test_float16_transcendentals_round_once_from_float32() -> None:
    x = np.linspace(-11, 11, 97).astype(np.float16)
    assert np.array_equal(R.exp(x), np.exp(x.astype(np.float32)).astype(np.float16))
    s = R.softmax(x.reshape(1, -1))
    x32 = x.astype(np.float32)
    e = np.exp(x32 - x32.max())
    assert np.array_equal(s, (e / e.sum()).reshape(1, -1).astype(np.float16))
    assert R.reduce_sum(np.full(4096, 1.0, np.float16)).tolist() == [
        4096.0
    ]  # fp16 sum stalls at 2048


def test_sigmoid_is_stable_for_large_magnitudes() -> None:
    x = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0, np.inf, -np.inf, np.nan])
    y = R.sigmoid(x)
    assert y[2] == 0.5 and y[4] == 1.0 and y[5] == 1.0 and y[6] == 0.0 and y[0] == 0.0
    assert 0 < y[1] < 1e-21 and np.isnan(y[7])


def test_softmax_rows_with_nan_or_all_minus_inf_are_nan() -> None:
    x = np.array([[1.0, np.nan, 2.0], [-np.inf, -np.inf, -np.inf], [1.0, 2.0, 3.0]])
    y = R.softmax(x, axis=-1)
    assert np.isnan(y[0]).all() and np.isnan(y[1]).all()
    assert np.allclose(y[2].sum(), 1.0)
    assert R.softmax(np.zeros((4, 0), np.float32), axis=0).shape == (4, 0)


def test_gemm_semantics() -> None:
    a = np.arange(6, dtype=np.float64).reshape(2, 3)
    b = np.arange(12, dtype=np.float64).reshape(3, 4)
    c = np.arange(4, dtype=np.float64)
    assert np.array_equal(R.gemm(a, b, c, alpha=2.0, beta=0.5), 2 * a @ b + 0.5 * c)
    assert np.array_equal(R.gemm(a.T.copy(), b.T.copy(), None, trans_a=1, trans_b=1), a @ b)
    nan_c = np.full((2, 4), np.nan)
    assert np.array_equal(R.gemm(a, b, nan_c, beta=0.0), a @ b)  # beta == 0 ignores C
    ai, bi = a.astype(np.int32), b.astype(np.int32)
    assert R.gemm(ai, bi, None, alpha=0.5).dtype == np.int32
    assert np.array_equal(
        R.gemm(ai, bi, None, alpha=-1.5), np.trunc(-1.5 * (a @ b)).astype(np.int32)
    )
    assert np.array_equal(
        R.gemm(ai, bi, ai[:, :1], beta=3.0), (a @ b + 3 * a[:, :1]).astype(np.int32)
    )


def test_matmul_promotes_one_dimensional_operands() -> None:
    a = np.arange(4, dtype=np.float32)
    m = np.ones((4, 3), dtype=np.float32)
    assert R.matmul(a, m).shape == (3,)
    assert R.matmul(m.T.copy(), a).shape == (3,)
    assert R.matmul(a, a).shape == () and R.matmul(a, a).tolist() == 14.0


def test_reduce_sum_axes_rules() -> None:
    x = np.arange(24, dtype=np.int32).reshape(2, 3, 4)
    assert np.array_equal(R.reduce_sum(x, np.array([0, -1]), keepdims=0), x.sum(axis=(0, 2)))
    assert R.reduce_sum(x).shape == (1, 1, 1)
    assert R.reduce_sum(x, None, keepdims=0).tolist() == int(x.sum())
    assert np.array_equal(R.reduce_sum(x, np.array([], np.int64), noop_with_empty_axes=1), x)
    assert R.reduce_sum(np.zeros((0, 4), np.float32), np.array([0])).tolist() == [[0.0] * 4]


def test_reshape_and_transpose() -> None:
    x = np.arange(24).reshape(2, 3, 4)
    assert R.reshape(x, np.array([0, -1, 2])).shape == (2, 6, 2)
    assert R.reshape(np.zeros((0, 3)), np.array([3, 0]), allowzero=1).shape == (3, 0)
    assert R.transpose(x).shape == (4, 3, 2)
    assert np.array_equal(R.transpose(x, perm=[0, 2, 1]), x.transpose(0, 2, 1))


def test_relu_keeps_nan() -> None:
    y = R.relu(np.array([-1.0, 2.0, np.nan, -np.inf], np.float32))
    assert y[0] == 0 and y[1] == 2 and np.isnan(y[2]) and y[3] == 0


def test_evaluate_fills_defaults_and_checks_dtype(specs: dict) -> None:
    spec = specs["ops"]["softmax"]
    x = np.array([[0.0, 1.0]], dtype=np.float32)
    out = R.evaluate(spec, {"X": x}, {}, {"Y": "float32"})
    assert np.allclose(out["Y"].sum(axis=-1), 1.0)
    with pytest.raises(TypeError, match="returned float32"):
        R.evaluate(spec, {"X": x}, {}, {"Y": "float64"})
    bad = dict(spec, reference="no_such_reference")
    with pytest.raises(KeyError, match="no_such_reference"):
        R.evaluate(bad, {"X": x}, {}, {"Y": "float32"})
