"""Conformance cases generated from the op specs: op x dtype signature x shapes x values.

Nothing here lists cases by hand. Per op, for every dtype assignment of its type variables:

- ``shapes: broadcast_binary``: the :data:`BINARY_SHAPES` grid (scalars, zero-sized dims,
  broadcasting in every direction, odd sizes, one large), id ``add/float32/broadcast[3,1]x[1,4]``;
  plus ``special`` (float: every pair of special values) or ``edges`` (integer: every pair of
  overflow edges), as 1-D inputs holding the pairs.
- ``shapes: unary``: the :data:`UNARY_SHAPES` grid, id ``relu/float32/unary[0,3]``, plus a
  ``special`` / ``edges`` vector.
- ``shapes: explicit``: the spec's ``cases`` in order, id ``gemm/float16/case3`` (index into
  the spec's list), plus for float dtypes ``caseN+<special>`` variants of one base case with a
  special value at element 0 of each float input and along the whole last row of the first.

Data are seeded from the case id (CRC-32), so a case's data never depend on which other cases
ran. Arrays are built lazily by :meth:`Case.arrays` so that listing cases costs nothing.
"""

from __future__ import annotations

import fnmatch
import itertools
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .reference import UNDEFINED
from .values import (
    float_grid_values,
    int_edges,
    is_float,
    is_int,
    numpy_dtype,
    random_array,
    special_values,
)

Shape = tuple[int, ...]
# A variadic input (the spec's last, ``variadic: true``) holds a list: of shapes in
# ``Case.shapes``, of arrays in ``Case.arrays()``.
Shapes = Shape | list[Shape] | None
Arrays = dict[str, "np.ndarray | list[np.ndarray] | None"]

LARGE = (1024, 1024)  # ~1 << 20 elements: one case per op and dtype, keeps the CPU run short
BINARY_SHAPES: tuple[tuple[Shape, Shape], ...] = (
    ((), ()),
    ((), (2, 3)),
    ((2, 3), ()),
    ((0,), (0,)),
    ((0,), (1,)),
    ((2, 0), (2, 1)),
    ((1, 0, 3), (4, 1, 1)),
    ((3, 4), (3, 4)),
    ((3, 1), (1, 4)),
    ((1, 4), (3, 1)),
    ((4,), (2, 3, 4)),
    ((2, 3, 4), (4,)),
    ((1,), (5, 1, 3)),
    ((5, 1, 3), (1,)),
    ((2, 1, 4), (1, 3, 1)),
    ((3, 1, 5), (3, 4, 5)),
    ((7,), (7,)),
    ((33,), (33,)),
    ((1023,), (1023,)),
    ((7, 33), (33,)),
    ((33, 1), (1, 7)),
    (LARGE, LARGE),
)
UNARY_SHAPES: tuple[Shape, ...] = (
    (),
    (0,),
    (0, 3),
    (1,),
    (7,),
    (33,),
    (1023,),
    (3, 5, 7),
    LARGE,
)
# Variadic broadcast ops (min, max, sum, mean) also get these 1- and 3-operand grids; their
# 2-operand grid is BINARY_SHAPES.
VARIADIC_SHAPES: tuple[tuple[Shape, ...], ...] = (
    ((),),
    ((0,),),
    ((3, 4),),
    ((), (), ()),
    ((0,), (1,), ()),
    ((2, 1, 4), (1, 3, 1), (4,)),
    ((3, 4), (3, 4), (3, 4)),
    ((7, 33), (33,), (7, 1)),
)
_MAX_SPECIAL_BASE = 4096
STRIDED_LAYOUTS = ("transposed", "step2", "offset")
MAX_STRIDED = 3  # strided variants per op and dtype signature (one per layout)
_MAX_STRIDED_ELEMENTS = 1 << 16
# dtypes numpy cannot export through DLPack (ml_dtypes' bfloat16): no strided variant
_NO_DLPACK = ("bfloat16",)  # elements of the explicit case that special values are injected into


