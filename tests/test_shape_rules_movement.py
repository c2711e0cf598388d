"""Shape rules of the shape and data movement family against numpy and the ONNX docs."""

from __future__ import annotations

import numpy as np
import pytest

from xhal.errors import ShapeError
from xhal.shape_rules import RULES
from xhal.shape_rules import movement as mv

I64 = np.int64


def test_registered() -> None:
    for name in (
        "concat", "split", "slice", "gather", "gather_elements", "flatten", "squeeze",
        "unsqueeze", "expand", "tile", "shape", "size", "constant", "constant_of_shape", "range",
    ):  # fmt: skip
        assert name in RULES


def test_concat() -> None:
    assert mv.concat([(2, 3), (2, 5)], 1) == (2, 8)
    assert mv.concat([(2, 3), (4, 3), (0, 3)], -2) == (6, 3)
    with pytest.raises(ShapeError, match="differs"):
        mv.concat([(2, 3), (3, 3)], 1)
    with pytest.raises(ShapeError, match="rank"):
        mv.concat([(2, 3), (2, 3, 1)], 0)
    with pytest.raises(ShapeError):
        mv.concat([()], 0)


def test_split() -> None:
    assert mv.split((4, 6), None, 1, 3) == [(4, 2)] * 3
    assert mv.split((3, 7), None, -1, 3) == [(3, 3), (3, 3), (3, 1)]
    assert mv.split((4, 3), None, 0, 3) == [(2, 3), (2, 3), (0, 3)]
    assert mv.split((6,), np.array([1, 0, 5], I64), 0, 0) == [(1,), (0,), (5,)]
    with pytest.raises(ShapeError, match="sums"):
        mv.split((6,), np.array([1, 2], I64), 0, 0)
    with pytest.raises(ShapeError, match="not both"):
        mv.split((6,), np.array([3, 3], I64), 0, 2)
    with pytest.raises(ShapeError, match="last would be"):
        mv.split((5,), None, 0, 4)
    with pytest.raises(ShapeError, match="neither"):
        mv.split((5,), None, 0, 0)


@pytest.mark.parametrize(
    ("shape", "starts", "ends", "axes", "steps"),
    [
        ((5, 6), [1, 2], [4, 5], None, None),
        ((4, 10), [-1], [-(2**63)], [1], [-2]),
        ((4, 10), [0, 2**63 - 1], [2**63 - 1, 0], [0, 1], [3, -3]),
        ((3, 4, 5), [-100, 1], [100, 3], [2, 0], None),
        ((3, 4, 5), [3], [1], [1], None),
        ((9,), [8], [-10], [0], [-1]),
        ((7,), [10], [20], None, None),
    ],
)
def test_slice_matches_numpy(shape, starts, ends, axes, steps) -> None:
    x = np.zeros(shape)
    index = [slice(None)] * len(shape)
    for k, a in enumerate(axes if axes is not None else range(len(starts))):
        e = ends[k]
        step = steps[k] if steps else 1
        e = None if step < 0 and e < -shape[a] else e  # numpy has no "before index 0" end
        index[a] = slice(starts[k], e, step)
    got = mv.slice(
        shape,
        np.array(starts, I64),
        np.array(ends, I64),
        None if axes is None else np.array(axes, I64),
        None if steps is None else np.array(steps, I64),
    )
    assert got == x[tuple(index)].shape


def test_slice_errors() -> None:
    s, e = np.array([0], I64), np.array([1], I64)
    with pytest.raises(ShapeError, match="0"):
        mv.slice((3,), s, e, None, np.array([0], I64))
    with pytest.raises(ShapeError, match="twice"):
        mv.slice((3, 3), np.array([0, 0], I64), np.array([1, 1], I64), np.array([0, -2], I64), None)
    with pytest.raises(ShapeError, match="out of range"):
        mv.slice((3,), s, e, np.array([1], I64), None)


def test_gather_and_elements() -> None:
    assert mv.gather((5, 4), (2, 3), 1) == (5, 2, 3)
    assert mv.gather((5, 4), (), 0) == (4,)
    assert mv.gather_elements((3, 4), (2, 4), 0) == (2, 4)
    with pytest.raises(ShapeError):
        mv.gather((), (2,), 0)
    with pytest.raises(ShapeError, match="exceeds"):
        mv.gather_elements((3, 4), (3, 5), 0)


