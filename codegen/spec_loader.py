"""Load and validate the operator specs in op_specs/.

Every problem is reported as ``file:line: what is wrong`` (SpecError), never as a traceback:
the YAML is composed node by node so that each JSON-Schema or semantic error can be traced
back to the line that caused it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SPEC_FORMAT = 1
SHAPE_CALL = re.compile(r"^([a-z_][a-z0-9_]*)\((.*)\)$")


class SpecError(Exception):
    """A malformed spec. str() is one or more lines of ``file:line: message``."""


@dataclass(frozen=True)
class DType:
    name: str
    id: int
    size: int
    c_type: str
    numpy: str


@dataclass(frozen=True)
class Operand:
    name: str
    type: str  # a type variable or a fixed dtype name
    doc: str
    optional: bool = False
    host_memory: bool = False
    variadic: bool = False
    min_count: int = 1


@dataclass(frozen=True)
class Attribute:
    name: str
    type: str  # int | float | ints | floats | string | tensor | dtype
    doc: str
    default: Any = None
    required: bool = False
    allowed: tuple | None = None

    @property
    def c_type(self) -> str:
        return {"int": "int64_t", "float": "float", "ints": "const int64_t*",
                "floats": "const float*", "string": "const char*",
                "tensor": "const xhal_tensor_t*", "dtype": "int32_t"}[self.type]

    @property
    def is_list(self) -> bool:
        return self.type in ("ints", "floats")

    @property
    def given_flag(self) -> bool:
        """``default: null`` on a number or list attribute: absent unless the caller sets it,
        which the C struct records in ``int32_t <name>_given`` (a value cannot say "absent")."""
        return self.type in ("int", "float", "ints", "floats") and not self.required \
            and self.default is None


@dataclass(frozen=True)
class ShapeRule:
    output: str
    function: str
    args: tuple[str, ...]


@dataclass
class OpSpec:
    path: Path
    op: str
    op_id: int
    version: int
    status: str
    summary: str
    doc: str
    tags: list[str]
    onnx: dict
    type_vars: dict[str, list[str]]
    inputs: list[Operand]
    outputs: list[Operand]
    attributes: list[Attribute]
    shape: list[ShapeRule]
    tolerance: dict[str, dict[str, float]]
    reference: str
    conformance: dict
    raw: dict = field(repr=False, default_factory=dict)

    @property
    def symbol(self) -> str:
        """C identifier stem, e.g. ``gemm_v1``."""
        return f"{self.op}_v{self.version}"

    @property
    def dtypes(self) -> list[str]:
        """Every dtype some type variable admits (union, in first-seen order)."""
        seen: list[str] = []
        for names in self.type_vars.values():
            seen += [n for n in names if n not in seen]
        return seen

    def type_var_index(self, operand: Operand) -> int:
        """Index of the operand's type variable, or -1 for a fixed dtype."""
        names = list(self.type_vars)
        return names.index(operand.type) if operand.type in names else -1


@dataclass
class SpecSet:
    dtypes: dict[str, DType]
    dtype_sets: dict[str, list[str]]
    ops: list[OpSpec]

    def op(self, name: str) -> OpSpec:
        for spec in self.ops:
            if spec.op == name:
                return spec
        raise KeyError(name)


# --------------------------------------------------------------------------------------------
# YAML with line numbers
# --------------------------------------------------------------------------------------------


def _compose(path: Path) -> yaml.Node:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"{path}:1: cannot read: {exc.strerror}") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark else 1
        raise SpecError(f"{path}:{line}: invalid YAML: {exc.problem}") from None
    if node is None:
        raise SpecError(f"{path}:1: empty file")
    return node


def _line_of(node: yaml.Node, path_parts: list) -> int:
    """1-based line of the YAML node reached by a JSON path (best effort: nearest ancestor)."""
    line = node.start_mark.line + 1
    for part in path_parts:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    child = value
                    line = key.start_mark.line + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if 0 <= part < len(node.value):
                child = node.value[part]
                line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line


