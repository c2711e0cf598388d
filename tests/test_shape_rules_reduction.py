"""Shape rules of the reduction family (arg_reduce, top_k, cumsum) against numpy."""

from __future__ import annotations

import numpy as np
import pytest

from xhal.errors import ShapeError
from xhal.shape_rules import RULES
from xhal.shape_rules.reduction import arg_reduce, cumsum, top_k


def test_registered() -> None:
    for name in ("arg_reduce", "top_k", "cumsum"):
        assert name in RULES


@pytest.mark.parametrize(
    ("shape", "axis", "keepdims"),
    [((3, 4, 5), 0, 1), ((3, 4, 5), -1, 0), ((7,), 0, 0), ((7,), 0, 1), ((0, 4), 1, 1)],
)
def test_arg_reduce_matches_numpy(shape: tuple, axis: int, keepdims: int) -> None:
    want = (
        np.argmax(np.zeros(shape), axis=axis, keepdims=bool(keepdims)).shape
        if all(shape)
        else tuple(1 if i == axis % len(shape) else d for i, d in enumerate(shape))
    )
    assert arg_reduce(shape, axis, keepdims) == want


def test_arg_reduce_errors() -> None:
    with pytest.raises(ShapeError, match="out of range"):
        arg_reduce((3, 4), 2, 1)
    with pytest.raises(ShapeError, match="rank 0"):
        arg_reduce((), 0, 1)
    with pytest.raises(ShapeError, match="no elements"):
        arg_reduce((4, 0), 1, 0)
    assert arg_reduce((0, 4), 1, 0) == (0,)  # empty output: nothing to choose


def test_top_k() -> None:
    assert top_k((3, 4, 5), np.array([2]), -1) == (3, 4, 2)
    assert top_k((3, 4, 5), np.array([0]), 1) == (3, 0, 5)
    with pytest.raises(ShapeError, match="out of range"):
        top_k((3, 4), np.array([5]), 1)
    with pytest.raises(ShapeError, match="out of range"):
        top_k((3, 4), np.array([-1]), 1)
    with pytest.raises(ShapeError, match="1-D"):
        top_k((3, 4), np.array(2), 1)
    with pytest.raises(ShapeError, match="exactly one"):
        top_k((3, 4), np.array([1, 2]), 1)


def test_cumsum() -> None:
    assert cumsum((3, 4), np.array(1)) == (3, 4)
    assert cumsum((3, 4), np.array([-2])) == (3, 4)
    with pytest.raises(ShapeError, match="out of range"):
        cumsum((3, 4), np.array(2))
    with pytest.raises(ShapeError, match="exactly one"):
        cumsum((3, 4), np.array([0, 1]))