def test_flatten_squeeze_unsqueeze() -> None:
    assert mv.flatten((2, 3, 4), 0) == (1, 24)
    assert mv.flatten((2, 3, 4), -1) == (6, 4)
    assert mv.flatten((), 0) == (1, 1)
    assert mv.flatten((3, 0, 2), 2) == (0, 2)
    with pytest.raises(ShapeError):
        mv.flatten((2, 3), 3)
    assert mv.squeeze((1, 3, 1, 5), None) == (3, 5)
    assert mv.squeeze((1, 3, 1, 5), np.array([-2], I64)) == (1, 3, 5)
    with pytest.raises(ShapeError, match="size is 3"):
        mv.squeeze((1, 3), np.array([1], I64))
    assert mv.unsqueeze((3, 4), np.array([4, 0, -3], I64)) == (1, 3, 1, 4, 1)
    assert mv.unsqueeze((), np.array([0], I64)) == (1,)
    with pytest.raises(ShapeError, match="twice"):
        mv.unsqueeze((3,), np.array([0, -3], I64))


def test_expand_tile() -> None:
    assert mv.expand((3, 1), np.array([2, 1, 6], I64)) == (2, 3, 6)
    assert mv.expand((2, 3), np.array([1, 1], I64)) == (2, 3)
    with pytest.raises(ShapeError):
        mv.expand((2, 3), np.array([4], I64))
    assert mv.tile((2, 3), np.array([2, 0], I64)) == (4, 0)
    with pytest.raises(ShapeError):
        mv.tile((2, 3), np.array([2], I64))


def test_shape_size_constants_range() -> None:
    assert mv.shape((2, 3, 4), 0, 2**63 - 1) == (3,)
    assert mv.shape((2, 3, 4), -1, 2**63 - 1) == (1,)
    assert mv.shape((2, 3, 4), 2, 1) == (0,)
    assert mv.shape((2, 3, 4), -10, 10) == (3,)
    assert mv.size((2, 3)) == ()
    assert mv.constant(np.zeros((2, 3))) == (2, 3)
    assert mv.constant([[1, 2]]) == (1, 2)
    assert mv.constant_of_shape(np.array([3, 0], I64)) == (3, 0)
    assert mv.constant_of_shape(np.array([], I64)) == ()
    assert mv.range_(np.array(3), np.array(9), np.array(3)) == (2,)
    assert mv.range_(np.array(10), np.array(4), np.array(-2)) == (3,)
    assert mv.range_(np.array(1.0), np.array(2.0), np.array(0.3)) == (4,)
    with pytest.raises(ShapeError, match="0"):
        mv.range_(np.array(1), np.array(2), np.array(0))


def test_constant_shapes_follow_the_one_attribute_set() -> None:
    assert mv.constant(None, 1.5, None, None, None) == ()
    assert mv.constant(None, None, [1.0, 2.0], None, None) == (2,)
    assert mv.constant(None, None, [], None, None) == (0,)  # an empty list is set
    assert mv.constant(None, None, None, 0, None) == ()  # 0 is a value, not "absent"
    assert mv.constant(None, None, None, None, np.array([1, 2, 3], I64)) == (3,)
    with pytest.raises(ShapeError, match="exactly one of .* got none"):
        mv.constant(None, None, None, None, None)
    with pytest.raises(ShapeError, match="got value_float, value_int"):
        mv.constant(None, 1.0, None, 2, None)
    with pytest.raises(ShapeError, match="value_int must be a scalar"):
        mv.constant(None, None, None, [1, 2], None)
    with pytest.raises(ShapeError, match="value_floats must be a list"):
        mv.constant(None, None, 1.5, None, None)


def test_constant_of_shape_value_holds_one_element() -> None:
    assert mv.constant_of_shape(np.array([2], I64), np.array([7], np.int8)) == (2,)
    assert mv.constant_of_shape(np.array([2], I64), np.float32(1)) == (2,)
    with pytest.raises(ShapeError, match="value must hold one element, got shape \\[2\\]"):
        mv.constant_of_shape(np.array([2], I64), np.array([1, 2]))
    with pytest.raises(ShapeError, match="negative"):
        mv.constant_of_shape(np.array([2, -1], I64))