@dataclass(frozen=True)
class Case:
    """One op call: what to run (op, dtypes, shapes, attrs) and how to make its data."""

    id: str
    op: str
    dtype: str  # the dtype signature, e.g. "float32" (or "T=float32,U=int64")
    types: Mapping[str, str]  # type variable -> dtype
    shapes: Mapping[str, Shapes]  # every spec input, None when absent, a list when variadic
    attrs: Mapping[str, Any]  # attributes the case sets (spec defaults apply to the rest)
    spec: Mapping[str, Any] = field(repr=False, compare=False)
    _make: Callable[[], Arrays] = field(repr=False, compare=False)
    # "" for contiguous inputs; for a ``+strided`` variant how its rank >= 2 tensor inputs are
    # laid out: "transposed" (permuted strides), "step2" (every other element of the last
    # axis) or "offset" (a view one element into a larger buffer); see runner.strided_view
    layout: str = ""

    def arrays(self) -> Arrays:
        """The input arrays (None for absent optional inputs), freshly built and deterministic."""
        return self._make()

    @property
    def elements(self) -> int:
        return sum(int(np.prod(s)) for s in _flat_shapes(self.shapes))

    def output_dtypes(self) -> dict[str, str]:
        """Output name -> dtype (a variadic output's members, ``Y[k]``, share its dtype)."""
        return {o["name"]: self.types.get(o["type"], o["type"]) for o in self.spec["outputs"]}


def is_variadic(info: Mapping[str, Any]) -> bool:
    return bool(info.get("variadic", False))


def _flat_shapes(shapes: Mapping[str, Shapes]) -> list[Shape]:
    out: list[Shape] = []
    for s in shapes.values():
        if isinstance(s, list):
            out += s
        elif s is not None:
            out.append(s)
    return out


def positional(spec: Mapping[str, Any], values: Mapping[str, Any]) -> list[Any]:
    """Values per spec input, in order, a variadic input's members spread out (``*args``)."""
    args: list[Any] = []
    for i in spec["inputs"]:
        v = values.get(i["name"])
        if is_variadic(i):
            args += list(v or [])
        else:
            args.append(v)
    return args


def _shape_text(shape: Sequence[int] | None) -> str:
    return "none" if shape is None else "[" + ",".join(str(d) for d in shape) + "]"


def shapes_text(shape: Shapes) -> str:
    """``[2,3]``, ``none``, or for a variadic input its members joined: ``[2,3]x[3]``."""
    if isinstance(shape, list):
        return "x".join(_shape_text(s) for s in shape)
    return _shape_text(shape)


def _seed(case_id: str) -> int:
    return zlib.crc32(case_id.encode())


def _domain(spec: Mapping[str, Any], name: str) -> str:
    return (spec["conformance"].get("values") or {}).get(name, "any")


def _input_dtype(spec_input: Mapping[str, Any], types: Mapping[str, str]) -> np.dtype:
    return numpy_dtype(types.get(spec_input["type"], spec_input["type"]))


