"""Shape rules of the convolution family (python/xhal/shape_rules/nn_conv.py), against ONNX's
shape inference formulas, and the messages that name the failed rule."""

from __future__ import annotations

import pytest

from xhal.errors import ShapeError
from xhal.shape_rules import RULES


def conv(
    x, w, b=None, auto_pad="NOTSET", dilations=(), group=1, kernel_shape=(), pads=(), strides=()
):
    return RULES["conv"](
        x, w, b, auto_pad, list(dilations), group, list(kernel_shape), list(pads), list(strides)
    )


def pool(x, kernel_shape, auto_pad="NOTSET", ceil_mode=0, dilations=(), pads=(), strides=()):
    return RULES["pool"](
        x, auto_pad, ceil_mode, list(dilations), list(kernel_shape), list(pads), list(strides)
    )


def conv_t(
    x,
    w,
    b=None,
    auto_pad="NOTSET",
    dilations=(),
    group=1,
    output_padding=(),
    output_shape=(),
    pads=(),
    strides=(),
):
    return RULES["conv_transpose"](
        x,
        w,
        b,
        auto_pad,
        list(dilations),
        group,
        [],
        list(output_padding),
        list(output_shape),
        list(pads),
        list(strides),
    )


def test_conv_output_sizes():
    assert conv((1, 3, 224, 224), (64, 3, 7, 7), (64,), pads=(3, 3, 3, 3), strides=(2, 2)) == (
        1,
        64,
        112,
        112,
    )
    assert conv((2, 4, 9, 8), (6, 2, 3, 3), group=2, dilations=(2, 2), pads=(2, 1, 2, 1)) == (
        2,
        6,
        9,
        6,
    )
    assert conv((1, 2, 7, 7), (3, 2, 3, 3), auto_pad="SAME_UPPER", strides=(2, 2)) == (1, 3, 4, 4)
    assert conv((1, 2, 6, 7), (3, 2, 4, 2), auto_pad="SAME_LOWER", strides=(2, 3)) == (1, 3, 3, 3)
    assert conv((1, 2, 7, 6), (3, 2, 3, 3), auto_pad="VALID", strides=(3, 2)) == (1, 3, 2, 2)
    assert conv((0, 2, 11), (3, 2, 2), strides=(3,), dilations=(2,)) == (0, 3, 3)


def test_conv_errors_name_the_rule():
    with pytest.raises(
        ShapeError, match="kernel 5 with dilation 2 .* does not fit input width 3 padded to 5"
    ):
        conv((1, 1, 3), (1, 1, 5), dilations=(2,), pads=(1, 1))
    with pytest.raises(ShapeError, match="group 3 must divide"):
        conv((1, 4, 5, 5), (6, 1, 3, 3), group=3)
    with pytest.raises(ShapeError, match="kernel_shape"):
        conv((1, 2, 5, 5), (3, 2, 3, 3), kernel_shape=(2, 2))
    with pytest.raises(ShapeError, match="pads has 2 values"):
        conv((1, 2, 5, 5), (3, 2, 3, 3), pads=(1, 1))
    with pytest.raises(ShapeError, match="one bias per output channel"):
        conv((1, 2, 5, 5), (3, 2, 3, 3), b=(2,))


def test_pool_ceil_mode_and_same():
    assert pool((1, 1, 7, 7), (3, 3), strides=(2, 2)) == (1, 1, 3, 3)
    assert pool((1, 1, 6, 6), (3, 3), strides=(2, 2), ceil_mode=1) == (1, 1, 3, 3)
    assert pool((1, 1, 5), (2,), strides=(2,), pads=(0, 1), ceil_mode=1) == (1, 1, 3)
    # ceil would give 4, but the last window would start in the end padding: dropped
    assert pool((1, 1, 5), (2,), strides=(2,), pads=(1, 1), ceil_mode=1) == (1, 1, 3)
    assert pool((1, 1, 5), (2,), strides=(2,), pads=(1, 1), ceil_mode=0) == (1, 1, 3)
    assert pool((1, 1, 7, 6), (2, 3), strides=(2, 3), auto_pad="SAME_LOWER") == (1, 1, 4, 2)
    assert RULES["global_pool"]((2, 3, 5, 6, 7)) == (2, 3, 1, 1, 1)
    with pytest.raises(ShapeError, match="smaller than the kernel extent"):
        pool((1, 1, 5, 5), (2, 2), pads=(2, 0, 0, 0))
    with pytest.raises(ShapeError, match="kernel_shape is required"):
        pool((1, 1, 5, 5), ())


def test_conv_transpose_output_sizes():
    assert conv_t((1, 2, 3, 3), (2, 3, 3, 3), strides=(3, 2), output_padding=(1, 1)) == (
        1,
        3,
        10,
        8,
    )
    assert conv_t((1, 2, 3, 3), (2, 3, 3, 3), auto_pad="SAME_UPPER", strides=(2, 2)) == (1, 3, 6, 6)
    assert conv_t((1, 4, 3, 3), (4, 2, 3, 3), group=2, pads=(1, 1, 1, 1), strides=(2, 2)) == (
        1,
        4,
        5,
        5,
    )
    assert conv_t((1, 2, 3, 3), (2, 2, 3, 3), output_shape=(8, 6), strides=(2, 2)) == (1, 2, 8, 6)
    with pytest.raises(ShapeError, match="output_padding 2 must be smaller"):
        conv_t((1, 2, 3), (2, 2, 3), strides=(2,), output_padding=(2,))


@pytest.mark.parametrize(
    ("equation", "shapes", "out"),
    [
        ("ij,jk->ik", [(3, 4), (4, 5)], (3, 5)),
        ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)], (2, 3, 4, 6)),
        ("ij->ji", [(3, 4)], (4, 3)),
        ("ij", [(3, 4)], (3, 4)),
        ("ji", [(3, 4)], (4, 3)),
        ("i,i->", [(7,), (7,)], ()),
        ("...ij,...jk->...ik", [(2, 1, 3, 4), (3, 4, 5)], (2, 3, 3, 5)),
        ("ii->i", [(4, 4)], (4,)),
        ("...j", [(5, 3, 4)], (5, 3, 4)),
        ("Ab,ba", [(2, 3), (3, 4)], (2, 4)),
    ],
)
def test_einsum_shapes(equation, shapes, out):
    assert RULES["einsum"](shapes, equation) == out


def test_einsum_errors():
    with pytest.raises(ShapeError, match="letter 'j' has size 4 and, in input 1, size 5"):
        RULES["einsum"]([(3, 4), (5, 6)], "ij,jk->ik")
    with pytest.raises(ShapeError, match="2 input terms but 1 inputs"):
        RULES["einsum"]([(3, 4)], "ij,jk->ik")
    with pytest.raises(ShapeError, match="appears in no input term"):
        RULES["einsum"]([(3, 4)], "ij->iz")
    with pytest.raises(ShapeError, match="rank"):
        RULES["einsum"]([(3, 4, 5)], "ij->i")
