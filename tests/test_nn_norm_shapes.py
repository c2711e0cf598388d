"""Shape rules of the normalisation / pad / resize family (python/xhal/shape_rules/nn_norm.py)."""

from __future__ import annotations

import numpy as np
import pytest

from xhal.errors import ShapeError
from xhal.shape_rules import RULES


def test_layer_normalization() -> None:
    rule = RULES["layer_normalization"]
    assert rule((2, 3, 5), (3, 5), None, 1) == (2, 3, 5)
    assert rule((2, 3, 5), (1,), (5,), -2) == (2, 3, 5)
    with pytest.raises(ShapeError, match="out of range"):
        rule((2, 3), (3,), None, 2)
    with pytest.raises(ShapeError, match="does not broadcast"):
        rule((2, 3, 5), (2, 5), None, -2)


def test_channel_normalization() -> None:
    rule = RULES["channel_normalization"]
    assert rule((2, 3, 4), (3,), (3,)) == (2, 3, 4)
    with pytest.raises(ShapeError, match="rank >= 2"):
        rule((3,), (3,), (3,))
    with pytest.raises(ShapeError, match=r"must be \[3\]"):
        rule((2, 3, 4), (4,), (3,))


def test_pad() -> None:
    rule = RULES["pad"]
    assert rule((3, 4), np.array([1, 2, 2, 1]), None, None, "constant") == (6, 7)
    assert rule((3, 4), np.array([-1, 0, 0, -2]), None, None, "reflect") == (2, 2)
    assert rule((2, 3, 4), np.array([1, 2]), None, np.array([-1]), "edge") == (2, 3, 7)
    assert rule((2, 3), np.array([0, 0, 0, 0]), (1,), None, "constant") == (2, 3)
    with pytest.raises(ShapeError, match="4 expected"):
        rule((3, 4), np.array([1, 2]), None, None, "constant")
    with pytest.raises(ShapeError, match="below zero"):
        rule((3, 4), np.array([-2, 0, -2, 0]), None, None, "constant")
    with pytest.raises(ShapeError, match="no element left"):
        rule((0, 4), np.array([1, 0, 0, 0]), None, None, "reflect")
    with pytest.raises(ShapeError, match="one value"):
        rule((3, 4), np.array([1, 2, 2, 1]), (2,), None, "constant")


def test_resize() -> None:
    rule = RULES["resize"]
    f32 = np.float32
    assert rule((1, 2, 4, 5), None, np.array([1, 1, 2, 1.5], f32), None, []) == (1, 2, 8, 7)
    assert rule((1, 2, 4, 5), None, np.array([], f32), np.array([1, 2, 3, 9]), []) == (1, 2, 3, 9)
    assert rule((1, 2, 4, 5), None, None, np.array([6, 2]), [3, -2]) == (1, 2, 2, 6)
    with pytest.raises(ShapeError, match="exactly one"):
        rule((1, 2), None, None, None, [])
    with pytest.raises(ShapeError, match="2 expected"):
        rule((1, 2), None, np.array([2.0], f32), None, [])
    with pytest.raises(ShapeError, match="positive"):
        rule((1, 2), None, np.array([1.0, 0.0], f32), None, [])
    with pytest.raises(ShapeError, match="empty"):
        rule((0, 2), None, None, np.array([3, 2]), [])
