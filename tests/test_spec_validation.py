"""Malformed op specs are rejected with ``file:line: message`` naming the right line, exit 1 and
no traceback; the real specs validate.

Runs the *installed* generator (``python -m xhal.codegen --validate-only``) on a copy of the
repository's ``op_specs/`` in which one file is broken in one way.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SPECS = REPO / "op_specs"
LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+): (?P<message>.+)$")


def validate(specs: Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xhal.codegen", "--specs", str(specs),
                           "--validate-only"], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


@dataclass
class Breakage:
    """Replace the line `old` of op_specs/ops/<file> by `new` (None: delete it). The error must
    point at the line of `at` in the broken file (default: the replaced line) and its message
    must match `message` (a regex)."""

    file: str
    old: str
    new: str | None
    message: str
    at: str | None = None

    def apply(self, root: Path) -> tuple[Path, int]:
        path = root / "ops" / self.file
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        hits = [i for i, ln in enumerate(lines) if ln.rstrip("\n") == self.old]
        assert len(hits) == 1, f"{self.file}: expected the line {self.old!r} exactly once"
        i = hits[0]
        if self.new is None:
            del lines[i]
        else:
            lines[i] = self.new + "\n"
        path.write_text("".join(lines), encoding="utf-8")
        if self.at is None:
            return path, i + 1
        where = [j for j, ln in enumerate(path.read_text(encoding="utf-8").splitlines())
                 if ln == self.at]
        assert len(where) == 1, f"{self.file}: expected the line {self.at!r} exactly once"
        return path, where[0] + 1


CASES = {
    "bad_yaml": Breakage(
        "add.yaml", "op_id: 1", "op_id: 1: 2", r"invalid YAML"),
    "unknown_top_level_field": Breakage(
        "add.yaml", "summary: Elementwise addition with multidirectional broadcasting.",
        "colour: red\nsummary: Elementwise addition with multidirectional broadcasting.",
        r"unknown field.*colour"),
    "unknown_operand_field": Breakage(
        "add.yaml", "  - {name: B, type: T, doc: Second operand.}",
        "  - {name: B, type: T, doc: Second operand., shape: [1]}", r"unknown field.*shape"),
    "wrong_type": Breakage(
        "add.yaml", "op_id: 1", "op_id: one", r"op_id.*not of type 'integer'"),
    "wrong_attribute_type": Breakage(
        "gemm.yaml",
        "  - {name: alpha, type: float, default: 1.0, doc: Scale of op(A) * op(B).}",
        "  - {name: alpha, type: double, default: 1.0, doc: Scale of op(A) * op(B).}",
        r"double"),
    "missing_required_top_level_field": Breakage(
        "add.yaml", "reference: add", None, r"'reference' is a required property",
        at="spec_format: 1"),
    "missing_required_operand_field": Breakage(
        "add.yaml", "  - {name: B, type: T, doc: Second operand.}", "  - {name: B, type: T}",
        r"'doc' is a required property"),
    "duplicate_op_id": Breakage(
        "sub.yaml", "op_id: 2", "op_id: 1", r"op_id 1 is already used by add\.yaml"),
    "unknown_type_variable": Breakage(
        "add.yaml", "  - {name: B, type: T, doc: Second operand.}",
        "  - {name: B, type: U, doc: Second operand.}", r"type 'U' is neither a type variable"),
    "default_not_in_allowed": Breakage(
        "gemm.yaml",
        "  - {name: trans_a, type: int, default: 0, allowed: [0, 1], doc: Transpose A first.}",
        "  - {name: trans_a, type: int, default: 2, allowed: [0, 1], doc: Transpose A first.}",
        r"default 2 is not among allowed"),
    "shape_rule_unknown_argument": Breakage(
        "add.yaml", "  C: broadcast(A, B)", "  C: broadcast(A, Z)",
        r"shape rule argument 'Z' is not an input or attribute"),
    "missing_tolerance_for_dtype": Breakage(
        "add.yaml", "  float16: {rtol: 1.0e-3, atol: 0.0}", None,
        r"dtype 'float16' has no tolerance entry",
        at="  T: [float32, float64, float16, bfloat16, int8, uint8, int32, int64]"),
    "variadic_not_last": Breakage(
        "add.yaml", "  - {name: A, type: T, doc: First operand.}",
        "  - {name: A, type: T, variadic: true, doc: First operand.}",
        r"only the last operand may be variadic"),
    "decomposition_unknown_op": Breakage(
        "exp.yaml", "reference: exp",
        "reference: exp\ndecomposition:\n  body:\n    - {op: nosuch, inputs: [X], outputs: [Y]}",
        r"decomposition uses unknown op 'nosuch'",
        at="    - {op: nosuch, inputs: [X], outputs: [Y]}"),
    "decomposition_variant_unknown_condition": Breakage(
        "gelu.yaml", "    - when: {approximate: tanh}", "    - when: {approx: tanh}",
        r"condition names 'approx', which is neither an attribute nor an optional input"),
    "decomposition_variant_value_not_allowed": Breakage(
        "gelu.yaml", "    - when: {approximate: tanh}", "    - when: {approximate: cubic}",
        r"condition value 'cubic' is not a string value of attribute 'approximate'"),
    "decomposition_optional_input_maybe_absent": Breakage(
        "layer_normalization.yaml", "    - when: {B: absent}", "    - when: {B: present}",
        r"optional input 'B' may be absent here but cast's input X is required",
        at="    - {op: cast, inputs: [B], outputs: [b], attrs: {to: float64}}"),
    "decomposition_step_unknown_attribute": Breakage(
        "elu.yaml", "    - {op: exp, inputs: [X], outputs: [e]}",
        "    - {op: exp, inputs: [X], outputs: [e], attrs: {alpha: 1}}",
        r"exp has no attribute 'alpha'"),
    "decomposition_bad_dtype_attribute": Breakage(
        "layer_normalization.yaml",
        "    - {op: cast, inputs: [X], outputs: [x], attrs: {to: float64}}",
        "    - {op: cast, inputs: [X], outputs: [x], attrs: {to: Q}}",
        r"cast.to = 'Q' is neither a dtype nor a type variable of layer_normalization"),
    "decomposition_constant_unknown_attribute": Breakage(
        "elu.yaml",
        '    - {op: mul, inputs: [em1, alpha], outputs: [neg], constants: '
        '{alpha: {value: "@alpha", dtype: T}}}',
        '    - {op: mul, inputs: [em1, alpha], outputs: [neg], constants: '
        '{alpha: {value: "@beta", dtype: T}}}',
        r"constant 'alpha' refers to unknown attribute '@beta'"),
}


@pytest.fixture
def specs_copy(tmp_path: Path) -> Path:
    root = tmp_path / "op_specs"
    shutil.copytree(SPECS, root)
    return root


def test_real_specs_validate(tmp_path: Path) -> None:
    proc = validate(SPECS, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    count = len(list((SPECS / "ops").glob("*.yaml")))
    assert f"{count} op specs valid" in proc.stdout, proc.stdout


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_malformed_spec_is_reported_at_its_line(case: Breakage, specs_copy: Path,
                                                tmp_path: Path) -> None:
    broken, line = case.apply(specs_copy)
    proc = validate(specs_copy, tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, f"exit code {proc.returncode}, expected 1\n{out}"
    assert "Traceback" not in out, out
    errors = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert errors, f"nothing on stderr\n{out}"
    for ln in errors:
        assert LINE.match(ln), f"not a 'file:line: message' line: {ln!r}"
    parsed = [LINE.match(ln).groupdict() for ln in errors]
    ours = [e for e in parsed if Path(e["file"]).resolve() == broken.resolve()]
    assert ours, f"no error names {broken}:\n{proc.stderr}"
    assert any(re.search(case.message, e["message"]) for e in ours), \
        f"no error about /{case.message}/:\n{proc.stderr}"
    hits = [e for e in ours if re.search(case.message, e["message"])]
    assert any(int(e["line"]) == line for e in hits), \
        f"expected the error at {broken.name}:{line}, got:\n{proc.stderr}"
    others = [e for e in parsed if Path(e["file"]).resolve() != broken.resolve()]
    assert not others, f"errors reported for files that were not broken:\n{proc.stderr}"
