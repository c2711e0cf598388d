// npu_sim: exp v1 — Natural exponential.
// Semantics: ONNX Exp-13; the SDK's docs/ops/exp.md.
// npu_sim computes float16 and bfloat16; the spec's other dtypes are unsupported
#include "elementwise.h"

namespace npu_sim {

xhal_status_t exp_v1(
    const xhal_kernel_context_t* ctx,
    const xhal_tensor_t* X,
    const xhal_exp_v1_attrs_t* attrs,
    xhal_tensor_t* Y) {
  (void)attrs;
  return unary("exp", UnaryOp::kExp, ctx, X, Y);
}

}  // namespace npu_sim