def _load(path: Path) -> tuple[dict, yaml.Node]:
    node = _compose(path)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise SpecError(f"{path}:1: expected a mapping at top level")
    return data, node


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


def _schema_errors(schema: dict, data: dict, node: yaml.Node, path: Path) -> list[str]:
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema)
    errors = []
    for err in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        where = list(err.absolute_path)
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            # Point at the first unexpected key, not at the mapping that holds it.
            allowed = set(err.schema.get("properties", {}))
            extra = [k for k in err.instance if k not in allowed]
            if extra:
                where.append(extra[0])
        field_name = ".".join(str(p) for p in where) or "(top level)"
        errors.append(f"{path}:{_line_of(node, where)}: {field_name}: {_short(err)}")
    return errors


def _short(err: Any) -> str:
    if err.validator == "additionalProperties":
        return err.message.replace("Additional properties are not allowed", "unknown field(s)")
    if err.validator == "oneOf" and isinstance(err.instance, dict):
        return "an attribute needs either 'default' or 'required: true' (not both)"
    return err.message


def _semantic_errors(data: dict, node: yaml.Node, path: Path, dtypes: dict) -> list[str]:
    errs: list[str] = []

    def err(where: list, msg: str) -> None:
        errs.append(f"{path}:{_line_of(node, where)}: {msg}")

    if path.stem != data["op"]:
        err(["op"], f"op '{data['op']}' must live in a file named {data['op']}.yaml")
    type_vars = data["type_vars"]
    operand_names: list[str] = []
    for kind in ("inputs", "outputs"):
        for i, operand in enumerate(data[kind]):
            if operand["name"] in operand_names:
                err([kind, i, "name"], f"duplicate operand name '{operand['name']}'")
            operand_names.append(operand["name"])
            t = operand["type"]
            if t not in type_vars and t not in dtypes:
                err([kind, i, "type"], f"type '{t}' is neither a type variable "
                    f"({', '.join(type_vars)}) nor a dtype")
    for i, operand in enumerate(data["outputs"]):
        if operand.get("optional") or operand.get("host_memory"):
            err(["outputs", i], "outputs cannot be optional or host_memory")
    for kind in ("inputs", "outputs"):
        for i, operand in enumerate(data[kind]):
            if operand.get("variadic") and i != len(data[kind]) - 1:
                err([kind, i, "variadic"], "only the last operand may be variadic")
            if operand.get("variadic") and operand.get("optional"):
                err([kind, i, "variadic"], "a variadic operand cannot also be optional")
    attr_names = [a["name"] for a in data.get("attributes", [])]
    for i, attr in enumerate(data.get("attributes", [])):
        if attr["name"] in operand_names:
            err(["attributes", i, "name"], f"attribute '{attr['name']}' clashes with an operand")
        if "default" in attr:
            d = attr["default"]
            ok = d is None or {"int": isinstance(d, int) and not isinstance(d, bool),
                  "float": isinstance(d, (int, float)) and not isinstance(d, bool),
                  "ints": isinstance(d, list) and all(isinstance(x, int) for x in d),
                  "floats": isinstance(d, list) and all(isinstance(x, (int, float)) for x in d),
                  "string": isinstance(d, str),
                  "tensor": d is None,
                  "dtype": isinstance(d, str) and d in dtypes}[attr["type"]]
            if not ok:
                err(["attributes", i, "default"], f"default {d!r} is not of type {attr['type']}")
            elif d is not None and "allowed" in attr and d not in attr["allowed"]:
                err(["attributes", i, "default"],
                    f"default {d!r} is not among allowed {attr['allowed']}")
    used_vars = {o["type"] for o in data["inputs"] + data["outputs"]}
    for tv in type_vars:
        if tv not in used_vars:
            err(["type_vars", tv], f"type variable '{tv}' is not used by any operand")
    outputs = [o["name"] for o in data["outputs"]]
    for out, rule in data["shape"].items():
        if out not in outputs:
            err(["shape", out],
                f"shape rule for unknown output '{out}' (outputs: {', '.join(outputs)})")
        m = SHAPE_CALL.match(rule)
        args = [a.strip() for a in m.group(2).split(",") if a.strip()] if m else []
        for a in args:
            if a not in operand_names and a not in attr_names:
                err(["shape", out], f"shape rule argument '{a}' is not an input or attribute")
    for out in outputs:
        if out not in data["shape"]:
            err(["shape"], f"output '{out}' has no shape rule")
    for dt in data["tolerance"]:
        if not any(dt in v for v in type_vars.values()):
            err(["tolerance", dt], f"tolerance for dtype '{dt}' that no type variable admits")
    for tv, names in type_vars.items():
        for dt in names:
            if dt not in data["tolerance"]:
                err(["type_vars", tv], f"dtype '{dt}' has no tolerance entry")
    input_names = [o["name"] for o in data["inputs"]]
    conf = data["conformance"]
    for name in conf.get("values", {}):
        if name not in input_names:
            err(["conformance", "values", name], f"value domain for unknown input '{name}'")
    if conf["shapes"] == "explicit" and not conf.get("cases"):
        err(["conformance"], "shapes: explicit needs a non-empty 'cases' list")
    for i, case in enumerate(conf.get("cases", [])):
        for name in case["inputs"]:
            if name not in input_names:
                err(["conformance", "cases", i, "inputs", name],
                    f"case names unknown input '{name}'")
        for name in input_names:
            opt = next(o for o in data["inputs"] if o["name"] == name).get("optional", False)
            if name not in case["inputs"] and not opt:
                err(["conformance", "cases", i, "inputs"], f"case lacks required input '{name}'")
        for name in case.get("attrs", {}):
            if name not in attr_names:
                err(["conformance", "cases", i, "attrs", name],
                    f"case sets unknown attribute '{name}'")
    return errs


