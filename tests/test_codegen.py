"""What the generator produced and the package installed agrees with the specs.

* the installed <xhal/xhal_ops.h> compiles as C99 and C++17 with -Wall -Wextra -Werror
  -pedantic, alone and together with xhal_abi.h and xhal_runtime.h, and its attribute
  initialisers set the spec defaults; every plugin-kit header (<xhal/kit/*.h>) is installed
  and compiles alone as C++17;
* op ids, type variables, inputs, outputs and attributes in the header and in the installed
  ``_specs.json`` are those of the installed specs (the header is parsed as text);
* the Python op wrappers carry the spec's docstring and signature;
* every op gets a generated reference page.

The specs are read with plain ``yaml.safe_load`` from the installed ``xhal/op_specs``, not
through the generator's loader, so that a loader bug cannot hide a generator bug.
"""

from __future__ import annotations

import importlib.resources
import inspect
import json
import re
import struct
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures"))
import xhal_testutil as tu  # noqa: E402

# ----------------------------------------------------------------------------------------------
# Inputs: the installed specs and the installed header
# ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def specs() -> dict[str, dict]:
    out = {}
    for path in sorted((tu.op_specs_dir() / "ops").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        out[data["op"]] = data
    assert out, "no specs in the installed op_specs/ops"
    return out


@pytest.fixture(scope="module")
def header() -> str:
    path = tu.include_dir() / "xhal" / "xhal_ops.h"
    assert path.is_file(), f"the installed package has no generated header at {path}"
    return path.read_text(encoding="utf-8")


def _strip_comments(text: str) -> str:
    return re.sub(r"/\*.*?\*/", " ", text, flags=re.S)


def _symbol(spec: dict) -> str:
    return f"{spec['op']}_v{spec['version']}"


# ----------------------------------------------------------------------------------------------
# The header compiles
# ----------------------------------------------------------------------------------------------

STRICT = ["-Wall", "-Wextra", "-Werror", "-pedantic"]
INCLUDE_SETS = {
    "ops": ["xhal/xhal_ops.h"],
    "abi+ops": ["xhal/xhal_abi.h", "xhal/xhal_ops.h"],
    "ops+abi": ["xhal/xhal_ops.h", "xhal/xhal_abi.h"],
    "runtime": ["xhal/xhal_runtime.h"],
    "all": ["xhal/xhal_abi.h", "xhal/xhal_ops.h", "xhal/xhal_runtime.h"],
}
LANGUAGES = {"c99": ("c", ["-std=c99"]), "c++17": ("cpp", ["-std=c++17"])}


@pytest.mark.parametrize("includes", list(INCLUDE_SETS), ids=list(INCLUDE_SETS))
@pytest.mark.parametrize("language", list(LANGUAGES))
def test_headers_compile_strictly(language: str, includes: str, tmp_path: Path) -> None:
    ext, std = LANGUAGES[language]
    src = tmp_path / f"tu.{ext}"
    src.write_text("".join(f"#include <{h}>\n" for h in INCLUDE_SETS[includes])
                   + "int main(void) { return XHAL_OP_MAX_ID > 0 ? 0 : 1; }\n", encoding="utf-8")
    compiler = tu.c_compiler() if ext == "c" else tu.cxx_compiler()
    tu.run([compiler, *std, *STRICT, f"-I{tu.include_dir()}", "-c", src,
            "-o", tmp_path / "tu.o"])


KIT_SOURCE = Path(__file__).resolve().parents[1] / "hal" / "include" / "xhal" / "kit"


def test_kit_headers_installed() -> None:
    """Every plugin-kit header of the source tree is installed next to the ABI headers."""
    installed = sorted(p.name for p in (tu.include_dir() / "xhal" / "kit").glob("*.h"))
    assert installed == sorted(p.name for p in KIT_SOURCE.glob("*.h"))


@pytest.mark.parametrize("name", sorted(p.stem for p in KIT_SOURCE.glob("*.h")))
def test_kit_header_compiles_alone(name: str, tmp_path: Path) -> None:
    """A kit header is self-contained C++17, clean under the strict warnings plugins use."""
    src = tmp_path / "tu.cpp"
    src.write_text(f"#include <xhal/kit/{name}.h>\nint main() {{ return 0; }}\n",
                   encoding="utf-8")
    tu.run([tu.cxx_compiler(), "-std=c++17", *STRICT, "-Wshadow", "-Wconversion",
            f"-I{tu.include_dir()}", "-c", src, "-o", tmp_path / "tu.o"])


def _as_float32(value: float) -> float:
    return struct.unpack("f", struct.pack("f", float(value)))[0]


def _print_default(op: str, attr: dict) -> list[str]:
    """C statements printing attribute `attr` of the initialised struct `a` as one line."""
    name, kind = attr["name"], attr["type"]
    if attr["default"] is None and kind in ("int", "float", "ints", "floats"):
        # no default: absent until set, which the struct records in <name>_given
        return [f'    printf("{op} {name} given=%d\\n", (int)a.{name}_given);']
    if kind == "float":
        return [f'    printf("{op} {name} %.9g\\n", (double)a.{name});']
    if kind in ("int", "dtype"):
        return [f'    printf("{op} {name} %lld\\n", (long long)a.{name});']
    if kind == "string":
        return [f'    printf("{op} {name} %s\\n", a.{name} ? a.{name} : "(null)");']
    if kind == "tensor":
        return [f'    printf("{op} {name} %s\\n", a.{name} ? "set" : "(null)");']
    if kind in ("ints", "floats"):
        fmt, cast = ("%lld", "(long long)") if kind == "ints" else ("%.9g", "(double)")
        return [f'    printf("{op} {name} n=%lld", (long long)a.{name}_count);',
                f"    {{ long long i; for (i = 0; i < a.{name}_count; ++i) "
                f'printf(" {fmt}", {cast}a.{name}[i]); }}',
                '    printf("\\n");']
    pytest.fail(f"{op}.{name}: attribute type {kind!r} is unknown to this test; extend it")


def _expected_default(op: str, attr: dict, dtype_ids: dict) -> str:
    name, kind, value = attr["name"], attr["type"], attr["default"]
    if value is None and kind in ("int", "float", "ints", "floats"):
        return f"{op} {name} given=0"
    if kind == "float":
        return f"{op} {name} {_as_float32(value):.9g}"
    if kind == "int":
        return f"{op} {name} {int(value)}"
    if kind == "dtype":
        return f"{op} {name} {dtype_ids[value]}"
    if kind == "string":
        return f"{op} {name} {value if value is not None else '(null)'}"
    if kind == "tensor":
        return f"{op} {name} (null)"
    items = [str(int(v)) if kind == "ints" else f"{_as_float32(v):.9g}" for v in (value or [])]
    return " ".join([f"{op} {name} n={len(items)}", *items])


@pytest.fixture(scope="module")
def dtype_ids() -> dict[str, int]:
    data = yaml.safe_load((tu.op_specs_dir() / "dtypes.yaml").read_text(encoding="utf-8"))
    return {name: d["id"] for name, d in data["dtypes"].items()}


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_attribute_defaults_and_registration_helpers(language: str, specs: dict,
                                                     dtype_ids: dict, tmp_path: Path) -> None:
    """Every op's _attrs_init() sets the spec's defaults; every xhal_register_<op>_v<N>() helper
    takes one dtype per type variable, in the spec's order, and fills the kernel def."""
    ext, std = LANGUAGES[language]
    body, expected = [], []
    body.append("static xhal_kernel_def_t last;")
    body.append("static xhal_status_t record(xhal_registry_t r, const xhal_kernel_def_t* d) "
                "{ (void)r; last = *d; return XHAL_OK; }")
    main = ["int main(void) {", "  xhal_host_api_t host;", "  memset(&host, 0, sizeof(host));",
            "  host.struct_size = sizeof(host);", "  host.register_kernel = record;"]
    for op, spec in specs.items():
        sym = _symbol(spec)
        main.append("  {")
        main.append(f"    xhal_{sym}_attrs_t a;")
        main.append(f"    xhal_{sym}_attrs_init(&a);")
        main.append(f'    printf("{op} struct_size %d\\n", (int)(a.struct_size == sizeof(a)));')
        expected.append(f"{op} struct_size 1")
        for attr in spec.get("attributes", []):
            if "default" in attr:
                main += _print_default(op, attr)
                expected.append(_expected_default(op, attr, dtype_ids))
        tvars = list(spec["type_vars"])
        dts = ", ".join(str(10 + i) for i in range(len(tvars)))
        main.append(f"    if (xhal_register_{sym}(&host, NULL, NULL, {dts}, 7u, \"k\") != XHAL_OK) "
                    "return 1;")
        main.append(f'    printf("{op} def %u %d %d %d", (unsigned)last.op_id, last.version_min, '
                    "last.version_max, last.num_type_vars);")
        main.append("    { int i; for (i = 0; i < last.num_type_vars; ++i) "
                    'printf(" %d", last.dtypes[i]); }')
        main.append('    printf(" %u\\n", (unsigned)last.flags);')
        expected.append(" ".join([f"{op} def {spec['op_id']} {spec['version']} {spec['version']}",
                                  str(len(tvars)), *(str(10 + i) for i in range(len(tvars))),
                                  "7"]))
        main.append("  }")
    main += ["  return 0;", "}"]
    src = tmp_path / f"defaults.{ext}"
    src.write_text("#include <stdio.h>\n#include <string.h>\n#include <xhal/xhal_ops.h>\n"
                   + "\n".join(body + main) + "\n", encoding="utf-8")
    compiler = tu.c_compiler() if ext == "c" else tu.cxx_compiler()
    exe = tmp_path / "defaults"
    tu.run([compiler, *std, *STRICT, f"-I{tu.include_dir()}", src, "-o", exe])
    got = tu.run([exe]).stdout.splitlines()
    assert got == expected


# ----------------------------------------------------------------------------------------------
# The header agrees with the specs
# ----------------------------------------------------------------------------------------------


def test_op_ids(header: str, specs: dict) -> None:
    enum = re.search(r"typedef\s+enum\s+xhal_op_id\s*\{(.*?)\}\s*xhal_op_id_t;", header, re.S)
    assert enum, "no xhal_op_id_t enum in xhal_ops.h"
    ids = {name: int(v) for name, v in re.findall(r"XHAL_OP_(\w+)\s*=\s*(\d+)",
                                                  _strip_comments(enum.group(1)))}
    assert ids == {spec["op"].upper(): spec["op_id"] for spec in specs.values()}
    max_id = re.search(r"#define\s+XHAL_OP_MAX_ID\s+(\d+)", header)
    assert max_id and int(max_id.group(1)) == max(ids.values())


def test_type_variables(header: str, specs: dict) -> None:
    for op, spec in specs.items():
        block = re.search(rf"/\* ---- {op} v{spec['version']} \(ONNX (\w+)-(\d+)\) ----(.*?)\*/",
                          header, re.S)
        assert block, f"no comment block for {op} v{spec['version']} in xhal_ops.h"
        assert (block.group(1), int(block.group(2))) == (spec["onnx"]["op_type"],
                                                         spec["onnx"]["since_version"])
        found = re.findall(r"type variable (\d+), (\w+): ([\w, ]+)", block.group(3))
        assert [(int(i), name, [d.strip() for d in dts.split(",")]) for i, name, dts in found] \
            == [(i, name, dts) for i, (name, dts) in enumerate(spec["type_vars"].items())], op


def test_kernel_signatures(header: str, specs: dict) -> None:
    for op, spec in specs.items():
        sym = _symbol(spec)
        m = re.search(rf"typedef\s+xhal_status_t\s*\(\*xhal_{sym}_kernel_fn\)\((.*?)\);",
                      header, re.S)
        assert m, f"no xhal_{sym}_kernel_fn in xhal_ops.h"
        params = [" ".join(p.split()) for p in _strip_comments(m.group(1)).split(",")]
        expected = ["const xhal_kernel_context_t* ctx"]
        for inp in spec["inputs"]:
            if inp.get("variadic"):
                expected += [f"const xhal_tensor_t* const* {inp['name']}",
                             f"int32_t {inp['name']}_count"]
            else:
                expected.append(f"const xhal_tensor_t* {inp['name']}")
        expected.append(f"const xhal_{sym}_attrs_t* attrs")
        for out in spec["outputs"]:
            if out.get("variadic"):
                expected += [f"xhal_tensor_t* const* {out['name']}", f"int32_t {out['name']}_count"]
            else:
                expected.append(f"xhal_tensor_t* {out['name']}")
        assert params == expected, op
        # The comment after each (non-variadic) input says optional / host memory and its type.
        raw = m.group(1)
        for inp in spec["inputs"]:
            if inp.get("variadic"):
                continue
            c = re.search(rf"\b{inp['name']},?\s*/\*(.*?)\*/", raw)
            assert c, f"{op}: no comment for input {inp['name']}"
            assert ("optional" in c.group(1)) == bool(inp.get("optional")), (op, inp)
            assert ("host memory" in c.group(1)) == bool(inp.get("host_memory")), (op, inp)
            assert c.group(1).strip().endswith(inp["type"]), (op, inp)


def test_attribute_structs(header: str, specs: dict) -> None:
    c_types = {"int": "int64_t", "float": "float", "ints": "const int64_t*",
               "floats": "const float*", "string": "const char*",
               "tensor": "const xhal_tensor_t*", "dtype": "int32_t"}
    for op, spec in specs.items():
        sym = _symbol(spec)
        m = re.search(rf"typedef\s+struct\s+xhal_{sym}_attrs\s*\{{(.*?)\}}\s*xhal_{sym}_attrs_t;",
                      header, re.S)
        assert m, f"no xhal_{sym}_attrs_t in xhal_ops.h"
        fields = [" ".join(f.split()) for f in _strip_comments(m.group(1)).split(";") if f.strip()]
        expected = ["size_t struct_size"]
        for attr in spec.get("attributes", []):
            assert attr["type"] in c_types, f"{op}: attribute type {attr['type']!r} unknown here"
            expected.append(f"{c_types[attr['type']]} {attr['name']}")
            if attr["type"] in ("ints", "floats"):
                expected.append(f"int64_t {attr['name']}_count")
            if attr.get("default", 0) is None and attr["type"] in ("int", "float", "ints",
                                                                   "floats"):
                expected.append(f"int32_t {attr['name']}_given")
        assert fields == expected, op


def test_specs_json_matches_specs(specs: dict) -> None:
    resource = importlib.resources.files("xhal") / "_specs.json"
    assert resource.is_file(), "the installed package has no xhal/_specs.json"
    dump = json.loads(resource.read_text(encoding="utf-8"))
    assert set(dump["ops"]) == set(specs)
    for op, spec in specs.items():
        got = dump["ops"][op]
        for key in ("op_id", "version", "type_vars", "inputs", "outputs", "shape", "tolerance"):
            assert got[key] == spec[key], f"_specs.json {op}.{key} differs from {op}.yaml"
        assert got.get("attributes", []) == spec.get("attributes", []), op
    dtypes = yaml.safe_load((tu.op_specs_dir() / "dtypes.yaml").read_text(encoding="utf-8"))
    assert {n: d["id"] for n, d in dump["dtypes"].items()} == \
        {n: d["id"] for n, d in dtypes["dtypes"].items()}


# ----------------------------------------------------------------------------------------------
# Python wrappers
# ----------------------------------------------------------------------------------------------


def test_python_wrappers(specs: dict) -> None:
    import xhal.ops

    for op, spec in specs.items():
        fn = getattr(xhal.ops, op, None)
        assert callable(fn), f"xhal.ops has no {op}()"
        params = list(inspect.signature(fn).parameters.values())
        inputs, attrs = spec["inputs"], spec.get("attributes", [])
        names = [i["name"] for i in inputs] + [a["name"] for a in attrs]
        assert [p.name for p in params][:len(names)] == names, op
        # Beyond the spec's operands and attributes only keyword-only options with a default
        # (such as device=) may follow, so that every spec-conforming call stays valid.
        for p in params[len(names):]:
            assert p.kind is inspect.Parameter.KEYWORD_ONLY and \
                p.default is not inspect.Parameter.empty, f"{op}: extra parameter {p}"
        for p, inp in zip(params, inputs, strict=False):
            if inp.get("variadic"):
                assert p.kind in (inspect.Parameter.VAR_POSITIONAL,
                                  inspect.Parameter.POSITIONAL_OR_KEYWORD), (op, p)
            elif inp.get("optional"):
                assert p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD, (op, p)
                assert p.default is None, f"{op}({p.name}) is optional and must default to None"
            else:
                assert p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD, (op, p)
                assert p.default is inspect.Parameter.empty, f"{op}({p.name}) is required"
        for p, attr in zip(params[len(inputs):len(names)], attrs, strict=True):
            assert p.kind is inspect.Parameter.KEYWORD_ONLY, (op, p)
            if attr.get("required") or "default" not in attr:
                continue
            kind, default = attr["type"], attr["default"]
            if kind in ("ints", "floats"):
                assert p.default is None or list(p.default) == list(default or []), (op, p)
            elif kind == "tensor" or default is None:  # absent unless set
                assert p.default is None, (op, p)
            elif kind in ("int", "float"):
                assert p.default == default and type(p.default) is \
                    (float if kind == "float" else int), (op, p, default)
            else:
                assert p.default == default, (op, p, default)
        doc = inspect.getdoc(fn) or ""
        assert doc.splitlines()[0] == spec["summary"].strip(), op
        for line in spec["doc"].strip().splitlines():
            assert line.strip() in doc, f"{op}: docstring lacks the spec doc line {line!r}"
        for item in inputs + attrs:
            assert item["name"] in doc, op


def test_gemm_signature() -> None:
    import xhal.ops

    sig = inspect.signature(xhal.ops.gemm)
    assert [(n, p.default) for n, p in sig.parameters.items() if n in
            ("alpha", "beta", "trans_a", "trans_b")] == \
        [("alpha", 1.0), ("beta", 1.0), ("trans_a", 0), ("trans_b", 0)]
    assert sig.parameters["C"].default is None


# ----------------------------------------------------------------------------------------------
# Reference pages
# ----------------------------------------------------------------------------------------------


def _check_doc_pages(pages: Path, specs: dict) -> None:
    index = (pages / "index.md").read_text(encoding="utf-8")
    for op, spec in specs.items():
        page = pages / f"{op}.md"
        assert page.is_file(), f"no generated reference page for {op} in {pages}"
        text = page.read_text(encoding="utf-8")
        assert text.startswith(f"# `{op}` (version {spec['version']})"), op
        assert spec["summary"].strip() in text
        assert f"XHAL_OP_{op.upper()}` = {spec['op_id']}" in text
        for item in spec["inputs"] + spec["outputs"] + spec.get("attributes", []):
            assert f"`{item['name']}`" in text, (op, item["name"])
        for dtype in spec["tolerance"]:
            assert f"| {dtype} |" in text, (op, dtype)
        assert f"]({op}.md)" in index, f"{pages / 'index.md'} does not link {op}.md"
        onnx = spec["onnx"]
        assert f"## ONNX mapping\n\n`{onnx['op_type']}` as of opset {onnx['since_version']}" \
            in text, op
        for ours, theirs in (onnx.get("attributes") or {}).items():
            assert f"| `{ours}` | `{theirs}` |" in text, (op, ours)
        dec = spec.get("decomposition")
        assert "## Decomposition" in text, op
        bodies = [dec["body"], *(v["body"] for v in dec.get("variants") or [])] if dec else []
        for body in bodies:
            for step in body:
                assert f"`{', '.join(step['outputs'])} = {step['op']}(" in text, (op, step)
        for variant in (dec or {}).get("variants") or []:
            for name in variant["when"]:
                assert f"`{name}`" in text.split("## Decomposition", 1)[1], (op, name)
        # the index's coverage row: the op, its ONNX op, one mark per admitted dtype, and
        # the size of its decomposition
        row = next((ln for ln in index.splitlines() if ln.startswith(
            f"| [`{op}`]({op}.md) | {onnx['op_type']}-{onnx['since_version']} |")), None)
        assert row is not None, f"no coverage row for {op}"
        assert row.count("✓") == len({d for ds in spec["type_vars"].values() for d in ds}), op
        assert ("steps" in row) == bool(dec), op
    assert "## Coverage" in index


def test_every_op_has_an_installed_doc_page(specs: dict) -> None:
    pages = tu.package_root() / "docs" / "ops"
    assert pages.is_dir(), f"the installed package has no generated op pages in {pages}"
    _check_doc_pages(pages, specs)


def test_installed_codegen_writes_every_doc_page(specs: dict, tmp_path: Path) -> None:
    out = tmp_path / "gen"
    tu.run([sys.executable, "-m", "xhal.codegen", "--specs", tu.op_specs_dir(), "--out", out],
           cwd=tmp_path)
    _check_doc_pages(out / "docs" / "ops", specs)
