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
from dataclasses import dataclass, field
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
Arrays = dict[str, "np.ndarray | None"]

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
_MAX_SPECIAL_BASE = 4096  # elements of the explicit case that special values are injected into


@dataclass(frozen=True)
class Case:
    """One op call: what to run (op, dtypes, shapes, attrs) and how to make its data."""

    id: str
    op: str
    dtype: str  # the dtype signature, e.g. "float32" (or "T=float32,U=int64")
    types: Mapping[str, str]  # type variable -> dtype
    shapes: Mapping[str, Shape | None]  # every spec input, None when absent
    attrs: Mapping[str, Any]  # attributes the case sets (spec defaults apply to the rest)
    spec: Mapping[str, Any] = field(repr=False, compare=False)
    _make: Callable[[], Arrays] = field(repr=False, compare=False)

    def arrays(self) -> Arrays:
        """The input arrays (None for absent optional inputs), freshly built and deterministic."""
        return self._make()

    @property
    def elements(self) -> int:
        return sum(int(np.prod(s)) for s in self.shapes.values() if s is not None)

    def output_dtypes(self) -> dict[str, str]:
        return {o["name"]: self.types.get(o["type"], o["type"]) for o in self.spec["outputs"]}


def _shape_text(shape: Sequence[int] | None) -> str:
    return "none" if shape is None else "[" + ",".join(str(d) for d in shape) + "]"


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
    return not bool(np.any(check(*[arrays.get(i["name"]) for i in spec["inputs"]])))


def _random_maker(
    spec: Mapping[str, Any],
    case_id: str,
    types: Mapping[str, str],
    shapes: Mapping[str, Shape | None],
    literal: Mapping[str, Any],
    inject: tuple[str, float] | None = None,
) -> Callable[[], Arrays]:
    """Random data per input domain; literal values where the spec gives them; optional injection.

    Data that would hit a result the spec leaves undefined (integer x / 0, MIN / -1) are
    redrawn from the next seed, so the outcome is still a pure function of the case id.
    An injected special value goes into element 0 of every float input whose domain admits
    it, and along the whole last row of the first such input (so that some outputs stay clean).
    """
    inject_into: list[str] = []
    if inject is not None:
        for inp in _tensor_inputs(spec):
            dt = _input_dtype(inp, types)
            if is_float(dt) and inject[0] in dict(special_values(dt, _domain(spec, inp["name"]))):
                inject_into.append(inp["name"])

    def make() -> Arrays:
        for attempt in range(100):
            rng = np.random.default_rng(_seed(case_id) + attempt)
            out: Arrays = {}
            for inp in spec["inputs"]:
                name, shape = inp["name"], shapes.get(inp["name"])
                if shape is None:
                    out[name] = None
                    continue
                dt = _input_dtype(inp, types)
                if name in literal:
                    out[name] = np.asarray(literal[name], dtype=dt).reshape(shape)
                    continue
                arr = random_array(rng, dt, shape, _domain(spec, name))
                if inject is not None and name in inject_into and arr.size:
                    value = np.asarray(inject[1]).astype(dt)
                    arr.reshape(-1)[0] = value
                    if name == inject_into[0]:
                        arr.reshape(-1, arr.shape[-1])[-1, :] = value
                out[name] = arr
            if _defined(spec, out):
                return out
        raise RuntimeError(f"{case_id}: could not draw data avoiding undefined results")

    return make


def _pairs_maker(
    spec: Mapping[str, Any], types: Mapping[str, str], columns: Sequence[Sequence[float]]
) -> tuple[Callable[[], Arrays], int]:
    """Every combination of the given per-input values, as equal-length 1-D inputs."""
    inputs = _tensor_inputs(spec)
    dts = [_input_dtype(i, types) for i in inputs]
    combos = list(itertools.product(*columns))
    arrays = {
        i["name"]: (
            np.array([c[k] for c in combos], dtype=np.float64).astype(dt)
            if is_float(dt)
            else np.array([c[k] for c in combos], dtype=dt)
        )
        for k, (i, dt) in enumerate(zip(inputs, dts, strict=True))
    }
    check = UNDEFINED.get(spec["reference"])
    if check is not None and combos:
        keep = ~np.asarray(check(*[arrays[i["name"]] for i in inputs]))
        arrays = {n: a[keep] for n, a in arrays.items()}
    n = len(next(iter(arrays.values()))) if arrays else 0

    def make() -> Arrays:
        out: Arrays = {i["name"]: None for i in spec["inputs"]}
        out.update({k: v.copy() for k, v in arrays.items()})
        return out

    return make, n