def _to_spec(path: Path, data: dict) -> OpSpec:
    def operand(d: dict) -> Operand:
        return Operand(d["name"], d["type"], d.get("doc", ""), d.get("optional", False),
                       d.get("host_memory", False), d.get("variadic", False),
                       d.get("min_count", 1))

    shape = []
    for out, rule in data["shape"].items():
        m = SHAPE_CALL.match(rule)
        assert m is not None
        args = tuple(a.strip() for a in m.group(2).split(",") if a.strip())
        shape.append(ShapeRule(out, m.group(1), args))
    attrs = [Attribute(a["name"], a["type"], a.get("doc", ""), a.get("default"),
                       a.get("required", False), tuple(a["allowed"]) if "allowed" in a else None)
             for a in data.get("attributes", [])]
    return OpSpec(
        path=path, op=data["op"], op_id=data["op_id"], version=data["version"],
        status=data["status"], summary=data["summary"].strip(), doc=data["doc"].strip(),
        tags=data.get("tags", []), onnx=data["onnx"], type_vars=data["type_vars"],
        inputs=[operand(o) for o in data["inputs"]], outputs=[operand(o) for o in data["outputs"]],
        attributes=attrs, shape=shape, tolerance=data["tolerance"], reference=data["reference"],
        conformance=data["conformance"], raw=data)


