"""Case generation: derived from the specs, stable, every dtype covered, value domains kept."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import pytest

import xhal
from xhal.conformance.cases import (
    BINARY_SHAPES,
    UNARY_SHAPES,
    _grid,
    generate_cases,
    matches,
    op_cases,
)
from xhal.conformance.values import numpy_dtype, random_array, special_values


@pytest.fixture(scope="module")
def specs() -> dict:
    return xhal.specs()


@pytest.fixture(scope="module")
def cases(specs: dict) -> list:
    return generate_cases(specs)


def test_ids_unique_and_readable(cases: list) -> None:
    ids = [c.id for c in cases]
    assert len(ids) == len(set(ids))
    assert "add/float32/broadcast[3,1]x[1,4]" in ids
    assert "add/int64/broadcast[]x[2,3]" in ids
    assert "relu/float16/unary[0,3]" in ids
    assert "gemm/float16/case3" in ids
    for c in cases:
        assert c.id.startswith(f"{c.op}/{c.dtype}/"), c.id


def test_generation_is_deterministic(specs: dict, cases: list) -> None:
    again = generate_cases(specs)
    assert [c.id for c in again] == [c.id for c in cases]
    for first, second in zip(cases, again, strict=True):
        if first.elements > 50_000:
            continue
        a, b = first.arrays(), second.arrays()
        for name in a:
            if a[name] is None:
                assert b[name] is None
            elif isinstance(a[name], list):  # a variadic input's members
                assert [(x.dtype, x.shape, x.tobytes()) for x in a[name]] == [
                    (y.dtype, y.shape, y.tobytes()) for y in b[name]
                ], first.id
            else:
                assert a[name].dtype == b[name].dtype
                # bitwise: numpy's NaN-aware comparison does not cover ml_dtypes' bfloat16
                assert a[name].shape == b[name].shape, first.id
                assert a[name].tobytes() == b[name].tobytes(), first.id


def test_a_case_data_do_not_depend_on_other_cases(specs: dict, cases: list) -> None:
    alone = {c.id: c for c in op_cases(specs["ops"]["div"])}
    for c in cases:
        if c.op == "div" and c.elements < 50_000:
            a, b = c.arrays(), alone[c.id].arrays()
            assert a["A"].tobytes() == b["A"].tobytes(), c.id  # bitwise: bfloat16 NaN


def test_every_op_and_dtype_gets_cases(specs: dict, cases: list) -> None:
    seen = defaultdict(set)
    for c in cases:
        seen[c.op].update(c.types.values())  # every type variable's dtypes (cast has two)
    for op, spec in specs["ops"].items():
        want = {dt for dts in spec["type_vars"].values() for dt in dts}
        assert seen[op] == want, op


def test_shape_grids_follow_the_spec_kind(specs: dict, cases: list) -> None:
    by_op = defaultdict(list)
    for c in cases:
        by_op[(c.op, c.dtype)].append(c)

    def tensor_shapes(spec: dict, c: Any) -> tuple:
        out: list = []
        for i in spec["inputs"]:
            if i.get("host_memory") or c.shapes[i["name"]] is None:
                continue
            s = c.shapes[i["name"]]
            out += s if isinstance(s, list) else [s]
        return tuple(out)

    for op, spec in specs["ops"].items():
        conf = spec["conformance"]
        sigs = {c.dtype for c in cases if c.op == op}
        for dt in sigs:
            got = [c for c in by_op[(op, dt)] if "+" not in c.id]
            shaped = [c for c in got if "/case" in c.id or "broadcast" in c.id or "unary" in c.id]
            if conf["shapes"] == "broadcast_binary":
                want = _grid(spec, BINARY_SHAPES)
                assert [tensor_shapes(spec, c) for c in shaped] == want, op
            elif conf["shapes"] == "unary":
                want = _grid(spec, [(s,) for s in UNARY_SHAPES])
                assert [tensor_shapes(spec, c) for c in shaped] == want, op
            else:
                plain = {
                    int(c.id.rsplit("/case", 1)[1]): c
                    for c in got
                    if c.id.rsplit("/", 1)[1].isidentifier()
                }
                if not _attributes_fix_the_dtype(spec):
                    assert sorted(plain) == list(range(len(conf["cases"]))), (op, dt)
                for k, c in plain.items():
                    sc = conf["cases"][k]
                    assert {k: v for k, v in c.shapes.items() if v is not None} == {
                        k: [tuple(m) for m in v] if v and isinstance(v[0], list) else tuple(v)
                        for k, v in sc["inputs"].items()
                    }
                    # a dtype attribute may be filled in for an output-only type variable, and
                    # a tensor attribute's literal is converted to the case's dtype
                    for name, want in (sc.get("attrs") or {}).items():
                        value = c.attrs[name]
                        if isinstance(value, np.ndarray):
                            assert value.dtype == numpy_dtype(c.dtype), (c.id, name)
                            assert np.array_equal(value, np.asarray(want).astype(value.dtype))
                        else:
                            assert value == want, (c.id, name)


def _attributes_fix_the_dtype(spec: dict) -> bool:
    """Constant-like ops: an output type variable no input binds and no dtype attribute."""
    bound = {i["type"] for i in spec["inputs"]}
    return any(o["type"] in spec["type_vars"] and o["type"] not in bound
               for o in spec["outputs"]) and not any(
        a["type"] == "dtype" for a in spec.get("attributes") or [])


def test_attributes_choose_the_dtype_of_constant_cases(specs: dict, cases: list) -> None:
    """constant: a tensor `value` runs in every dtype (converted), value_int(s) only as int64,
    value_float(s) only as float32; constant_of_shape without `value` only as float32. Every
    spec case runs in at least one dtype."""
    for op in ("constant", "constant_of_shape"):
        spec = specs["ops"][op]
        by_case: dict[int, set[str]] = defaultdict(set)
        for c in cases:
            if c.op == op and "+" not in c.id:
                by_case[int(c.id.rsplit("/case", 1)[1])].add(c.dtype)
        assert sorted(by_case) == list(range(len(spec["conformance"]["cases"]))), op
        for k, sc in enumerate(spec["conformance"]["cases"]):
            attrs = sc.get("attrs") or {}
            if "value" in attrs:
                want = set(spec["type_vars"]["T"])
            elif {"value_int", "value_ints"} & set(attrs):
                want = {"int64"}
            else:  # value_float(s), or constant_of_shape's float32 default
                want = {"float32"}
            assert by_case[k] == want, (op, k, attrs)
    kinds = {name for sc in specs["ops"]["constant"]["conformance"]["cases"]
             for name in (sc.get("attrs") or {})}
    assert kinds == {"value", "value_float", "value_floats", "value_int", "value_ints"}


def test_broadcast_grid_covers_the_required_shapes() -> None:
    for pair in [
        ((), ()),
        ((), (2, 3)),
        ((3, 1), (1, 4)),
        ((4,), (2, 3, 4)),
        ((2, 3, 4), (4,)),
        ((1,), (5, 1, 3)),
    ]:
        assert pair in BINARY_SHAPES
    assert any(0 in a or 0 in b for a, b in BINARY_SHAPES)
    assert any(np.prod(a) >= 1 << 20 for a, _ in BINARY_SHAPES)
    for odd in (7, 33, 1023):
        assert any(odd in a for a, _ in BINARY_SHAPES) and (odd,) in UNARY_SHAPES


def test_explicit_host_values_are_used(specs: dict) -> None:
    by_id = {c.id: c for c in op_cases(specs["ops"]["reduce_sum"])}
    arrays = by_id["reduce_sum/float32/case1"].arrays()
    assert arrays["axes"].tolist() == [0, -1] and arrays["axes"].dtype == np.int64
    assert by_id["reduce_sum/float32/case2"].arrays()["axes"] is None
    reshape = {c.id: c for c in op_cases(specs["ops"]["reshape"])}
    assert reshape["reshape/uint8/case2"].arrays()["shape"].tolist() == [0, -1, 2]
    assert reshape["reshape/bool/case6"].arrays()["shape"].shape == (0,)


def test_value_domains_are_honoured(specs: dict) -> None:
    for c in op_cases(specs["ops"]["matmul"]) + op_cases(specs["ops"]["gemm"]):
        if c.dtype.startswith("int") and c.elements < 200_000:
            for arr in c.arrays().values():
                if arr is not None:
                    assert arr.min(initial=0) >= -3 and arr.max(initial=0) <= 3, c.id
    for c in op_cases(specs["ops"]["div"]):
        if c.elements > 200_000:
            continue
        arrays = c.arrays()
        assert not (arrays["B"] == 0).any(), c.id  # MIN / -1 is defined: it wraps to MIN


def test_integer_edges_exercise_wraparound(specs: dict) -> None:
    for dt in ("int32", "int64"):
        case = next(c for c in op_cases(specs["ops"]["add"]) if c.id == f"add/{dt}/edges")
        arrays = case.arrays()
        info = np.iinfo(dt)
        for edge in (info.min, info.max, -1, 0, 1):
            assert edge in arrays["A"] and edge in arrays["B"]
        assert ((arrays["A"] == info.max) & (arrays["B"] == 1)).any()  # max + 1 wraps
        div = next(c for c in op_cases(specs["ops"]["div"]) if c.id == f"div/{dt}/edges")
        b = div.arrays()["B"]
        assert -1 in b and 0 not in b
    big = next(
        c for c in op_cases(specs["ops"]["mul"]) if c.id == "mul/int32/broadcast[1023]x[1023]"
    )
    a = big.arrays()["A"].astype(np.int64)
    assert np.abs(a).max() > 1 << 20  # random integers reach far enough to overflow products


def test_float_special_values(specs: dict) -> None:
    for dt in ("float16", "float32", "float64"):
        case = next(c for c in op_cases(specs["ops"]["add"]) if c.id == f"add/{dt}/special")
        a = case.arrays()["A"]
        info = np.finfo(dt)
        assert np.isnan(a).any() and np.isposinf(a).any() and np.isneginf(a).any()
        assert (np.signbit(a) & (a == 0)).any()
        assert (a == info.smallest_subnormal).any() and (a == info.max).any()
        div = next(c for c in op_cases(specs["ops"]["div"]) if c.id == f"div/{dt}/special")
        assert not (div.arrays()["B"] == 0).any()  # B is 'nonzero' in the div spec
    labels = {
        c.id.split("+", 1)[1]
        for c in op_cases(specs["ops"]["softmax"])
        if "+" in c.id and not c.layout
    }
    assert labels == {label for label, _ in special_values(np.dtype(np.float32))}
    gemm_labels = {
        c.id.split("+", 1)[1]
        for c in op_cases(specs["ops"]["gemm"])
        if "+" in c.id and not c.layout
    }
    assert "max" not in gemm_labels and "nan" in gemm_labels  # 'small' domain drops max
    nan_case = next(
        c for c in op_cases(specs["ops"]["matmul"]) if c.id == "matmul/float32/case0+nan"
    )
    arrays = nan_case.arrays()
    assert np.isnan(arrays["A"][0, 0]) and np.isnan(arrays["A"][-1]).all()
    assert np.isnan(arrays["B"][0, 0]) and not np.isnan(arrays["B"][1:]).any()


def test_special_values_can_be_switched_off(specs: dict) -> None:
    spec = dict(specs["ops"]["exp"])
    spec["conformance"] = dict(spec["conformance"], special_values=False)
    assert not any("special" in c.id for c in op_cases(spec))
    assert any("special" in c.id for c in op_cases(specs["ops"]["exp"]))


def test_random_array_domains() -> None:
    rng = np.random.default_rng(0)
    assert (random_array(rng, np.dtype(np.float32), (1000,), "positive") > 0).all()
    small = random_array(rng, np.dtype(np.int64), (1000,), "small")
    assert small.min() >= -3 and small.max() <= 3
    assert (random_array(rng, np.dtype(np.int32), (1000,), "nonzero") != 0).all()
    assert random_array(rng, np.dtype(np.bool_), (3, 2), "any").dtype == np.bool_
    with pytest.raises(ValueError, match="unknown value domain"):
        random_array(rng, np.dtype(np.float32), (1,), "huge")


def test_filter_matching() -> None:
    assert matches("add/float32/broadcast[3,1]x[1,4]", "add/float32/broadcast[3,1]x[1,4]")
    assert matches("add/float32/special", "float32")
    assert matches("gemm/float16/case3", "gemm/*/case3")
    assert not matches("gemm/float16/case3", "gemm/*/case4")
    assert matches("anything", None)
    # Several patterns (--filter given more than once): any one matching is enough.
    assert matches("gemm/float16/case3", ["add/*", "gemm/*"])
    assert not matches("relu/float32/case1", ["add/*", "gemm/*"])
    assert matches("anything", [])


def test_large_cases_are_capped(cases: list) -> None:
    assert max(c.elements for c in cases) <= 2 * (1 << 20) + 16
    # ~70 ops with up to 8 dtypes: each broadcast_binary op is ~17M elements (LARGE per dtype)
    assert sum(c.elements for c in cases) < 320_000_000


@pytest.mark.parametrize("op", ["add", "sigmoid", "matmul", "reduce_sum", "transpose"])
def test_code_is_dtype_generic_bfloat16(specs: dict, op: str) -> None:
    """No op uses bfloat16 yet; a spec that adds it must work without code changes."""
    from xhal.conformance.reference import evaluate

    spec = dict(specs["ops"][op], type_vars={"T": ["bfloat16"]})
    spec["tolerance"] = {"bfloat16": {"rtol": 1e-2, "atol": 1e-2}}
    cases = op_cases(spec, max_elements=1 << 16)
    assert cases and all(c.dtype == "bfloat16" for c in cases)
    for case in cases:
        out = evaluate(spec, case.arrays(), case.attrs, case.output_dtypes())
        assert all(a.dtype.name == "bfloat16" for a in out.values()), case.id
    if op in ("add", "sigmoid"):
        special = next(c for c in cases if c.id.endswith("/special")).arrays()
        x = special["A" if op == "add" else "X"].astype(np.float32)
        assert np.isnan(x).any() and np.isinf(x).any()
