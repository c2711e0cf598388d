"""Plugin manifests: what a plugin declares about how it computes, next to its library.

A plugin may ship ``<library file>.xhal-manifest.yaml`` beside its shared library (for
``libnpu_sim.so``: ``libnpu_sim.so.xhal-manifest.yaml`` or, without the suffix,
``libnpu_sim.xhal-manifest.yaml``). Today it says one thing, the storage precision a dtype is
computed through::

    precision:
      matmul: {float32: bfloat16}   # float32 matmul reads its inputs as bfloat16

The conformance runner then judges those cases as what they are: the reference is evaluated on
the inputs rounded to the named dtype (``reference``), and compared with the named dtype's
tolerance where the spec has one (``tolerance_dtype``), the case dtype's otherwise. A plugin
without a manifest is judged as before.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from xhal.dtypes import numpy_dtype

SUFFIX = ".xhal-manifest.yaml"


class ManifestError(ValueError):
    """A manifest file exists but does not have the documented shape."""


def manifest_path(library: str | Path) -> Path | None:
    """The manifest file beside ``library``, or None when it has none."""
    lib = Path(library)
    for candidate in (lib.with_name(lib.name + SUFFIX), lib.with_name(lib.stem + SUFFIX)):
        if candidate.is_file():
            return candidate
    return None


def parse(data: Any, source: str = "manifest") -> dict[str, dict[str, str]]:
    """``{op: {dtype: computed-as dtype}}`` from a loaded manifest document."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ManifestError(f"{source}: expected a mapping at the top level")
    precision = data.get("precision") or {}
    if not isinstance(precision, dict):
        raise ManifestError(f"{source}: 'precision' must map op -> {{dtype: dtype}}")
    out: dict[str, dict[str, str]] = {}
    for op, table in precision.items():
        if not isinstance(table, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in table.items()
        ):
            raise ManifestError(f"{source}: precision.{op} must map dtype -> dtype, got {table!r}")
        out[str(op)] = dict(table)
    return out


@functools.cache
def load(library: str) -> dict[str, dict[str, str]]:
    """The precision table of the plugin at ``library`` (empty without a manifest)."""
    path = manifest_path(library) if library else None
    if path is None:
        return {}
    return parse(yaml.safe_load(path.read_text(encoding="utf-8")), str(path))


def computed_as(device: Any, op: str, dtype: str) -> str | None:
    """The dtype ``op`` in ``dtype`` is computed through on ``device``, or None (as declared)."""
    library = str(getattr(device, "plugin_path", "") or "") if device is not None else ""
    return load(library).get(op, {}).get(dtype) if library else None


def reference(case: Any, device: Any, arrays: Mapping[str, Any],
              expected: Mapping[str, np.ndarray]) -> Mapping[str, np.ndarray]:
    """The reference a declared case is judged against: the op evaluated on the inputs the
    device actually computes with (``case.dtype`` inputs rounded to the declared storage dtype
    and back). Rounding the inputs is part of the declaration; without it an input rounding
    error that the op amplifies (cancellation in add, softmax of large logits) could not be
    told from a wrong kernel. Undeclared cases keep ``expected``."""
    storage = computed_as(device, case.op, case.dtype)
    if storage is None or expected is None:
        return expected
    from .reference import evaluate  # the reference package registers every family on import

    wide, narrow = numpy_dtype(case.dtype), numpy_dtype(storage)
    rounded = {k: (v.astype(narrow).astype(wide)
                   if isinstance(v, np.ndarray) and v.dtype == wide else v)
               for k, v in arrays.items()}
    return evaluate(case.spec, rounded, case.attrs, case.output_dtypes())


def tolerance_dtype(device: Any, case: Any, dtype: str) -> str:
    """The dtype whose tolerance judges an output of ``dtype``: the declared storage dtype where
    the spec has a tolerance for it, else ``dtype`` itself."""
    storage = computed_as(device, case.op, dtype)
    if storage is None or storage not in (case.spec.get("tolerance") or {}):
        return dtype
    return storage
