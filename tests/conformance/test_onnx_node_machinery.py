"""The ONNX node-test machinery on small hand-built models: op and attribute mapping, value
conversion, positional binding, applicability, exclusions, expanded models, the CLI report."""

from __future__ import annotations

import json
import types
from typing import Any

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import xhal  # noqa: E402
from xhal.conformance import cli  # noqa: E402
from xhal.conformance import onnx_node_tests as nt  # noqa: E402

HAS_RUNTIME = all(hasattr(xhal, n) for n in ("devices", "device", "ops", "Tensor"))
needs_runtime = pytest.mark.skipif(not HAS_RUNTIME, reason="installed xhal has no runtime")


def _test(
    name: str,
    nodes: list,
    inputs: dict[str, np.ndarray],
    outputs: dict[str, np.ndarray],
    rtol: float = 1e-3,
    atol: float = 1e-7,
) -> Any:
    def info(n: str, a: np.ndarray) -> Any:
        return helper.make_tensor_value_info(
            n, helper.np_dtype_to_tensor_dtype(a.dtype), list(a.shape)
        )

    graph = helper.make_graph(
        nodes,
        name,
        [info(n, a) for n, a in inputs.items()],
        [info(n, a) for n, a in outputs.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    return types.SimpleNamespace(
        name=name,
        model=model,
        data_sets=[(list(inputs.values()), list(outputs.values()))],
        rtol=rtol,
        atol=atol,
    )


@pytest.fixture(scope="module")
def specs() -> nt.Specs:
    return nt.Specs.of(xhal.specs())


def _gemm_test(trans_a: int = 1) -> Any:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 3)).astype(np.float32)
    b = rng.standard_normal((4, 5)).astype(np.float32)
    y = (a.T if trans_a else a) @ b * 0.5
    node = helper.make_node("Gemm", ["a", "b", ""], ["y"], transA=trans_a, alpha=0.5)
    return _test("test_fake_gemm", [node], {"a": a, "b": b}, {"y": y.astype(np.float32)})


def test_attribute_conversion(specs: nt.Specs) -> None:
    gemm = specs.by_op_type["Gemm"]
    assert nt.convert_attribute(gemm, helper.make_attribute("transA", 1), {}) == ("trans_a", 1)
    assert nt.convert_attribute(gemm, helper.make_attribute("alpha", 0.25), {}) == ("alpha", 0.25)
    with pytest.raises(nt.SpecGap):
        nt.convert_attribute(gemm, helper.make_attribute("no_such", 1), {})
    fake = {
        "op": "fake",
        "onnx": {"op_type": "Fake", "since_version": 1, "attributes": {"mode_name": "mode"}},
        "attributes": [
            {"name": "mode_name", "type": "string"},
            {"name": "to", "type": "dtype"},
            {"name": "value", "type": "tensor"},
            {"name": "sizes", "type": "ints"},
        ],
    }
    ids = {1: "float32", 7: "int64"}
    assert nt.convert_attribute(fake, helper.make_attribute("mode", b"nearest"), ids) == (
        "mode_name",
        "nearest",
    )
    assert nt.convert_attribute(fake, helper.make_attribute("to", TensorProto.INT64), ids) == (
        "to",
        "int64",
    )
    with pytest.raises(nt.NotApplicable):
        nt.convert_attribute(fake, helper.make_attribute("to", TensorProto.FLOAT8E4M3FN), ids)
    t = numpy_helper.from_array(np.array([1.5, 2.0], np.float32))
    name, value = nt.convert_attribute(fake, helper.make_attribute("value", t), ids)
    assert name == "value" and value.dtype == np.float32 and value.tolist() == [1.5, 2.0]
    assert nt.convert_attribute(fake, helper.make_attribute("sizes", [1, 2]), ids)[1] == [1, 2]


def test_dtype_ids_follow_tensorproto(specs: nt.Specs) -> None:
    for tp, name in [
        (TensorProto.FLOAT, "float32"),
        (TensorProto.INT64, "int64"),
        (TensorProto.BOOL, "bool"),
        (TensorProto.FLOAT16, "float16"),
        (TensorProto.BFLOAT16, "bfloat16"),
        (TensorProto.DOUBLE, "float64"),
    ]:
        assert specs.dtype_by_id[int(tp)] == name


def test_binding_absent_and_variadic() -> None:
    spec = {
        "op": "v",
        "inputs": [{"name": "x", "type": "T"}, {"name": "rest", "type": "T", "variadic": True}],
    }
    bound = nt._bind(spec, ["a", "b", "c"])
    assert [(i["name"], n) for i, n in bound] == [("x", "a"), ("rest", "b"), ("rest", "c")]
    opt = {"op": "o", "inputs": [{"name": "x", "type": "T"}, {"name": "y", "type": "T"}]}
    assert [n for _, n in nt._bind(opt, ["a", ""])] == ["a", None]
    assert [n for _, n in nt._bind(opt, ["a", "", ""])] == ["a", None]
    with pytest.raises(nt.SpecGap):
        nt._bind(opt, ["a", "b", "c"])


