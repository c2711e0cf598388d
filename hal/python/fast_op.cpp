// The eager fast path for ops where Python's per-call cost would dominate a small kernel
// (elementwise ops, matmul, gemm, softmax, conv): type checks, the output shape, output allocation
// and the launch in one native call. It handles only the plain case and returns None for
// anything else (the Python dispatcher then takes the general path, which also words every
// error).
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <pybind11/stl.h>
#include <xhal/kit/conv_geometry.h>

#include "op_attrs.h"
#include "tensor.h"

namespace py = pybind11;

namespace xhal::python {
namespace {

class FastOp {
 public:
  // The spec's shape rules this path computes natively (the Python ones in shape_rules/ are
  // the definition; any case they would reject goes to the general path).
  enum Rule { kSame = 0, kBroadcast = 1, kMatmul = 2, kGemm = 3, kSoftmax = 4, kConv = 5 };

  FastOp(uint32_t op_id, int32_t version, std::vector<int32_t> type_var,
         std::vector<uint64_t> allowed, std::vector<bool> optional, int rule,
         std::vector<int32_t> rule_inputs, std::vector<std::pair<std::string, int64_t>> rule_ints,
         int32_t out_type_var)
      : op_id_(op_id), version_(version), type_var_(std::move(type_var)),
        allowed_(std::move(allowed)), optional_(std::move(optional)), rule_(rule),
        rule_inputs_(std::move(rule_inputs)), out_type_var_(out_type_var) {
    for (auto& [name, fallback] : rule_ints) rule_ints_.emplace_back(py::str(name), fallback);
    // kConv reads the attribute block as conv v1's struct: no other op may use it.
    if (rule_ == kConv && (op_id_ != XHAL_OP_CONV || version_ != 1)) rule_ = -1;
  }

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
      if (obj.is_none() && optional_[i]) continue;  // an absent optional input: nullptr
      if (!py::hasattr(obj, kImpl)) return py::none();
      py::object impl_obj = obj.attr(kImpl);
      if (!py::isinstance<TensorImpl>(impl_obj)) return py::none();
      auto impl = impl_obj.cast<std::shared_ptr<TensorImpl>>();
      if (impl->device == kHostDevice || (device != kHostDevice && impl->device != device))
        return py::none();
      device = impl->device;
      const int32_t dt = impl->dtype;
      if (!(allowed_[i] & (1ull << dt))) return py::none();
      int32_t& slot = bound[type_var_[i]];
      if (slot == XHAL_DTYPE_UNDEFINED) slot = dt;
      else if (slot != dt) return py::none();
      impls[i] = std::move(impl);
    }
    if (device == kHostDevice) return py::none();
    std::unique_ptr<AttrBlock> block;
    try {
      block = attrs_from_dict(op_id_, attrs);
    } catch (const std::exception&) {  // a bad attribute: the general path words the error
      return py::none();
    }
    std::vector<int64_t> shape;
    if (!output_shape(impls, attrs, *block, shape)) return py::none();
    auto out = TensorImpl::empty(device, bound[out_type_var_], shape);
    std::vector<xhal_tensor_t> desc(n);
    std::vector<const xhal_tensor_t*> in_ptrs(n, nullptr);
    for (size_t i = 0; i < n; ++i) {
      if (!impls[i]) continue;
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
  using Impls = std::vector<std::shared_ptr<TensorImpl>>;
  using Shape = std::vector<int64_t>;

  bool output_shape(const Impls& impls, const py::dict& attrs, const AttrBlock& block,
                    Shape& shape) const {
    switch (rule_) {
      case kSame:
        if (!impls[rule_inputs_[0]]) return false;
        shape = impls[rule_inputs_[0]]->shape;
        return true;
      case kBroadcast:
        return broadcast(impls, shape);
      case kMatmul:
        return matmul(impls[rule_inputs_[0]], impls[rule_inputs_[1]], shape);
      case kGemm:
        return gemm(impls[rule_inputs_[0]], impls[rule_inputs_[1]], impls[rule_inputs_[2]],
                    rule_int(attrs, 0), rule_int(attrs, 1), shape);
      case kSoftmax: {  // X's shape; the axis must lie in [-rank, rank)
        if (!impls[rule_inputs_[0]]) return false;
        shape = impls[rule_inputs_[0]]->shape;
        const auto rank = static_cast<int64_t>(shape.size());
        const int64_t axis = rule_int(attrs, 0);
        return axis >= -rank && axis < rank;
      }
      case kConv:  // ONNX's conv shape inference, as the plugin kit (and so the kernels) has it
        return conv(impls[rule_inputs_[0]], impls[rule_inputs_[1]], impls[rule_inputs_[2]],
                    *static_cast<const xhal_conv_v1_attrs_t*>(block.data()), shape);
      default:
        return false;
    }
  }

  // The value of the rule's k-th integer attribute: passed, or the spec's default; kNotInt
  // (which every rule rejects, sending the call to the general path) for anything else.
  static constexpr int64_t kNotInt = std::numeric_limits<int64_t>::min();
  int64_t rule_int(const py::dict& attrs, size_t k) const {
    const auto& [name, fallback] = rule_ints_[k];
    if (!attrs.contains(name)) return fallback;
    py::handle v = attrs[name];
    if (!py::isinstance<py::int_>(v)) return kNotInt;
    try {
      return v.cast<int64_t>();
    } catch (const py::cast_error&) {  // beyond int64
      return kNotInt;
    }
  }

  bool broadcast(const Impls& impls, Shape& shape) const {
    size_t rank = 0;
    for (int32_t i : rule_inputs_)
      if (impls[i]) rank = std::max(rank, impls[i]->shape.size());
    shape.assign(rank, 1);
    for (int32_t i : rule_inputs_) {
      if (!impls[i]) continue;
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

  // numpy.matmul (shape_rules.matmul): 1-D operands promoted, batch dimensions broadcast.
  static bool matmul(const std::shared_ptr<TensorImpl>& a, const std::shared_ptr<TensorImpl>& b,
                     Shape& shape) {
    if (!a || !b) return false;
    const Shape& sa = a->shape;
    const Shape& sb = b->shape;
    if (sa.empty() || sb.empty()) return false;
    const int64_t k_a = sa.back();
    const int64_t k_b = sb.size() == 1 ? sb[0] : sb[sb.size() - 2];
    if (k_a != k_b) return false;
    const size_t batch_a = sa.size() > 2 ? sa.size() - 2 : 0;
    const size_t batch_b = sb.size() > 2 ? sb.size() - 2 : 0;
    const size_t rank = std::max(batch_a, batch_b);
    shape.assign(rank, 1);
    for (size_t d = 0; d < rank; ++d) {
      const int64_t da = d + batch_a >= rank ? sa[d + batch_a - rank] : 1;
      const int64_t db = d + batch_b >= rank ? sb[d + batch_b - rank] : 1;
      if (da != db && da != 1 && db != 1) return false;
      shape[d] = da == 1 ? db : da;
    }
    if (sa.size() > 1) shape.push_back(sa[sa.size() - 2]);
    if (sb.size() > 1) shape.push_back(sb.back());
    return true;
  }

  // ONNX Gemm (shape_rules.gemm): op(A) [M, K] x op(B) [K, N]; C broadcasts to [M, N].
  static bool gemm(const std::shared_ptr<TensorImpl>& a, const std::shared_ptr<TensorImpl>& b,
                   const std::shared_ptr<TensorImpl>& c, int64_t trans_a, int64_t trans_b,
                   Shape& shape) {
    if (!a || !b || a->shape.size() != 2 || b->shape.size() != 2) return false;
    if ((trans_a != 0 && trans_a != 1) || (trans_b != 0 && trans_b != 1)) return false;
    const int64_t m = a->shape[trans_a], k = a->shape[1 - trans_a];
    const int64_t k2 = b->shape[trans_b], n = b->shape[1 - trans_b];
    if (k != k2) return false;
    if (c) {
      const Shape& sc = c->shape;
      if (sc.size() > 2) return false;
      const int64_t want[2] = {n, m};  // from the last dimension backwards
      for (size_t d = 0; d < sc.size(); ++d) {
        const int64_t got = sc[sc.size() - 1 - d];
        if (got != 1 && got != want[d]) return false;
      }
    }
    shape = {m, n};
    return true;
  }

  static bool conv(const std::shared_ptr<TensorImpl>& x, const std::shared_ptr<TensorImpl>& w,
                   const std::shared_ptr<TensorImpl>& b, const xhal_conv_v1_attrs_t& attrs,
                   Shape& shape) {
    if (!x || !w) return false;
    xhal::kit::ConvGeometry g;
    return xhal::kit::conv_geometry(x->shape.data(), static_cast<int>(x->shape.size()),
                                    w->shape.data(), static_cast<int>(w->shape.size()),
                                    b ? b->shape.data() : nullptr,
                                    b ? static_cast<int>(b->shape.size()) : 0, attrs, &g, &shape,
                                    nullptr) == XHAL_OK;
  }

  uint32_t op_id_;
  int32_t version_;
  std::vector<int32_t> type_var_;  // per input
  std::vector<uint64_t> allowed_;  // per input: bit (1 << xhal_dtype_t)
  std::vector<bool> optional_;     // per input: may be None
  int rule_;
  std::vector<int32_t> rule_inputs_;                     // the rule's tensor arguments
  std::vector<std::pair<py::str, int64_t>> rule_ints_;  // its attribute arguments, defaults
  int32_t out_type_var_;
};

}  // namespace

void bind_fast_op(py::module_& m) {
  py::class_<FastOp>(m, "FastOp")
      .def(py::init<uint32_t, int32_t, std::vector<int32_t>, std::vector<uint64_t>,
                    std::vector<bool>, int, std::vector<int32_t>,
                    std::vector<std::pair<std::string, int64_t>>, int32_t>(),
           py::arg("op_id"), py::arg("version"), py::arg("type_var"), py::arg("allowed"),
           py::arg("optional"), py::arg("rule"), py::arg("rule_inputs"), py::arg("rule_ints"),
           py::arg("out_type_var"))
      .def("__call__", &FastOp::call, py::arg("inputs"), py::arg("attrs"),
           "The output TensorImpl, or None when the call needs the general path.");
}

}  // namespace xhal::python
