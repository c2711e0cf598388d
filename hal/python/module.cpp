// xhal._C: the Python binding of libxhal. It uses only the public C API (xhal_runtime.h), the
// same surface a framework integrator links, plus the generated attribute converters.
#include <cstring>
#include <string>
#include <vector>

#include <pybind11/stl.h>

#include "op_attrs.h"
#include "tensor.h"

namespace py = pybind11;

namespace xhal::python {

xhal_runtime_t runtime() {
  // Created on first use and deliberately never destroyed: tensors held by Python objects may
  // outlive module teardown at interpreter exit, and they free into this runtime.
  static xhal_runtime_t rt = [] {
    xhal_runtime_t r = nullptr;
    if (xhal_runtime_create(&r) != XHAL_OK) throw std::runtime_error(xhal_last_error());
    return r;
  }();
  return rt;
}

void raise_status(xhal_status_t status, const std::string& context) {
  std::string message = xhal_last_error();
  if (!context.empty()) message = context + ": " + message;
  py::object errors = py::module_::import("xhal.errors");
  py::object exc = errors.attr("error_for_status")(static_cast<int>(status), message);
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
  throw py::error_already_set();
}

namespace {

py::dict device_info(int32_t device) {
  xhal_device_properties_t props;
  std::memset(&props, 0, sizeof(props));
  props.struct_size = sizeof(props);
  check(xhal_device_properties(runtime(), device, &props));
  const char *type = nullptr, *path = nullptr, *version = nullptr;
  int32_t local = 0;
  check(xhal_device_origin(runtime(), device, &type, &local, &path, &version));
  py::dict d;
  d["device_type"] = type;
  d["local_index"] = local;
  d["plugin_path"] = path;
  d["plugin_version"] = version;
  d["name"] = std::string(props.name);
  d["vendor"] = std::string(props.vendor);
  d["kind"] = props.kind;
  d["dlpack_device_type"] = props.dlpack_device_type;
  d["total_memory"] = props.total_memory;
  d["alignment"] = props.alignment;
  d["dtype_mask"] = props.dtype_mask;
  d["flags"] = props.flags;
  d["compute_units"] = props.compute_units;
  return d;
}

void launch(int32_t device, uint32_t op_id, int32_t version,
            const std::vector<std::shared_ptr<TensorImpl>>& inputs, const py::dict& attrs,
            const std::vector<std::shared_ptr<TensorImpl>>& outputs) {
  std::unique_ptr<AttrBlock> block = attrs_from_dict(op_id, attrs);
  // Descriptors point into the TensorImpl objects, which the vectors keep alive.
  std::vector<xhal_tensor_t> in_desc(inputs.size()), out_desc(outputs.size());
  std::vector<const xhal_tensor_t*> in_ptrs(inputs.size(), nullptr);
  std::vector<xhal_tensor_t*> out_ptrs(outputs.size(), nullptr);
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i]) continue;
    in_desc[i] = inputs[i]->descriptor();
    in_ptrs[i] = &in_desc[i];
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (!outputs[i]) throw py::value_error("outputs must all be tensors");
    out_desc[i] = outputs[i]->descriptor();
    out_ptrs[i] = &out_desc[i];
  }
  xhal_status_t status;
  {
    py::gil_scoped_release release;
    status = xhal_launch(runtime(), device, op_id, version, in_ptrs.data(),
                         static_cast<int32_t>(in_ptrs.size()), block->data(), out_ptrs.data(),
                         static_cast<int32_t>(out_ptrs.size()));
  }
  check(status);
}

}  // namespace
}  // namespace xhal::python

PYBIND11_MODULE(_C, m) {
  using namespace xhal::python;
  m.doc() = "xhal native runtime (libxhal binding)";
  m.attr("ABI_MAJOR") = XHAL_ABI_MAJOR;
  m.attr("ABI_MINOR") = XHAL_ABI_MINOR;
  m.def("load_plugin", [](const std::string& path) {
    const int32_t before = xhal_runtime_device_count(runtime());
    check(xhal_runtime_load_plugin(runtime(), path.c_str()));
    std::vector<int32_t> added;
    for (int32_t i = before; i < xhal_runtime_device_count(runtime()); ++i) added.push_back(i);
    return added;
  }, py::arg("path"), "Load a plugin library; returns the global indices of its devices.");
  m.def("load_plugins_from_env", [] { check(xhal_runtime_load_plugins_from_env(runtime())); });
  m.def("skipped_plugins", [] {
    std::vector<std::string> out;
    for (int32_t i = 0; i < xhal_runtime_skipped_plugin_count(runtime()); ++i)
      out.emplace_back(xhal_runtime_skipped_plugin(runtime(), i));
    return out;
  });
  m.def("plugins", [] {
    py::list out;
    for (int32_t i = 0; i < xhal_runtime_plugin_count(runtime()); ++i) {
      const char *type = nullptr, *path = nullptr, *version = nullptr, *reason = nullptr;
      int32_t count = 0;
      check(xhal_runtime_plugin_info(runtime(), i, &type, &path, &version, &count, &reason));
      py::dict d;
      d["device_type"] = type;
      d["path"] = path;
      d["version"] = version;
      d["device_count"] = count;
      d["no_device_reason"] = reason;
      out.append(d);
    }
    return out;
  }, "Every loaded plugin: device type, path, version, device count, why it has none.");
  m.def("device_count", [] { return xhal_runtime_device_count(runtime()); });
  m.def("device_info", &device_info, py::arg("device"));
  m.def("synchronize", [](int32_t device) {
    py::gil_scoped_release release;
    xhal_status_t s = xhal_device_synchronize(runtime(), device);
    py::gil_scoped_acquire gil;
    check(s);
  }, py::arg("device"));
  m.def("native_stream", [](int32_t device) {
    intptr_t handle = 0;
    check(xhal_device_native_stream(runtime(), device, &handle));
    return handle;
  }, py::arg("device"));
  m.def("memory_stats", [](int32_t device) {
    uint64_t allocated = 0, cached = 0;
    check(xhal_device_memory_stats(runtime(), device, &allocated, &cached));
    return py::make_tuple(allocated, cached);
  }, py::arg("device"));
  m.def("empty_cache", [](int32_t device) { check(xhal_device_empty_cache(runtime(), device)); },
        py::arg("device"));
  m.def("launch", &launch, py::arg("device"), py::arg("op_id"), py::arg("version"),
        py::arg("inputs"), py::arg("attrs"), py::arg("outputs"));
  bind_tensor(m);
  bind_fast_op(m);
}
