"""Shape rules against numpy (property tests) and the wording of their errors."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import xhal
from xhal.errors import InvalidArgumentError, ShapeError
from xhal.shape_rules import (
    RULES,
    broadcast,
    gemm,
    infer_output_shapes,
    matmul,
    parse_rule,
    reduce,
    reshape,
    softmax,
    transpose,
)

dims = st.integers(min_value=0, max_value=3)
shapes = st.lists(dims, min_size=0, max_size=4).map(tuple)
settings.register_profile("xhal", max_examples=200, deadline=None)
settings.load_profile("xhal")


@pytest.fixture(scope="module")
def ops() -> dict:
    return xhal.specs()["ops"]


def _numpy_or_error(fn):  # noqa: ANN001, ANN202 - tiny helper
    try:
        return fn()
    except ValueError:
        return ValueError


# --------------------------------------------------------------------------------------------
# Properties: agree with numpy wherever numpy defines the result, raise where it refuses
# --------------------------------------------------------------------------------------------


@given(shapes, shapes)
def test_broadcast_matches_numpy(a: tuple, b: tuple) -> None:
    want = _numpy_or_error(lambda: np.broadcast_shapes(a, b))
    if want is ValueError:
        with pytest.raises(ShapeError):
            broadcast(a, b, names=("A", "B"))
    else:
        assert broadcast(a, b, names=("A", "B")) == want


@given(
    st.lists(dims, min_size=1, max_size=4).map(tuple),
    st.lists(dims, min_size=1, max_size=4).map(tuple),
)
def test_matmul_matches_numpy(a: tuple, b: tuple) -> None:
    want = _numpy_or_error(lambda: np.matmul(np.zeros(a), np.zeros(b)).shape)
    if want is ValueError:
        with pytest.raises(ShapeError):
            matmul(a, b)
    else:
        assert matmul(a, b) == want


@given(shapes)
def test_matmul_rejects_rank0(a: tuple) -> None:
    with pytest.raises(ShapeError, match="rank 0"):
        matmul((), a)
    with pytest.raises(ShapeError, match="rank 0"):
        matmul(a or (2,), ())


@given(st.data())
def test_transpose_matches_numpy(data: st.DataObject) -> None:
    shape = data.draw(shapes)
    perm = data.draw(st.permutations(range(len(shape))))
    assert transpose(shape, perm) == np.transpose(np.empty(shape), perm).shape
    assert transpose(shape, []) == np.transpose(np.empty(shape)).shape
    assert transpose(shape, None) == tuple(reversed(shape))


@given(shapes, st.lists(st.integers(-5, 5), min_size=1, max_size=5))
def test_transpose_rejects_non_permutations(shape: tuple, perm: list) -> None:
    assume(sorted(perm) != list(range(len(shape))))
    with pytest.raises(ShapeError, match="not a permutation"):
        transpose(shape, perm)


@given(st.data())
def test_reduce_matches_numpy_sum(data: st.DataObject) -> None:
    shape = data.draw(shapes)
    rank = len(shape)
    keepdims = data.draw(st.sampled_from([0, 1]))
    axes = data.draw(st.lists(st.integers(0, max(rank - 1, 0)), unique=True, max_size=rank))
    # Spell each axis either positively or negatively: both name the same axis.
    spelled = [a - rank if data.draw(st.booleans()) else a for a in axes]
    want = np.sum(
        np.empty(shape), axis=tuple(axes) if axes else None, keepdims=bool(keepdims)
    ).shape
    assert reduce(shape, np.array(spelled, dtype=np.int64), keepdims, 0) == want
    assert reduce(shape, None, keepdims, 1) == shape
    if not axes:
        assert reduce(shape, np.array(spelled, dtype=np.int64), keepdims, 1) == shape


@given(st.lists(st.integers(1, 3), min_size=1, max_size=4).map(tuple), st.data())
def test_reduce_rejects_bad_axes(shape: tuple, data: st.DataObject) -> None:
    rank = len(shape)
    out_of_range = data.draw(
        st.one_of(st.integers(rank, rank + 3), st.integers(-rank - 3, -rank - 1))
    )
    with pytest.raises(ShapeError, match="out of range"):
        reduce(shape, np.array([out_of_range]), 1, 0)
    axis = data.draw(st.integers(0, rank - 1))
    with pytest.raises(ShapeError, match="twice"):
        reduce(shape, np.array([axis, axis - rank]), 1, 0)


@given(st.data())
def test_reshape_matches_numpy(data: st.DataObject) -> None:
    shape = data.draw(st.lists(st.integers(1, 4), min_size=0, max_size=4).map(tuple))
    target = list(data.draw(st.permutations(shape)))
    if target and data.draw(st.booleans()):
        target[data.draw(st.integers(0, len(target) - 1))] = -1
    # A 0 copies the input's dimension at that index (allowzero=0).
    for i in range(min(len(target), len(shape))):
        if target[i] == shape[i] and data.draw(st.booleans()):
            target[i] = 0
    resolved = [shape[i] if d == 0 else d for i, d in enumerate(target)]
    want = np.reshape(np.empty(shape), resolved).shape
    assert reshape(shape, np.array(target, dtype=np.int64), 0) == want


@given(shapes)
def test_softmax_axis_range(shape: tuple) -> None:
    rank = len(shape)
    for axis in range(-rank, rank):
        assert softmax(shape, axis) == shape
    for axis in (rank, -rank - 1):
        with pytest.raises(ShapeError):
            softmax(shape, axis)


# --------------------------------------------------------------------------------------------
# ONNX edge cases that the properties do not reach
# --------------------------------------------------------------------------------------------


def test_reshape_onnx_rules() -> None:
    i64 = lambda *v: np.array(v, dtype=np.int64)  # noqa: E731
    assert reshape((0, 3), i64(3, 0), 1) == (3, 0)  # allowzero: 0 is a real zero
    assert reshape((0, 3), i64(0, 3), 0) == (0, 3)
    assert reshape((1, 1, 1), i64(), 0) == ()
    assert reshape((), i64(1), 0) == (1,)
    with pytest.raises(ShapeError, match="more than one -1"):
        reshape((2, 3), i64(-1, -1), 0)
    with pytest.raises(ShapeError, match="both 0 and -1"):
        reshape((0, 3), i64(0, -1), 1)
    with pytest.raises(ShapeError, match=">= -1"):
        reshape((6,), i64(-2, -3), 0)
    with pytest.raises(ShapeError, match="has rank 1"):
        reshape((6,), i64(2, 0), 0)  # 0 copies a dimension the input does not have
    with pytest.raises(ShapeError, match="cannot infer -1"):
        reshape((0, 3), i64(0, -1), 0)  # -1 next to a zero-sized dimension is ambiguous
    with pytest.raises(ShapeError, match="must be 1-D"):
        reshape((6,), np.array([[6]]), 0)
    with pytest.raises(ShapeError, match="24 elements"):
        reshape((2, 3, 4), i64(5, 5), 0)


def test_gemm_rules() -> None:
    assert gemm((3, 4), (4, 5), None, 0, 0) == (3, 5)
    assert gemm((4, 3), (5, 4), (), 1, 1) == (3, 5)
    for c in [(3, 5), (5,), (3, 1), (1, 5), (1, 1), (1,), ()]:
        assert gemm((3, 4), (4, 5), c, 0, 0) == (3, 5)
    for c in [(5, 3), (3,), (2, 5), (1, 3, 5)]:  # C broadcasts one way only, to [M, N]
        with pytest.raises(ShapeError, match="C"):
            gemm((3, 4), (4, 5), c, 0, 0)
    with pytest.raises(ShapeError, match="2-D"):
        gemm((3, 4, 1), (4, 5), None, 0, 0)
    with pytest.raises(ShapeError, match="inner dimensions"):
        gemm((3, 4), (4, 5), None, 1, 0)


def test_broadcast_is_variadic_and_skips_absent() -> None:
    assert broadcast((2, 1), None, (1, 3), (3,)) == (2, 3)
    assert broadcast() == ()


def test_parse_rule() -> None:
    assert parse_rule("gemm(A, B, C, trans_a, trans_b)") == (
        "gemm",
        ("A", "B", "C", "trans_a", "trans_b"),
    )
    assert parse_rule("same(X)") == ("same", ("X",))
    with pytest.raises(ValueError, match="malformed"):
        parse_rule("not a call")


# --------------------------------------------------------------------------------------------
# infer_output_shapes: binding spec arguments, and the full error message
# --------------------------------------------------------------------------------------------


def test_every_spec_rule_is_known(ops: dict) -> None:
    for spec in ops.values():
        for rule_text in spec["shape"].values():
            assert parse_rule(rule_text)[0] in RULES, f"{spec['op']}: {rule_text}"


def test_matmul_message_names_op_rule_shapes_and_reason(ops: dict) -> None:
    with pytest.raises(ShapeError) as info:
        infer_output_shapes(ops["matmul"], {"A": (2, 3), "B": (4, 5)}, {}, {})
    assert str(info.value) == (
        "matmul: shape rule matmul(A, B) failed: inner dimensions differ "
        "(A[-1]=3, B[-2]=4); inputs A=[2, 3], B=[4, 5]"
    )
    assert isinstance(info.value, InvalidArgumentError)


def test_gemm_binds_attributes_and_defaults(ops: dict) -> None:
    spec = ops["gemm"]
    assert infer_output_shapes(spec, {"A": (4, 3), "B": (4, 5)}, {}, {"trans_a": 1}) == {
        "Y": (3, 5)
    }
    assert infer_output_shapes(spec, {"A": (3, 4), "B": (4, 5), "C": None}, {}, {}) == {"Y": (3, 5)}
    with pytest.raises(ShapeError) as info:
        infer_output_shapes(spec, {"A": (4, 3), "B": (4, 5), "C": (4, 5)}, {}, {"trans_a": 1})
    msg = str(info.value)
    assert msg.startswith("gemm: shape rule gemm(A, B, C, trans_a, trans_b) failed: C=[4, 5]")
    assert "inputs A=[4, 3], B=[4, 5], C=[4, 5]" in msg and "trans_a=1" in msg
    with pytest.raises(ShapeError, match="trans_a=2 is not one of"):
        infer_output_shapes(spec, {"A": (3, 4), "B": (4, 5)}, {}, {"trans_a": 2})
    with pytest.raises(ShapeError, match="required input B is missing"):
        infer_output_shapes(spec, {"A": (3, 4)}, {}, {})
    with pytest.raises(ShapeError, match="unknown input.*bogus"):
        infer_output_shapes(spec, {"A": (3, 4), "B": (4, 5)}, {}, {"bogus": 1})


def test_host_memory_inputs_bind_values(ops: dict) -> None:
    spec = ops["reshape"]
    shape = np.array([0, -1, 2], dtype=np.int64)
    got = infer_output_shapes(spec, {"data": (2, 3, 4), "shape": (3,)}, {"shape": shape}, {})
    assert got == {"reshaped": (2, 6, 2)}
    with pytest.raises(ShapeError) as info:
        infer_output_shapes(
            spec,
            {"data": (2, 3, 4), "shape": (2,)},
            {"shape": np.array([5, -1], dtype=np.int64)},
            {},
        )
    assert "reshape(data, shape, allowzero)" in str(info.value)
    assert "values shape=[5, -1]" in str(info.value)
    with pytest.raises(ShapeError, match="has no value"):
        infer_output_shapes(spec, {"data": (2, 3, 4), "shape": (3,)}, {}, {})
    rs = ops["reduce_sum"]
    assert infer_output_shapes(rs, {"data": (3, 4, 5)}, {}, {}) == {"reduced": (1, 1, 1)}
    assert infer_output_shapes(
        rs, {"data": (3, 4, 5), "axes": (2,)}, {"axes": np.array([0, -1])}, {"keepdims": 0}
    ) == {"reduced": (4,)}
    with pytest.raises(ShapeError, match="out of range"):
        infer_output_shapes(rs, {"data": (3, 4, 5), "axes": (1,)}, {"axes": np.array([3])}, {})


def test_transpose_and_softmax_messages(ops: dict) -> None:
    with pytest.raises(
        ShapeError, match=r"transpose: .*perm \[0, 0\] is not a permutation of 0..1"
    ):
        infer_output_shapes(ops["transpose"], {"data": (2, 3)}, {}, {"perm": [0, 0]})
    assert infer_output_shapes(ops["transpose"], {"data": (2, 3, 4)}, {}, {"perm": None}) == {
        "transposed": (4, 3, 2)
    }
    with pytest.raises(ShapeError, match=r"softmax: .*axis 2 is out of range \[-2, 1\]"):
        infer_output_shapes(ops["softmax"], {"X": (2, 3)}, {}, {"axis": 2})
    with pytest.raises(ShapeError, match="rank 0"):
        infer_output_shapes(ops["softmax"], {"X": ()}, {}, {})


def test_import_is_cheap() -> None:
    """The dispatch path imports shape_rules: it must not pull in yaml, jsonschema or numpy."""
    code = (
        "import sys, xhal; before = set(sys.modules); import xhal.shape_rules; "
        "new = set(sys.modules) - before; "
        "print(sorted(m for m in new if m.split('.')[0] in ('yaml', 'jsonschema', 'numpy')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
