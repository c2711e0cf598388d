// logical_not (ONNX Not): negation of bool tensors.
#include <cstdint>

#include "kernels.h"
#include "unary_common.h"

namespace xhal_cpu {
namespace {

struct NotOp {
  static constexpr const char* name = "logical_not";
  static constexpr int64_t grain = kCheapGrain;
  bool operator()(bool x) const { return !x; }
};

}  // namespace

xhal_status_t register_logical_not_kernels(const xhal_host_api_t* h, xhal_registry_t r) {
  return xhal_register_logical_not_v1(
      h, r, unary_entry_plain<NotOp, bool, xhal_logical_not_v1_attrs_t>, XHAL_DTYPE_BOOL, 0,
      "xhal.cpu.logical_not");
}

}  // namespace xhal_cpu