def test_applicability(specs: nt.Specs) -> None:
    x8 = np.arange(6, dtype=np.int16).reshape(2, 3)
    relu8 = _test(
        "test_fake_relu_int16",
        [helper.make_node("Relu", ["x"], ["y"])],
        {"x": x8},
        {"y": np.maximum(x8, 0)},
    )
    status, _, r = nt.triage(relu8, specs, {})
    assert status == nt.NOT_APPLICABLE and "int16" in r.message
    unknown = _test(
        "test_fake_nope", [helper.make_node("NoSuchOp", ["x"], ["y"])], {"x": x8}, {"y": x8}
    )
    status, _, r = nt.triage(unknown, specs, {})
    assert status == nt.NOT_APPLICABLE and "no spec" in r.message
    gemm = _gemm_test()
    assert nt.triage(gemm, specs, {})[0] == "run"
    status, _, r = nt.triage(gemm, specs, {"test_fake_gemm": "deliberately left out"})
    assert status == nt.EXCLUDED and r.message == "deliberately left out"
    bad_attr = _test(
        "test_fake_gemm_attr",
        [helper.make_node("Gemm", ["a", "b"], ["y"], no_such=1)],
        {"a": np.ones((2, 2), np.float32), "b": np.ones((2, 2), np.float32)},
        {"y": np.full((2, 2), 2, np.float32)},
    )
    status, _, r = nt.triage(bad_attr, specs, {})
    assert status == "fail" and "no_such" in r.message  # the spec cannot express it: a failure
    extra_out = _test(
        "test_fake_relu_two_outputs",
        [helper.make_node("Relu", ["x"], ["y", "mask"])],
        {"x": np.ones(3, np.float32)},
        {"y": np.ones(3, np.float32)},
    )
    status, _, r = nt.triage(extra_out, specs, {})
    assert status == "fail" and "mask" in r.message


@needs_runtime
def test_runs_single_and_expanded_models(specs: nt.Specs, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nt, "_base_op_type", lambda name: "Mul")  # no need to load ONNX's list
    cpu = xhal.device("cpu")
    r = nt.run_test(_gemm_test(), cpu, specs, {})
    assert r.outcome == "pass", r.message
    x = np.array([[1.0, np.nan], [-2.0, 3.0]], np.float32)
    y = np.array([[2.0, 4.0], [0.5, 1.0]], np.float32)
    nodes = [helper.make_node("Mul", ["x", "y"], ["t"]), helper.make_node("Add", ["t", "x"], ["z"])]
    expanded = _test("test_fake_muladd_expanded", nodes, {"x": x, "y": y}, {"z": x * y + x})
    r = nt.run_test(expanded, cpu, specs, {})
    assert r.outcome == "pass", r.message  # NaN == NaN
    assert r.op == "mul[expanded]"
    wrong = _test("test_fake_muladd_expanded", nodes, {"x": x, "y": y}, {"z": x * y})
    r = nt.run_test(wrong, cpu, specs, {})
    assert r.outcome == "fail" and "max abs err" in r.message


def test_data_conversion_and_onnx_defaults(specs: nt.Specs) -> None:
    assert nt._array(np.float32(2.5)).shape == ()
    t = numpy_helper.from_array(np.array([1, 2], np.int64))
    assert nt._array(t).tolist() == [1, 2]
    seq = [np.ones(2)]
    assert nt._array(seq) is seq  # a sequence stays one: not applicable
    # an attribute the spec lacks, set to ONNX's default, is no gap (Cast's saturate=1)
    assert nt._is_onnx_default("Cast", 21, helper.make_attribute("saturate", 1))
    assert not nt._is_onnx_default("Cast", 21, helper.make_attribute("saturate", 0))
    assert not nt._is_onnx_default("Relu", 14, helper.make_attribute("nonsense", 1))


@needs_runtime
def test_report_and_cli(monkeypatch: pytest.MonkeyPatch, capsys: Any, tmp_path: Any) -> None:
    tests = (_gemm_test(), _gemm_test())
    tests[1].name = "test_fake_gemm_broken"
    tests[1].data_sets[0][1][0] = tests[1].data_sets[0][1][0] + 1
    x8 = np.arange(6, dtype=np.int16)
    na = _test(
        "test_fake_relu_int16", [helper.make_node("Relu", ["x"], ["y"])], {"x": x8}, {"y": x8}
    )
    monkeypatch.setattr(nt, "load_tests", lambda: (*tests, na))
    out = tmp_path / "r.json"
    assert cli.main(["--onnx-node-tests", "--device", "cpu", "--json", str(out)]) == 1
    text = capsys.readouterr().out
    lines = text.rstrip().splitlines()
    assert lines[-1] == "1 passed, 1 failed"
    assert "FAIL test_fake_gemm_broken on cpu:0" in text and "max abs err" in text
    assert any("1 not applicable" in ln for ln in lines)
    assert any(ln.startswith("pass rate 1/2 = 50.0%") for ln in lines)
    doc = json.loads(out.read_text())
    assert doc["onnx_node_tests"]["applicable"] == 2
    assert doc["onnx_node_tests"]["not_applicable_tests"].keys() == {"test_fake_relu_int16"}
    assert cli.main(["--onnx-node-tests", "--list", "--filter", "relu"]) == 0
    assert capsys.readouterr().out.split() == ["test_fake_relu_int16"]
