"""Render the jinja2 templates for a validated SpecSet.

Output layout under the chosen root (the build tree; nothing here is committed):

    include/xhal/xhal_ops.h        op ids, attribute structs, typed kernel signatures (C ABI)
    src/op_table.gen.cpp           the runtime's op table: arity, type variables, invoke thunks
    src/op_attrs.gen.cpp           Python dict -> typed attribute struct (pybind11 module)
    python/xhal/ops/_generated.py  Python op wrappers with docstrings from the specs
    python/xhal/_specs.json        machine-readable dump of every spec and the dtype table
    docs/ops/<op>.md, index.md     reference pages (index.md: ops and a coverage table)
"""

from __future__ import annotations

import json
import keyword
from pathlib import Path

import jinja2

from .spec_loader import SpecSet

TEMPLATES = Path(__file__).parent / "templates"


def _c_literal(value: object, c_type: str) -> str:
    if c_type == "float":
        text = repr(float(value))
        return text + "f" if "e" in text or "." in text else text + ".0f"
    return f"{int(value)}"


def _py_default(attr) -> str:
    if attr.is_list or attr.type == "tensor" or attr.default is None:
        return "None"  # None = the spec's default (lists are not safe Python defaults)
    if attr.type == "float":
        return repr(float(attr.default))
    return repr(attr.default)


def _py_name(op: str) -> str:
    """The Python function name of an op: a keyword (and, or, not) gets a trailing underscore,
    PEP 8's convention; getattr(xhal.ops, "and") still finds it."""
    return op + "_" if keyword.iskeyword(op) else op


def _py_type(attr) -> str:
    return {"int": "int", "float": "float", "ints": "Sequence[int] | None",
            "floats": "Sequence[float] | None", "string": "str", "tensor": "Any",
            "dtype": "str"}[attr.type] + (" | None" if attr.default is None and not attr.is_list
                                         and attr.type != "tensor" else "")


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["c_literal"] = _c_literal
    env.filters["py_default"] = _py_default
    env.filters["py_type"] = _py_type
    env.filters["py_name"] = _py_name
    env.filters["upper"] = str.upper
    return env


def _write(path: Path, text: str, written: list[Path]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Leave unchanged files alone so that the build does not recompile what did not change.
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    written.append(path)


def spec_dump(specs: SpecSet) -> dict:
    return {
        "dtypes": {n: vars(d) for n, d in specs.dtypes.items()},
        "ops": {s.op: s.raw for s in specs.ops},
    }


def generate(specs: SpecSet, out: Path) -> list[Path]:
    env = _environment()
    ctx = {"specs": specs, "ops": specs.ops, "dtypes": specs.dtypes,
           "used_dtypes": [n for n in specs.dtypes if any(n in s.dtypes for s in specs.ops)],
           "composite_count": sum(1 for s in specs.ops if s.raw.get("decomposition"))}
    written: list[Path] = []
    _write(out / "include/xhal/xhal_ops.h", env.get_template("xhal_ops.h.j2").render(ctx), written)
    _write(out / "src/op_table.gen.cpp", env.get_template("op_table.cpp.j2").render(ctx), written)
    _write(out / "src/op_attrs.gen.cpp", env.get_template("op_attrs.cpp.j2").render(ctx), written)
    _write(out / "python/xhal/ops/_generated.py",
           env.get_template("ops_wrappers.py.j2").render(ctx), written)
    _write(out / "python/xhal/_specs.json", json.dumps(spec_dump(specs), indent=1) + "\n", written)
    page = env.get_template("op_doc.md.j2")
    for spec in specs.ops:
        _write(out / f"docs/ops/{spec.op}.md", page.render(spec=spec, **ctx), written)
    _write(out / "docs/ops/index.md", env.get_template("ops_index.md.j2").render(ctx), written)
    return written