def load_specs(root: Path | str) -> SpecSet:
    """Load ``root/dtypes.yaml`` and every ``root/ops/*.yaml``.

    Raises SpecError listing every problem found, one ``file:line: message`` per line."""
    root = Path(root)
    schema = json.loads((root / "schema" / "opspec.schema.json").read_text(encoding="utf-8"))
    dt_data, _ = _load(root / "dtypes.yaml")
    dtypes = {name: DType(name, d["id"], d["size"], d["c_type"], d["numpy"])
              for name, d in dt_data["dtypes"].items()}
    dtype_sets = dt_data.get("sets", {})
    errors: list[str] = []
    ops: list[OpSpec] = []
    seen_ids: dict[int, Path] = {}
    seen_names: dict[str, Path] = {}
    files = sorted((root / "ops").glob("*.yaml"))
    named = {path.stem for path in files}  # each file is named after its op (checked below)
    if not files:
        raise SpecError(f"{root / 'ops'}:1: no operator specs found")
    for path in files:
        try:
            data, node = _load(path)
        except SpecError as exc:
            errors.append(str(exc))
            continue
        file_errors = _schema_errors(schema, data, node, path)
        if not file_errors:
            file_errors = _semantic_errors(data, node, path, dtypes)
        if not file_errors:
            if data["op_id"] in seen_ids:
                file_errors.append(f"{path}:{_line_of(node, ['op_id'])}: op_id {data['op_id']} "
                                   f"is already used by {seen_ids[data['op_id']].name}")
            if data["op"] in seen_names:
                file_errors.append(f"{path}:{_line_of(node, ['op'])}: op '{data['op']}' "
                                   f"is already defined in {seen_names[data['op']].name}")
        if file_errors:
            errors += file_errors
            continue
        seen_ids[data["op_id"]] = path
        seen_names[data["op"]] = path
        ops.append(_to_spec(path, data))
    # Ops whose own file has errors still count as known, so that one broken file is not
    # echoed by every decomposition that uses its op.
    known = {spec.op for spec in ops} | named
    by_name = {spec.op: spec for spec in ops}
    for spec in ops:
        errors += _decomposition_errors(spec, known, by_name, set(dtypes))
    if errors:
        raise SpecError("\n".join(errors))
    ops.sort(key=lambda s: s.op_id)
    return SpecSet(dtypes=dtypes, dtype_sets=dtype_sets, ops=ops)


def _decomposition_errors(spec: OpSpec, known_ops: set[str], specs: dict[str, OpSpec],
                          dtype_names: set[str]) -> list[str]:
    """Check ``body`` and every ``variants[k].body``: known ops (``specs`` has those whose own
    file is valid, for the attribute and operand checks), values defined before use, optional
    inputs used only where they are known to be present, and every output defined."""
    dec = spec.raw.get("decomposition") or {}
    if not dec.get("body"):
        return []
    node = _compose(spec.path)
    errs: list[str] = []
    attrs = {a.name: a for a in spec.attributes}
    optional = {o.name for o in spec.inputs if o.optional}
    variants = dec.get("variants") or []
    for k, variant in enumerate(variants):
        errs += _when_errors(spec, node, k, variant["when"], attrs, optional)
    # the default body runs when no variant matches: an optional input is known present there
    # only if a variant catches exactly its absence
    absent_caught = {name for v in variants for name, cond in v["when"].items()
                     if name in optional and cond == "absent" and len(v["when"]) == 1}
    errs += _body_errors(spec, node, ["decomposition", "body"], dec["body"], absent_caught,
                         known_ops, specs, dtype_names)
    for k, variant in enumerate(variants):
        present = {name for name, cond in variant["when"].items()
                   if name in optional and cond == "present"}
        errs += _body_errors(spec, node, ["decomposition", "variants", k, "body"],
                             variant["body"], present, known_ops, specs, dtype_names)
    return errs


def _when_errors(spec: OpSpec, node: yaml.Node, k: int, when: dict, attrs: dict[str, Attribute],
                 optional: set[str]) -> list[str]:
    errs = []
    for name, cond in when.items():
        where = f"{spec.path}:{_line_of(node, ['decomposition', 'variants', k, 'when', name])}"
        if name in optional:
            if cond not in ("present", "absent"):
                errs.append(f"{where}: condition on optional input '{name}' must be 'present' "
                            f"or 'absent', got {cond!r}")
            continue
        attr = attrs.get(name)
        if attr is None:
            errs.append(f"{where}: condition names '{name}', which is neither an attribute nor "
                        f"an optional input of {spec.op}")
            continue
        for value in cond if isinstance(cond, list) else [cond]:
            if not _attr_value_ok(attr, value):
                errs.append(f"{where}: condition value {value!r} is not a {attr.type} value "
                            f"of attribute '{name}'"
                            + (f" (allowed: {list(attr.allowed)})" if attr.allowed else ""))
    return errs