def _type_assignments(spec: Mapping[str, Any]) -> Iterator[dict[str, str]]:
    tvs = list(spec["type_vars"])
    for combo in itertools.product(*(spec["type_vars"][tv] for tv in tvs)):
        yield dict(zip(tvs, combo, strict=True))


def _explicit_shapes(spec: Mapping[str, Any], case: Mapping[str, Any]) -> dict[str, Shape | None]:
    """A spec case's input shapes, None for the optional inputs it leaves out."""
    given = case["inputs"]
    return {
        i["name"]: tuple(given[i["name"]]) if i["name"] in given else None for i in spec["inputs"]
    }


def _signature(types: Mapping[str, str]) -> str:
    if len(types) == 1:
        return next(iter(types.values()))
    return ",".join(f"{tv}={dt}" for tv, dt in types.items())


def _special_base(cases: Sequence[Mapping[str, Any]], spec: Mapping[str, Any]) -> int | None:
    """Index of the explicit case to inject special values into: the first mid-sized one."""
    tensor_names = [i["name"] for i in _tensor_inputs(spec)]

    def sizes(c: Mapping[str, Any]) -> list[tuple[int, int]]:
        return [
            (len(c["inputs"][n]), int(np.prod(c["inputs"][n])))
            for n in tensor_names
            if n in c["inputs"]
        ]

    for want_rank in (2, 1):
        for k, c in enumerate(cases):
            s = sizes(c)
            if s and all(r >= want_rank and 4 <= n <= _MAX_SPECIAL_BASE for r, n in s):
                return k
    return None


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
        shapes: dict[str, Shape | None],
        attrs: Mapping[str, Any],
        make: Callable[[], Arrays],
    ) -> None:
        attrs = dict(attrs)
        for tv, dt in types.items():
            if tv not in input_vars and dtype_attr is not None:
                attrs.setdefault(dtype_attr, dt)
        case = Case(case_id, op, _signature(types), types, shapes, attrs, spec, make)
        if max_elements is None or case.elements <= max_elements:
            out.append(case)

    for types in _type_assignments(spec):
        sig = _signature(types)
        dts = [_input_dtype(i, types) for i in tensor_inputs]
        if kind in ("broadcast_binary", "unary"):
            grid = BINARY_SHAPES if kind == "broadcast_binary" else [(s,) for s in UNARY_SHAPES]
            prefix = "broadcast" if kind == "broadcast_binary" else "unary"
            for shape_tuple in grid:
                shapes = {i["name"]: s for i, s in zip(tensor_inputs, shape_tuple, strict=True)}
                cid = f"{op}/{sig}/{prefix}" + "x".join(_shape_text(s) for s in shape_tuple)
                add(cid, types, shapes, {}, _random_maker(spec, cid, types, shapes, {}))
            if specials and all(is_float(d) for d in dts):
                columns = [
                    float_grid_values(d, _domain(spec, i["name"]))
                    for i, d in zip(tensor_inputs, dts, strict=True)
                ]
                suffix = "special"
            elif all(is_int(d) for d in dts):
                columns = [
                    int_edges(d, _domain(spec, i["name"]))
                    for i, d in zip(tensor_inputs, dts, strict=True)
                ]
                suffix = "edges"
            else:
                continue
            make, n = _pairs_maker(spec, types, columns)
            add(f"{op}/{sig}/{suffix}", types, {i["name"]: (n,) for i in tensor_inputs}, {}, make)
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
    return out


def generate_cases(
    specs: Mapping[str, Any], *, ops: Sequence[str] | None = None, max_elements: int | None = None
) -> list[Case]:
    """Every case of every op in ``specs`` (``xhal.specs()`` form), ops in op-id order."""
    chosen = sorted(specs["ops"].values(), key=lambda s: s["op_id"])
    if ops is not None:
        chosen = [s for s in chosen if s["op"] in ops]
    return [c for s in chosen for c in op_cases(s, max_elements=max_elements)]


def matches(case_id: str, pattern: str | None) -> bool:
    """A filter matches as a substring of the id, or as a glob (``*``, ``?``) over the whole id.

    Brackets match themselves, since ids contain shapes like ``[3,1]``.
    """
    if not pattern:
        return True
    return pattern in case_id or fnmatch.fnmatchcase(case_id, pattern.replace("[", "[[]"))
