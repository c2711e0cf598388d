// The eager fast path for elementwise ops, where Python's per-call cost would dominate the
// kernel: type checks, broadcasting, output allocation and the launch in one native call.
// It handles only the plain case and returns None for anything else (the Python dispatcher
// then takes the general path, which also words every error).
#include <memory>
#include <vector>

#include <pybind11/stl.h>

#include "op_attrs.h"
#include "tensor.h"

namespace py = pybind11;

namespace xhal::python {
namespace {

class FastOp {
 public:
  enum Rule { kSame = 0, kBroadcast = 1 };

  FastOp(uint32_t op_id, int32_t version, std::vector<int32_t> type_var,
         std::vector<uint64_t> allowed, int rule, std::vector<int32_t> rule_inputs,
         int32_t out_type_var)
      : op_id_(op_id), version_(version), type_var_(std::move(type_var)),
        allowed_(std::move(allowed)), rule_(rule), rule_inputs_(std::move(rule_inputs)),
        out_type_var_(out_type_var) {}

  py::object call(const py::tuple& inputs, const py::dict& attrs) const {
    const size_t n = inputs.size();
    if (n != type_var_.size()) return py::none();
    std::vector<std::shared_ptr<TensorImpl>> impls(n);
    int32_t bound[XHAL_MAX_TYPE_VARS];
    for (int32_t& b : bound) b = XHAL_DTYPE_UNDEFINED;
    static const py::str kImpl("_impl");
    int32_t device = kHostDevice;
    for (size_t i = 0; i < n; ++i) {
      py::handle obj = inputs[i];
      if (!py::hasattr(obj, kImpl)) return py::none();
      py::object impl_obj = obj.attr(kImpl);
      if (!py::isinstance<TensorImpl>(impl_obj)) return py::none();
      auto impl = impl_obj.cast<std::shared_ptr<TensorImpl>>();
      if (impl->device == kHostDevice || (i > 0 && impl->device != device)) return py::none();
      device = impl->device;
      const int32_t dt = impl->dtype;
      if (!(allowed_[i] & (1ull << dt))) return py::none();
      int32_t& slot = bound[type_var_[i]];
      if (slot == XHAL_DTYPE_UNDEFINED) slot = dt;
      else if (slot != dt) return py::none();
      impls[i] = std::move(impl);
    }
    if (n == 0) return py::none();
    std::vector<int64_t> shape;
    if (rule_ == kSame) {
      shape = impls[rule_inputs_[0]]->shape;
    } else if (!broadcast(impls, shape)) {
      return py::none();
    }
    std::unique_ptr<AttrBlock> block = attrs_from_dict(op_id_, attrs);
    auto out = TensorImpl::empty(device, bound[out_type_var_], shape);
    std::vector<xhal_tensor_t> desc(n);
    std::vector<const xhal_tensor_t*> in_ptrs(n);
    for (size_t i = 0; i < n; ++i) {
      desc[i] = impls[i]->descriptor();
      in_ptrs[i] = &desc[i];
    }
    xhal_tensor_t out_desc = out->descriptor();
    xhal_tensor_t* out_ptr = &out_desc;
    xhal_status_t status;
    {
      py::gil_scoped_release release;
      status = xhal_launch(runtime(), device, op_id_, version_, in_ptrs.data(),
                           static_cast<int32_t>(n), block->data(), &out_ptr, 1);
    }
    check(status);
    return py::cast(out);
  }

 private:
  bool broadcast(const std::vector<std::shared_ptr<TensorImpl>>& impls,
                 std::vector<int64_t>& shape) const {
    size_t rank = 0;
    for (int32_t i : rule_inputs_) rank = std::max(rank, impls[i]->shape.size());
    shape.assign(rank, 1);
    for (int32_t i : rule_inputs_) {
      const std::vector<int64_t>& s = impls[i]->shape;
      const size_t off = rank - s.size();
      for (size_t d = 0; d < s.size(); ++d) {
        int64_t& o = shape[off + d];
        if (s[d] == o || s[d] == 1) continue;
        if (o != 1) return false;  // not broadcastable: the general path says why
        o = s[d];
      }
    }
    return true;
  }

  uint32_t op_id_;
  int32_t version_;
  std::vector<int32_t> type_var_;  // per input
  std::vector<uint64_t> allowed_;  // per input: bit (1 << xhal_dtype_t)
  int rule_;
  std::vector<int32_t> rule_inputs_;
  int32_t out_type_var_;
};

}  // namespace

void bind_fast_op(py::module_& m) {
  py::class_<FastOp>(m, "FastOp")
      .def(py::init<uint32_t, int32_t, std::vector<int32_t>, std::vector<uint64_t>, int,
                    std::vector<int32_t>, int32_t>(),
           py::arg("op_id"), py::arg("version"), py::arg("type_var"), py::arg("allowed"),
           py::arg("rule"), py::arg("rule_inputs"), py::arg("out_type_var"))
      .def("__call__", &FastOp::call, py::arg("inputs"), py::arg("attrs"),
           "The output TensorImpl, or None when the call needs the general path.");
}

}  // namespace xhal::python