def _attr_value_ok(attr: Attribute, value: Any) -> bool:
    if attr.allowed is not None:
        return value in attr.allowed
    if attr.type == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if attr.type == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if attr.type == "string":
        return isinstance(value, str)
    return False  # lists, tensors and dtypes are not conditions


def _body_errors(spec: OpSpec, node: yaml.Node, at: list, body: list, present: set[str],
                 known_ops: set[str], specs: dict[str, OpSpec],
                 dtype_names: set[str]) -> list[str]:
    defined = {o.name for o in spec.inputs}
    maybe_absent = {o.name for o in spec.inputs if o.optional} - present
    attr_names = {a.name for a in spec.attributes}
    type_vars = set(spec.type_vars)
    errs: list[str] = []

    def ref_ok(value: Any) -> bool:
        return not (isinstance(value, str) and value.startswith("@")) or value[1:] in attr_names

    for i, step in enumerate(body):
        where = f"{spec.path}:{_line_of(node, [*at, i])}"
        name = step["op"]
        if name == spec.op or name not in known_ops:
            errs.append(f"{where}: decomposition uses unknown op '{name}'")
        callee = specs.get(name) if name != spec.op else None
        for cname, const in (step.get("constants") or {}).items():
            if not isinstance(const, dict) or "value" not in const or "dtype" not in const:
                errs.append(f"{where}: constant '{cname}' needs {{value, dtype}}")
                continue
            if const["dtype"] not in type_vars and const["dtype"] not in dtype_names:
                errs.append(f"{where}: constant '{cname}' has dtype {const['dtype']!r}, neither "
                            f"a type variable of {spec.op} nor a dtype")
            values = const["value"] if isinstance(const["value"], list) else [const["value"]]
            for v in values:
                if not ref_ok(v):
                    errs.append(f"{where}: constant '{cname}' refers to unknown attribute '{v}'")
            defined.add(cname)
        callee_inputs = callee.inputs if callee else []
        variadic = bool(callee_inputs) and callee_inputs[-1].variadic
        if callee and not variadic and len(step["inputs"]) > len(callee_inputs):
            errs.append(f"{where}: {name} takes {len(callee_inputs)} input(s), the step gives "
                        f"{len(step['inputs'])}")
        for k, value in enumerate(step["inputs"]):
            if not value:
                continue
            if value not in defined:
                errs.append(f"{where}: decomposition input '{value}' is not defined before use")
            elif value in maybe_absent:
                slot = callee_inputs[min(k, len(callee_inputs) - 1)] if callee_inputs else None
                if slot is not None and not slot.optional:
                    errs.append(
                        f"{where}: optional input '{value}' may be absent here but {name}'s "
                        f"input {slot.name} is required (use a variant with "
                        f"when: {{{value}: absent}})")
        callee_attrs = {a.name: a for a in callee.attributes} if callee else {}
        for aname, value in (step.get("attrs") or {}).items():
            if callee and aname not in callee_attrs:
                errs.append(f"{where}: {name} has no attribute '{aname}'")
                continue
            if not ref_ok(value):
                errs.append(f"{where}: decomposition refers to unknown attribute '{value}'")
            kind = callee_attrs[aname].type if callee else None
            if (kind == "dtype" and not str(value).startswith("@")
                    and value not in type_vars and value not in dtype_names):
                errs.append(f"{where}: {name}.{aname} = {value!r} is neither a dtype nor a type "
                            f"variable of {spec.op}")
        if callee and len(step["outputs"]) > len(callee.outputs) \
                and not callee.outputs[-1].variadic:
            errs.append(f"{where}: {name} has {len(callee.outputs)} output(s), the step names "
                        f"{len(step['outputs'])}")
        defined |= set(step["outputs"])
        maybe_absent -= set(step["outputs"])
    for out in spec.outputs:
        if out.name not in defined:
            errs.append(f"{spec.path}:{_line_of(node, at)}: decomposition never defines "
                        f"output '{out.name}'")
    return errs

