"""ABI invariant 9: the layout of every public struct in <xhal/xhal_abi.h> is pinned.

The test reads the struct list from the *installed* header, generates a C probe that prints
sizeof / alignof of every struct and offsetof / sizeof of every field (plus the value of every
enum constant), compiles it with the system C compiler, runs it, and compares the result with
the golden file of the header's ABI version, ``hal/abi/v<major>.<minor>.json``:

* against the golden file of the current minor: exactly equal (a field added, moved, resized
  or removed without a version bump fails, naming the field);
* against the golden files of the older minors of the same major: every field they pin is still
  at the same offset with the same size (fields are only ever appended).

Record the golden file of a new minor (after bumping XHAL_ABI_MINOR) with::

    python tests/abi/test_abi_layout.py --write            # from the installed headers
    python tests/abi/test_abi_layout.py --write --include hal/include

The golden files describe x86-64 LP64 (Linux, System V ABI); elsewhere the test is skipped.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS / "fixtures"))
import xhal_testutil as tu  # noqa: E402

GOLDEN_DIR = TESTS.parent / "hal" / "abi"
PLATFORM = "x86_64 LP64 (Linux, System V ABI)"
# Structs that mirror DLPack field for field and therefore carry no struct_size.
DLPACK_STRUCTS = {"xhal_dl_device_t", "xhal_dl_dtype_t", "xhal_tensor_t"}
BUMP_HINT = ("A layout change needs an ABI version bump: appending a field means "
             "XHAL_ABI_MINOR + 1 and a new golden file (python tests/abi/test_abi_layout.py "
             "--write); moving, resizing, retyping or removing a field means XHAL_ABI_MAJOR + 1.")


# ----------------------------------------------------------------------------------------------
# Reading the header
# ----------------------------------------------------------------------------------------------


def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def parse_header(text: str) -> dict:
    """Structs (name -> field names, in order), enum typedefs and enum constants of the header."""
    code = _strip_comments(text)
    structs: dict[str, list[str]] = {}
    for m in re.finditer(r"typedef\s+struct\s+\w+\s*\{(.*?)\}\s*(\w+)\s*;", code, flags=re.S):
        body, name = m.group(1), m.group(2)
        fields = []
        for decl in body.split(";"):
            decl = " ".join(decl.split())
            if not decl:
                continue
            fn = re.search(r"\(\s*\*\s*(\w+)\s*\)", decl)
            plain = re.search(r"(\w+)\s*(?:\[[^\]]*\]\s*)*$", decl)
            field = fn.group(1) if fn else plain.group(1) if plain else None
            assert field, f"cannot parse the declaration {decl!r} in struct {name}"
            fields.append(field)
        structs[name] = fields
    enum_types, constants = [], []
    for m in re.finditer(r"(typedef\s+)?enum\s*(\w*)\s*\{(.*?)\}\s*(\w*)\s*;", code, flags=re.S):
        if m.group(1) and m.group(4):
            enum_types.append(m.group(4))
        constants += re.findall(r"\b(XHAL_[A-Z0-9_]+)\s*=", m.group(3))
    defines = [d for d in re.findall(r"#define[ \t]+(XHAL_[A-Z0-9_]+)[ \t]+\S", code)
               if d not in ("XHAL_ABI_MAJOR", "XHAL_ABI_MINOR", "XHAL_EXPORT")
               and not d.endswith("_H_") and "(" not in d]
    return {"structs": structs, "enums": enum_types, "constants": constants + defines}


def probe_source(decl: dict) -> str:
    lines = ["#include <stdio.h>", "#include <stddef.h>", "#include <xhal/xhal_abi.h>", "",
             "int main(void) {"]
    for struct, fields in decl["structs"].items():
        lines.append(f'  printf("S {struct} %zu %zu\\n", sizeof({struct}), '
                     f"(size_t)_Alignof({struct}));")
        for f in fields:
            lines.append(f'  printf("F {struct} {f} %zu %zu\\n", offsetof({struct}, {f}), '
                         f"sizeof((({struct}*)0)->{f}));")
    for enum in decl["enums"]:
        lines.append(f'  printf("E {enum} %zu\\n", sizeof({enum}));')
    for const in decl["constants"]:
        if const == "XHAL_PLUGIN_ENTRY_SYMBOL":
            lines.append(f'  printf("Q {const} %s\\n", {const});')
        else:
            lines.append(f'  printf("C {const} %lld\\n", (long long)({const}));')
    lines += ["  return 0;", "}", ""]
    return "\n".join(lines)


def measure(include: Path, workdir: Path) -> dict:
    """Compile and run the probe against `include`; return the layout in the golden format."""
    header = include / "xhal" / "xhal_abi.h"
    decl = parse_header(header.read_text(encoding="utf-8"))
    src = workdir / "layout_probe.c"
    exe = workdir / "layout_probe"
    src.write_text(probe_source(decl), encoding="utf-8")
    tu.run([tu.c_compiler(), "-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic",
            f"-I{include}", str(src), "-o", str(exe)])
    out = tu.run([str(exe)]).stdout
    layout: dict = {"structs": {}, "enums": {}, "constants": {}}
    for line in out.splitlines():
        kind, *rest = line.split(" ")
        if kind == "S":
            layout["structs"][rest[0]] = {"size": int(rest[1]), "align": int(rest[2]),
                                          "fields": {}}
        elif kind == "F":
            layout["structs"][rest[0]]["fields"][rest[1]] = {"offset": int(rest[2]),
                                                             "size": int(rest[3])}
        elif kind == "E":
            layout["enums"][rest[0]] = {"size": int(rest[1])}
        elif kind == "C":
            layout["constants"][rest[0]] = int(rest[1])
        elif kind == "Q":
            layout["constants"][rest[0]] = rest[1]
    return layout


def header_version(include: Path) -> tuple[int, int]:
    text = (include / "xhal" / "xhal_abi.h").read_text(encoding="utf-8")
    major = re.search(r"#define\s+XHAL_ABI_MAJOR\s+(\d+)", text)
    minor = re.search(r"#define\s+XHAL_ABI_MINOR\s+(\d+)", text)
    assert major and minor, "xhal_abi.h defines no XHAL_ABI_MAJOR / XHAL_ABI_MINOR"
    return int(major.group(1)), int(minor.group(1))


def dump_golden(layout: dict, version: tuple[int, int]) -> str:
    """JSON with one field per line, so that a diff of two golden files reads like the header."""
    out = ["{",
           f'  "abi": "{version[0]}.{version[1]}",',
           f'  "platform": "{PLATFORM}",',
           '  "note": "Pinned by tests/abi/test_abi_layout.py. Never edit a released file; a '
           'new minor gets a new file.",',
           '  "structs": {']
    structs = list(layout["structs"].items())
    for i, (name, s) in enumerate(structs):
        out.append(f'    "{name}": {{"size": {s["size"]}, "align": {s["align"]}, "fields": {{')
        fields = list(s["fields"].items())
        for j, (fname, f) in enumerate(fields):
            comma = "," if j < len(fields) - 1 else ""
            out.append(f'      "{fname}": {{"offset": {f["offset"]}, "size": {f["size"]}}}{comma}')
        out.append("    }}" + ("," if i < len(structs) - 1 else ""))
    out.append("  },")
    out.append('  "enums": {')
    enums = list(layout["enums"].items())
    for i, (name, e) in enumerate(enums):
        out.append(f'    "{name}": {{"size": {e["size"]}}}' + ("," if i < len(enums) - 1 else ""))
    out.append("  },")
    out.append('  "constants": {')
    consts = list(layout["constants"].items())
    for i, (name, v) in enumerate(consts):
        comma = "," if i < len(consts) - 1 else ""
        out.append(f"    {json.dumps(name)}: {json.dumps(v)}{comma}")
    out += ["  }", "}", ""]
    text = "\n".join(out)
    assert json.loads(text)["structs"] == layout["structs"]
    return text


# ----------------------------------------------------------------------------------------------
# Comparing
# ----------------------------------------------------------------------------------------------


def compare(current: dict, golden: dict, golden_name: str, *, exact: bool) -> list[str]:
    """Problems of `current` with respect to `golden`. `exact`: the golden file is the current
    minor's (nothing may differ); otherwise an older minor's (only appending is allowed)."""
    problems = []
    for sname, g in golden["structs"].items():
        c = current["structs"].get(sname)
        if c is None:
            problems.append(f"struct {sname} (pinned in {golden_name}) is gone from xhal_abi.h")
            continue
        for fname, gf in g["fields"].items():
            cf = c["fields"].get(fname)
            if cf is None:
                problems.append(f"{sname}.{fname} (pinned in {golden_name} at offset "
                                f"{gf['offset']}) was removed or renamed")
            elif cf != gf:
                problems.append(f"{sname}.{fname} moved: offset {gf['offset']} size {gf['size']} "
                                f"in {golden_name}, now offset {cf['offset']} size {cf['size']}")
        added = [f for f in c["fields"] if f not in g["fields"]]
        if exact:
            for fname in added:
                f = c["fields"][fname]
                problems.append(f"{sname}.{fname} (offset {f['offset']}, size {f['size']}) is "
                                f"not in {golden_name}: a field was added without a minor bump")
            if c["size"] != g["size"] or c["align"] != g["align"]:
                problems.append(f"sizeof({sname}) / alignof: {g['size']} / {g['align']} in "
                                f"{golden_name}, now {c['size']} / {c['align']}")
        else:
            if c["size"] < g["size"] or c["align"] != g["align"]:
                problems.append(f"sizeof({sname}) / alignof shrank or changed: {g['size']} / "
                                f"{g['align']} in {golden_name}, now {c['size']} / {c['align']}")
            old_end = max((f["offset"] + f["size"] for f in g["fields"].values()), default=0)
            for fname in added:
                if c["fields"][fname]["offset"] < old_end:
                    problems.append(f"{sname}.{fname} was inserted inside the {golden_name} "
                                    f"layout (offset {c['fields'][fname]['offset']} < {old_end}); "
                                    "fields may only be appended")
    if exact:
        for sname in current["structs"]:
            if sname not in golden["structs"]:
                problems.append(f"struct {sname} is not pinned in {golden_name}: a struct was "
                                "added without a minor bump")
    for ename, g in golden.get("enums", {}).items():
        c = current["enums"].get(ename)
        if c is None:
            problems.append(f"enum type {ename} (pinned in {golden_name}) is gone")
        elif c != g:
            problems.append(f"sizeof({ename}) changed: {g['size']} in {golden_name}, "
                            f"now {c['size']}")
    for cname, g in golden.get("constants", {}).items():
        if cname not in current["constants"]:
            problems.append(f"constant {cname} (pinned in {golden_name} as {g!r}) is gone")
        elif current["constants"][cname] != g:
            problems.append(f"constant {cname} changed: {g!r} in {golden_name}, "
                            f"now {current['constants'][cname]!r}")
    if exact:
        for cname in current["constants"]:
            if cname not in golden.get("constants", {}):
                problems.append(f"constant {cname} is not pinned in {golden_name}: added "
                                "without a minor bump")
    return problems


# ----------------------------------------------------------------------------------------------
# Tests
# ----------------------------------------------------------------------------------------------

pytestmark = pytest.mark.skipif(
    not (sys.platform.startswith("linux") and platform.machine() in ("x86_64", "AMD64")
         and sys.maxsize > 2**32),
    reason=f"the golden ABI layouts describe {PLATFORM}")


@pytest.fixture(scope="module")
def installed_layout(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return measure(tu.include_dir(), tmp_path_factory.mktemp("abi_probe"))


@pytest.fixture(scope="module")
def version() -> tuple[int, int]:
    return header_version(tu.include_dir())


def _golden(major: int, minor: int) -> Path:
    return GOLDEN_DIR / f"v{major}.{minor}.json"


def test_parser_sees_every_struct() -> None:
    """The probe is generated from the header, so make sure the parser missed nothing."""
    text = (tu.include_dir() / "xhal" / "xhal_abi.h").read_text(encoding="utf-8")
    code = _strip_comments(text)
    declared = re.findall(r"typedef\s+struct\s+\w+\s*\{", code)
    decl = parse_header(text)
    assert len(decl["structs"]) == len(declared) > 0
    assert all(decl["structs"].values()), decl["structs"]
    assert decl["structs"]["xhal_plugin_api_t"][:3] == ["struct_size", "abi_major", "abi_minor"]
    assert "register_kernels" in decl["structs"]["xhal_plugin_api_t"]
    assert "name" in decl["structs"]["xhal_device_properties_t"]  # char name[64]


def test_layout_matches_golden_of_current_minor(installed_layout: dict,
                                                version: tuple[int, int]) -> None:
    path = _golden(*version)
    assert path.is_file(), (
        f"xhal_abi.h declares ABI {version[0]}.{version[1]} but {path.relative_to(TESTS.parent)} "
        "does not exist. Record it once, when the minor is bumped: "
        "python tests/abi/test_abi_layout.py --write")
    golden = json.loads(path.read_text(encoding="utf-8"))
    assert golden["abi"] == f"{version[0]}.{version[1]}", f"{path.name} says abi {golden['abi']}"
    problems = compare(installed_layout, golden, path.name, exact=True)
    assert not problems, "ABI layout differs from the golden file:\n  " + "\n  ".join(problems) \
        + "\n" + BUMP_HINT


def test_layout_keeps_every_older_minor(installed_layout: dict, version: tuple[int, int]) -> None:
    """Within one major, fields are only appended: what 1.0 pinned stays where it was."""
    major, minor = version
    problems = []
    for older in range(minor):
        path = _golden(major, older)
        assert path.is_file(), f"golden file {path.name} of a released minor is missing"
        golden = json.loads(path.read_text(encoding="utf-8"))
        problems += compare(installed_layout, golden, path.name, exact=False)
    assert not problems, "ABI layout breaks an older minor:\n  " + "\n  ".join(problems) \
        + "\n" + BUMP_HINT


def test_tables_start_with_struct_size(installed_layout: dict) -> None:
    """Invariant 2: every table and argument struct (all but the DLPack mirrors) starts with
    size_t struct_size, so that both sides can negotiate the prefix they share."""
    for name, s in installed_layout["structs"].items():
        if name in DLPACK_STRUCTS:
            continue
        first = next(iter(s["fields"].items()))
        assert first == ("struct_size", {"offset": 0, "size": 8}), \
            f"{name} must start with size_t struct_size, starts with {first}"


def test_tensor_is_dlpack_layout(installed_layout: dict) -> None:
    """Invariant 5: xhal_tensor_t is DLTensor field for field (DLPack v1, LP64)."""
    t = installed_layout["structs"]["xhal_tensor_t"]
    assert {k: (v["offset"], v["size"]) for k, v in t["fields"].items()} == {
        "data": (0, 8), "device": (8, 8), "ndim": (16, 4), "dtype": (20, 4),
        "shape": (24, 8), "strides": (32, 8), "byte_offset": (40, 8)}
    assert t["size"] == 48


def test_golden_files_are_well_formed() -> None:
    files = sorted(GOLDEN_DIR.glob("v*.json"))
    assert files, f"no golden layout files in {GOLDEN_DIR}"
    for path in files:
        data = json.loads(path.read_text(encoding="utf-8"))
        assert path.name == f"v{data['abi']}.json"
        assert data["platform"] == PLATFORM
        for sname, s in data["structs"].items():
            ends = [f["offset"] + f["size"] for f in s["fields"].values()]
            offsets = [f["offset"] for f in s["fields"].values()]
            assert offsets == sorted(offsets), f"{path.name}: {sname} fields out of order"
            assert max(ends) <= s["size"], f"{path.name}: {sname} fields overrun the struct"


# ----------------------------------------------------------------------------------------------
# Recording a golden file
# ----------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print or record the ABI layout of xhal_abi.h.")
    parser.add_argument("--include", type=Path,
                        help="include directory holding xhal/xhal_abi.h (default: the installed "
                             "package's, from python -m xhal --cmake-dir)")
    parser.add_argument("--write", action="store_true",
                        help="write hal/abi/v<major>.<minor>.json (refuses to overwrite)")
    args = parser.parse_args(argv)
    include = args.include.resolve() if args.include else tu.include_dir()
    version = header_version(include)
    with tempfile.TemporaryDirectory() as tmp:
        layout = measure(include, Path(tmp))
    text = dump_golden(layout, version)
    if not args.write:
        sys.stdout.write(text)
        return 0
    path = _golden(*version)
    if path.exists():
        print(f"{path} exists; a released layout is never rewritten. Bump XHAL_ABI_MINOR or "
              "XHAL_ABI_MAJOR first.", file=sys.stderr)
        return 1
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (AssertionError, subprocess.CalledProcessError) as exc:
        print(exc, file=sys.stderr)
        sys.exit(1)
