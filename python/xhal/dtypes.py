"""dtype names <-> xhal_dtype_t ids (ONNX numbering) <-> numpy dtypes."""

from __future__ import annotations

import numpy as np

# name -> (xhal_dtype_t id, numpy dtype factory). bfloat16 comes from ml_dtypes, lazily.
_IDS: dict[str, int] = {
    "float32": 1, "uint8": 2, "int8": 3, "uint16": 4, "int16": 5, "int32": 6, "int64": 7,
    "bool": 9, "float16": 10, "float64": 11, "uint32": 12, "uint64": 13, "bfloat16": 16,
}
_NAMES: dict[int, str] = {v: k for k, v in _IDS.items()}


def dtype_id(name: str) -> int:
    try:
        return _IDS[name]
    except KeyError:
        raise ValueError(f"unknown dtype {name!r}; known: {', '.join(_IDS)}") from None


def dtype_name(dtype_id_: int) -> str:
    return _NAMES[dtype_id_]


def numpy_dtype(name: str) -> np.dtype:
    if name == "bfloat16":
        import ml_dtypes

        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(name)


def from_numpy_dtype(dtype: np.dtype) -> str:
    dtype = np.dtype(dtype)
    if dtype.name in _IDS:
        return dtype.name
    raise TypeError(f"numpy dtype {dtype} has no xhal dtype (supported: {', '.join(_IDS)})")


def names_in_mask(mask: int) -> list[str]:
    return [name for name, i in _IDS.items() if mask & (1 << i)]