def _tensor_inputs(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [i for i in spec["inputs"] if not i.get("host_memory")]


def _defined(spec: Mapping[str, Any], arrays: Arrays) -> bool:
    check = UNDEFINED.get(spec["reference"])
    if check is None:
        return True
    return not bool(np.any(check(*positional(spec, arrays))))


def _random_maker(
    spec: Mapping[str, Any],
    case_id: str,
    types: Mapping[str, str],
    shapes: Mapping[str, Shapes],
    literal: Mapping[str, Any],
    inject: tuple[str, float] | None = None,
) -> Callable[[], Arrays]:
    """Random data per input domain; literal values where the spec gives them; optional injection.

    Data that would hit a result the spec leaves undefined (integer x / 0, MIN / -1) are
    redrawn from the next seed, so the outcome is still a pure function of the case id.
    An injected special value goes into element 0 of every float input whose domain admits
    it, and along the whole last row of the first such input (so that some outputs stay clean).
    A variadic input's members are drawn one after the other, each like a separate input.
    """
    inject_into: list[str] = []
    if inject is not None:
        for inp in _tensor_inputs(spec):
            dt = _input_dtype(inp, types)
            if is_float(dt) and inject[0] in dict(special_values(dt, _domain(spec, inp["name"]))):
                inject_into.append(inp["name"])

    def draw(
        rng: np.random.Generator, inp: Mapping[str, Any], shape: Shape, value: Any, first: bool
    ) -> np.ndarray:
        dt = _input_dtype(inp, types)
        if value is not None:
            return np.asarray(value, dtype=dt).reshape(shape)
        arr = random_array(rng, dt, shape, _domain(spec, inp["name"]))
        if inject is not None and inp["name"] in inject_into and arr.size:
            v = np.asarray(inject[1]).astype(dt)
            arr.reshape(-1)[0] = v
            if first:
                arr.reshape(-1, arr.shape[-1])[-1, :] = v
        return arr

    def make() -> Arrays:
        for attempt in range(100):
            rng = np.random.default_rng(_seed(case_id) + attempt)
            out: Arrays = {}
            for inp in spec["inputs"]:
                name, shape = inp["name"], shapes.get(inp["name"])
                if shape is None:
                    out[name] = None
                elif is_variadic(inp):
                    given = literal.get(name)
                    out[name] = [
                        draw(
                            rng,
                            inp,
                            tuple(s),
                            None if given is None else given[k],
                            bool(inject_into) and name == inject_into[0] and k == 0,
                        )
                        for k, s in enumerate(shape)
                    ]
                else:
                    first = bool(inject_into) and name == inject_into[0]
                    out[name] = draw(rng, inp, tuple(shape), literal.get(name), first)
            if _defined(spec, out):
                return out
        raise RuntimeError(f"{case_id}: could not draw data avoiding undefined results")

    return make


def _pairs_maker(
    spec: Mapping[str, Any],
    types: Mapping[str, str],
    slots: Sequence[Mapping[str, Any]],
    columns: Sequence[Sequence[float]],
) -> tuple[Callable[[], Arrays], int]:
    """Every combination of the given per-slot values, as equal-length 1-D inputs.

    ``slots`` are the tensor inputs in order, a variadic input repeated once per member.
    """
    dts = [_input_dtype(i, types) for i in slots]
    combos = list(itertools.product(*columns))
    flat = [
        np.array([c[k] for c in combos], dtype=np.float64).astype(dt)
        if is_float(dt)
        else np.array([c[k] for c in combos], dtype=dt)
        for k, dt in enumerate(dts)
    ]
    check = UNDEFINED.get(spec["reference"])
    if check is not None and combos:
        keep = ~np.asarray(check(*flat))
        flat = [a[keep] for a in flat]
    n = len(flat[0]) if flat else 0

    def make() -> Arrays:
        out: Arrays = {i["name"]: None for i in spec["inputs"]}
        for info, arr in zip(slots, flat, strict=True):
            if is_variadic(info):
                out.setdefault(info["name"], None)
                members = out[info["name"]] or []
                out[info["name"]] = [*members, arr.copy()]  # type: ignore[list-item]
            else:
                out[info["name"]] = arr.copy()
        return out

    return make, n


def _slots(spec: Mapping[str, Any], count: int) -> list[Mapping[str, Any]]:
    """``count`` tensor operands: the fixed tensor inputs, then the variadic one repeated."""
    fixed = [i for i in _tensor_inputs(spec) if not is_variadic(i)]
    var = [i for i in _tensor_inputs(spec) if is_variadic(i)]
    if not var:
        return fixed
    return fixed + var * max(count - len(fixed), int(var[0].get("min_count", 1)))


def _assign(spec: Mapping[str, Any], shapes: Sequence[Shape]) -> dict[str, Shapes]:
    """Grid shapes onto the tensor inputs: one each, the rest to a variadic last input."""
    out: dict[str, Shapes] = {}
    for info, shape in zip(_slots(spec, len(shapes)), shapes, strict=True):
        if is_variadic(info):
            members = out.get(info["name"])
            out[info["name"]] = [*(members or []), shape]  # type: ignore[misc]
        else:
            out[info["name"]] = shape
    return out


def _grid(spec: Mapping[str, Any], base: Sequence[tuple[Shape, ...]]) -> list[tuple[Shape, ...]]:
    """The shape grid, plus for a variadic op its 1- and 3-operand shapes (where admitted)."""
    var = [i for i in _tensor_inputs(spec) if is_variadic(i)]
    if not var:
        return list(base)
    fixed = len(_tensor_inputs(spec)) - 1
    least = fixed + int(var[0].get("min_count", 1))
    extra = [g for g in VARIADIC_SHAPES if len(g) != len(base[0])]
    return [g for g in [*base, *extra] if len(g) >= least]


def _type_assignments(spec: Mapping[str, Any]) -> Iterator[dict[str, str]]:
    tvs = list(spec["type_vars"])
    for combo in itertools.product(*(spec["type_vars"][tv] for tv in tvs)):
        yield dict(zip(tvs, combo, strict=True))


def _explicit_shapes(spec: Mapping[str, Any], case: Mapping[str, Any]) -> dict[str, Shapes]:
    """A spec case's input shapes, None for the optional inputs it leaves out (a variadic
    input's are a list of shapes)."""
    given = case["inputs"]
    out: dict[str, Shapes] = {}
    for i in spec["inputs"]:
        g = given.get(i["name"])
        if g is None:
            out[i["name"]] = None
        elif is_variadic(i):
            out[i["name"]] = [tuple(s) for s in g]
        else:
            out[i["name"]] = tuple(g)
    return out


def _signature(types: Mapping[str, str]) -> str:
    if len(types) == 1:
        return next(iter(types.values()))
    return ",".join(f"{tv}={dt}" for tv, dt in types.items())


def _special_base(cases: Sequence[Mapping[str, Any]], spec: Mapping[str, Any]) -> int | None:
    """Index of the explicit case to inject special values into: the first mid-sized one."""
    tensor_names = [i["name"] for i in _tensor_inputs(spec)]

    def sizes(c: Mapping[str, Any]) -> list[tuple[int, int]]:
        shapes = _explicit_shapes(spec, c)
        return [
            (len(s), int(np.prod(s))) for s in _flat_shapes({n: shapes[n] for n in tensor_names})
        ]

    for want_rank in (2, 1):
        for k, c in enumerate(cases):
            s = sizes(c)
            if s and all(r >= want_rank and 4 <= n <= _MAX_SPECIAL_BASE for r, n in s):
                return k
    return None


def _attr_typed(spec: Mapping[str, Any], dtype: str, attrs: dict[str, Any]) -> dict | None:
    """For an op whose output type variable no input binds and no dtype attribute chooses
    (Constant, ConstantOfShape): the case's attributes for the output dtype ``dtype``, or None
    when they fix another one. The first attribute set decides, as in the dispatcher: a tensor
    attribute's literal is converted to ``dtype`` (any dtype), an int/ints attribute without a
    default means int64 and a float/floats one float32; with none set, the type variable's
    first dtype (the spec's default)."""
    for a in spec.get("attributes") or []:
        value = attrs.get(a["name"])
        if value is None:
            continue
        if a["type"] == "tensor":
            return {**attrs, a["name"]: np.asarray(value).astype(numpy_dtype(dtype))}
        if a.get("default", 0) is not None:
            continue
        if a["type"] in ("int", "ints"):
            return attrs if dtype == "int64" else None
        if a["type"] in ("float", "floats"):
            return attrs if dtype == "float32" else None
    out_vars = [o["type"] for o in spec["outputs"] if o["type"] in spec["type_vars"]]
    first = spec["type_vars"][out_vars[0]][0] if out_vars else dtype
    return attrs if dtype == first else None


def op_cases(spec: Mapping[str, Any], *, max_elements: int | None = None) -> list[Case]:
    """Every case of one op (raw spec dict), in a stable order."""
    op = spec["op"]
    conf = spec["conformance"]
    kind = conf["shapes"]
    specials = conf.get("special_values", True)
    tensor_inputs = _tensor_inputs(spec)
    out: list[Case] = []

    # A type variable that no input binds (Cast's output) is chosen by a dtype attribute.
    input_vars = {i["type"] for i in spec["inputs"]}
    dtype_attr = next(
        (a["name"] for a in spec.get("attributes") or [] if a["type"] == "dtype"), None
    )

    def add(
        case_id: str,
        types: dict[str, str],
        shapes: dict[str, Shapes],
        attrs: Mapping[str, Any],
        make: Callable[[], Arrays],
    ) -> None:
        attrs = dict(attrs)
        for tv, dt in types.items():
            if tv not in input_vars and dtype_attr is not None:
                attrs.setdefault(dtype_attr, dt)
            elif tv not in input_vars:
                typed = _attr_typed(spec, dt, attrs)
                if typed is None:
                    return  # the case's attributes fix another dtype
                attrs = typed
        case = Case(case_id, op, _signature(types), types, shapes, attrs, spec, make)
        if max_elements is None or case.elements <= max_elements:
            out.append(case)

    for types in _type_assignments(spec):
        sig = _signature(types)
        dts = [_input_dtype(i, types) for i in tensor_inputs]
        if kind in ("broadcast_binary", "unary"):
            base = BINARY_SHAPES if kind == "broadcast_binary" else [(s,) for s in UNARY_SHAPES]
            prefix = "broadcast" if kind == "broadcast_binary" else "unary"
            for shape_tuple in _grid(spec, base):
                shapes = _assign(spec, shape_tuple)
                cid = f"{op}/{sig}/{prefix}" + "x".join(_shape_text(s) for s in shape_tuple)
                add(cid, types, shapes, {}, _random_maker(spec, cid, types, shapes, {}))
            slots = _slots(spec, len(base[0]))
            slot_dts = [_input_dtype(i, types) for i in slots]
            if specials and all(is_float(d) for d in slot_dts):
                columns = [
                    float_grid_values(d, _domain(spec, i["name"]))
                    for i, d in zip(slots, slot_dts, strict=True)
                ]
                suffix = "special"
            elif all(is_int(d) for d in slot_dts):
                columns = [
                    int_edges(d, _domain(spec, i["name"]))
                    for i, d in zip(slots, slot_dts, strict=True)
                ]
                suffix = "edges"
            else:
                continue
            make, n = _pairs_maker(spec, types, slots, columns)
            add(f"{op}/{sig}/{suffix}", types, _assign(spec, [(n,)] * len(slots)), {}, make)
        elif kind == "explicit":
            spec_cases = conf.get("cases", [])
            for k, c in enumerate(spec_cases):
                shapes = _explicit_shapes(spec, c)
                cid = f"{op}/{sig}/case{k}"
                literal = c.get("values") or {}
                add(
                    cid,
                    types,
                    shapes,
                    c.get("attrs") or {},
                    _random_maker(spec, cid, types, shapes, literal),
                )
            base = _special_base(spec_cases, spec) if specials else None
            if base is None or not any(is_float(d) for d in dts):
                continue
            c = spec_cases[base]
            shapes = _explicit_shapes(spec, c)
            labels: dict[str, float] = {}
            for i, d in zip(tensor_inputs, dts, strict=True):
                if is_float(d) and i["name"] in c["inputs"]:
                    labels.update(special_values(d, _domain(spec, i["name"])))
            for label, value in labels.items():
                cid = f"{op}/{sig}/case{base}+{label}"
                add(
                    cid,
                    types,
                    shapes,
                    c.get("attrs") or {},
                    _random_maker(
                        spec, cid, types, shapes, c.get("values") or {}, inject=(label, value)
                    ),
                )
        else:
            raise ValueError(f"{op}: unknown conformance shapes kind {kind!r}")
    return _with_strided(spec, out)


def _strided_candidate(spec: Mapping[str, Any], case: Case) -> bool:
    """A plain case with a rank >= 2 tensor input of more than one element, not too large."""
    if "+" in case.id or case.id.endswith(("/special", "/edges")):
        return False
    if any(dt in _NO_DLPACK for dt in case.types.values()):
        return False
    if not 0 < case.elements <= _MAX_STRIDED_ELEMENTS:
        return False
    tensor_shapes = _flat_shapes({i["name"]: case.shapes[i["name"]] for i in _tensor_inputs(spec)})
    if any(0 in s for s in tensor_shapes):
        return False
    return any(len(s) >= 2 and int(np.prod(s)) > 1 for s in tensor_shapes)


def _with_strided(spec: Mapping[str, Any], cases: list[Case]) -> list[Case]:
    """``cases`` plus, per dtype signature, up to MAX_STRIDED ``<id>+strided`` variants of the
    first eligible cases (same data; the runner passes the tensor inputs as strided views)."""
    out: list[Case] = []
    taken: dict[str, int] = {}
    for case in cases:
        out.append(case)
        n = taken.get(case.dtype, 0)
        if n < MAX_STRIDED and _strided_candidate(spec, case):
            taken[case.dtype] = n + 1
            out.append(replace(case, id=f"{case.id}+strided", layout=STRIDED_LAYOUTS[n]))
    return out


def generate_cases(
    specs: Mapping[str, Any], *, ops: Sequence[str] | None = None, max_elements: int | None = None
) -> list[Case]:
    """Every case of every op in ``specs`` (``xhal.specs()`` form), ops in op-id order."""
    chosen = sorted(specs["ops"].values(), key=lambda s: s["op_id"])
    if ops is not None:
        chosen = [s for s in chosen if s["op"] in ops]
    return [c for s in chosen for c in op_cases(s, max_elements=max_elements)]


# What --filter gives: nothing (everything), one pattern, or several (any of them).
Filter = str | Sequence[str] | None


def matches(case_id: str, pattern: Filter) -> bool:
    """A filter matches as a substring of the id, or as a glob (``*``, ``?``) over the whole id;
    of several patterns, any one matching is enough.

    Brackets match themselves, since ids contain shapes like ``[3,1]``.
    """
    if not pattern:
        return True
    if not isinstance(pattern, str):
        return any(matches(case_id, p) for p in pattern)
    return pattern in case_id or fnmatch.fnmatchcase(case_id, pattern.replace("[", "[[]"))
