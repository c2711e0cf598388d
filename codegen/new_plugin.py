"""``xhal new-plugin``: a vendor plugin project generated from the specs.

The project builds against the installed SDK only (``find_package(xhal)``): an entry point, a
device runtime whose every function is a clearly marked TODO returning "unsupported" with a
message, one typed kernel stub per op (also "unsupported" until written), and the code that
registers every stub for every dtype signature the spec admits. It builds and loads as
generated; ``xhal conformance --plugin`` then reports every op as unsupported, and the vendor
fills in one function at a time. Files the vendor owns are never overwritten.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

from .generate import _environment
from .spec_loader import OpSpec, SpecSet

NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class NewPluginError(Exception):
    """Bad arguments: the message says what and how to fix it."""


def dtype_signatures(spec: OpSpec) -> list[tuple[str, ...]]:
    """Every dtype signature the spec admits, one dtype per type variable, in spec order.

    Ops whose type variables are independent (cast's T1 -> T2) get the full product."""
    return list(itertools.product(*spec.type_vars.values()))


def new_plugin(specs: SpecSet, name: str, out: Path, ops: list[str] | None = None,
               vendor: str | None = None) -> list[Path]:
    if not NAME.match(name):
        raise NewPluginError(f"plugin name {name!r} must be lower_snake_case (e.g. mynpu)")
    selected = specs.ops
    if ops:
        known = {s.op: s for s in specs.ops}
        unknown = [o for o in ops if o not in known]
        if unknown:
            raise NewPluginError(f"unknown op(s) {', '.join(unknown)}; "
                                 f"the standard has: {', '.join(sorted(known))}")
        selected = [known[o] for o in ops]
    if out.exists() and any(out.iterdir()):
        raise NewPluginError(f"{out} exists and is not empty; choose a new directory "
                             "(generated files are yours to edit and are never overwritten)")
    env = _environment()
    ctx = {"name": name, "vendor": vendor or name, "ops": selected, "dtypes": specs.dtypes,
           "signatures": {s.op: dtype_signatures(s) for s in selected},
           "all_dtypes": sorted({dt for s in selected for dt in s.dtypes},
                                key=lambda dt: specs.dtypes[dt].id)}
    files = {
        "CMakeLists.txt": "plugin/CMakeLists.txt.j2",
        "README.md": "plugin/README.md.j2",
        "exports.map": "plugin/exports.map.j2",
        "src/plugin.cpp": "plugin/plugin.cpp.j2",
        "src/runtime.cpp": "plugin/runtime.cpp.j2",
        "src/runtime.h": "plugin/runtime.h.j2",
        "src/kernels.h": "plugin/kernels.h.j2",
        "src/register_kernels.cpp": "plugin/register_kernels.cpp.j2",
    }
    written = []
    for rel, template in files.items():
        written.append(_write(out / rel, env.get_template(template).render(ctx)))
    kernel = env.get_template("plugin/kernel.cpp.j2")
    for spec in selected:
        written.append(_write(out / f"src/kernels/{spec.op}.cpp", kernel.render(spec=spec, **ctx)))
    return written


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
