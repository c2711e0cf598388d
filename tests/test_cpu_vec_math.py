"""The CPU plugin's hand-vectorised float32 loops (plugins/cpu/kernels/vec_math.cpp).

exp, sigmoid, softmax, log_softmax and layer_normalization on float32 run through one of three
code paths chosen once per process: AVX-512F, AVX2+FMA or baseline. ``XHAL_CPU_ISA`` caps the
choice, so each path is checked in a subprocess of its own (a path the CPU lacks falls back to
the next one down). The checks: exp within 2 ulp of float64 exp over a sample of every float32
bit pattern, sigmoid within 3 ulp, and the row kernels against float64 references at the specs'
tolerances (op_specs/ops/*.yaml) over row lengths that exercise every vector tail.
"""

from __future__ import annotations

import numpy as np
import pytest

ISAS = ("avx512", "avx2", "baseline")


def _ulp_error(got: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """|got - ref| in float32 ulps of ref (subnormal spacing below the normal range)."""
    ref32 = np.abs(ref).astype(np.float32)
    ulp = np.spacing(np.maximum(ref32, np.float32(np.finfo(np.float32).tiny)).astype(np.float32))
    return np.abs(got.astype(np.float64) - ref) / ulp.astype(np.float64)


def _sample_floats() -> np.ndarray:
    """Every 4093rd float32 bit pattern (~1M values) plus the special values."""
    bits = np.arange(0, 2**32, 4093, dtype=np.uint64).astype(np.uint32)
    x = bits.view(np.float32)
    info = np.finfo(np.float32)
    specials = np.array(
        [
            0.0,
            -0.0,
            np.inf,
            -np.inf,
            np.nan,
            info.max,
            -info.max,
            info.tiny,
            info.smallest_subnormal,
            88.72283,
            88.72284,
            -87.33654,
            -103.97208,
            -103.97209,
            -104.0,
            89.0,
        ],
        dtype=np.float32,
    )
    return np.concatenate([x, specials])


def _check_exp(xhal) -> None:
    x = _sample_floats()
    got = xhal.ops.exp(xhal.tensor(x)).numpy()
    with np.errstate(all="ignore"):
        ref = np.exp(x.astype(np.float64))
    nan = np.isnan(x)
    assert np.isnan(got[nan]).all(), "exp(NaN) must be NaN"
    over = ~nan & (ref > np.finfo(np.float32).max)
    assert (got[over] == np.inf).all(), "exp overflow must give +Inf"
    ok = ~nan & ~over
    err = _ulp_error(got[ok], ref[ok])
    worst = int(np.argmax(err))
    assert err[worst] <= 2.0, f"exp({x[ok][worst]!r}) = {got[ok][worst]!r}: {err[worst]:.2f} ulp"


def _check_sigmoid(xhal) -> None:
    x = _sample_floats()
    got = xhal.ops.sigmoid(xhal.tensor(x)).numpy()
    xd = x.astype(np.float64)
    with np.errstate(all="ignore"):
        e = np.exp(-np.abs(xd))
        ref = np.where(xd >= 0, 1 / (1 + e), e / (1 + e))
    nan = np.isnan(x)
    assert np.isnan(got[nan]).all(), "sigmoid(NaN) must be NaN"
    err = _ulp_error(got[~nan], ref[~nan])
    worst = int(np.argmax(err))
    assert err[worst] <= 3.0, (
        f"sigmoid({x[~nan][worst]!r}) = {got[~nan][worst]!r}: {err[worst]:.2f} ulp"
    )


# Row lengths around every vector width (1, 8, 16) and the 512-element sum blocks.
LENGTHS = [*range(1, 70), 127, 128, 129, 255, 256, 257, 511, 512, 513, 767, 768, 1025, 30522]


def _softmax64(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    xd = x.astype(np.float64)
    s = xd - xd.max(axis=-1, keepdims=True)
    lse = np.log(np.exp(s).sum(axis=-1, keepdims=True))
    return np.exp(s - lse), s - lse


def _check_softmax(xhal) -> None:
    rng = np.random.default_rng(1)
    for n in LENGTHS:
        x = (rng.standard_normal((3, n)) * 4).astype(np.float32)
        want, want_log = _softmax64(x)
        got = xhal.ops.softmax(xhal.tensor(x), axis=-1).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7, err_msg=f"softmax n={n}")
        got = xhal.ops.log_softmax(xhal.tensor(x), axis=-1).numpy()
        np.testing.assert_allclose(  # log_softmax's spec tolerance
            got, want_log, rtol=1e-5, atol=1e-6, err_msg=f"log_softmax n={n}"
        )
    # A row holding NaN, +Inf or only -Inf becomes NaN; the other rows are untouched by it.
    x = np.zeros((4, 37), dtype=np.float32)
    x[0, 30] = np.nan
    x[1, 5] = np.inf
    x[2, :] = -np.inf
    for op in (xhal.ops.softmax, xhal.ops.log_softmax):
        got = op(xhal.tensor(x), axis=-1).numpy()
        assert np.isnan(got[:3]).all(), op
        assert np.isfinite(got[3]).all(), op


def _check_layer_norm(xhal) -> None:
    rng = np.random.default_rng(2)
    for n in LENGTHS:
        x = (rng.standard_normal((3, n)) * 3 + 0.5).astype(np.float32)
        g = rng.standard_normal(n).astype(np.float32)
        b = rng.standard_normal(n).astype(np.float32)
        y, mean, inv = xhal.ops.layer_normalization(
            xhal.tensor(x), xhal.tensor(g), xhal.tensor(b), axis=-1
        )
        xd = x.astype(np.float64)
        m = xd.mean(axis=-1, keepdims=True)
        r = 1 / np.sqrt(((xd - m) ** 2).mean(axis=-1, keepdims=True) + np.float32(1e-5))
        np.testing.assert_allclose(
            y.numpy(),
            (xd - m) * r * g + b,
            rtol=2e-5,
            atol=2e-5,
            err_msg=f"layer_normalization n={n}",
        )
        np.testing.assert_allclose(mean.numpy(), m, rtol=2e-5, atol=2e-5)
        np.testing.assert_allclose(inv.numpy(), r, rtol=2e-5, atol=2e-5)

    # Rows whose mean is large next to their spread, and a constant row, take the two-pass
    # variance; their statistics are float64-exact, so they match at the spec tolerance.
    for n in (5, 16, 100, 768):
        x = (1000 + 0.01 * rng.standard_normal((3, n))).astype(np.float32)
        x[2] = 7.0
        g, b = np.ones(n, np.float32), np.zeros(n, np.float32)
        _, mean, inv = xhal.ops.layer_normalization(
            xhal.tensor(x), xhal.tensor(g), xhal.tensor(b), axis=-1
        )
        xd = x.astype(np.float64)
        m = xd.mean(axis=-1, keepdims=True)
        r = 1 / np.sqrt(((xd - m) ** 2).mean(axis=-1, keepdims=True) + np.float32(1e-5))
        np.testing.assert_allclose(mean.numpy(), m, rtol=2e-5, atol=2e-5)
        np.testing.assert_allclose(inv.numpy(), r, rtol=2e-5, atol=2e-5, err_msg=f"n={n}")


def _check_all() -> None:
    import xhal

    _check_exp(xhal)
    _check_sigmoid(xhal)
    _check_softmax(xhal)
    _check_layer_norm(xhal)


@pytest.mark.parametrize("isa", ISAS)
def test_float32_vector_paths(isa: str, run_as_script) -> None:
    run_as_script(__file__, XHAL_CPU_ISA=isa, XHAL_CPU_THREADS="1")


if __name__ == "__main__":
    _check_all()
