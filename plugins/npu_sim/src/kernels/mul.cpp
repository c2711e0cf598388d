// npu_sim: mul v1 — Elementwise multiplication with multidirectional broadcasting.
// Semantics: ONNX Mul-14; the SDK's docs/ops/mul.md.
// npu_sim computes float16, bfloat16 and float32 via bfloat16 (the manifest); nothing else
#include "elementwise.h"

namespace npu_sim {

xhal_status_t mul_v1(
    const xhal_kernel_context_t* ctx,
    const xhal_tensor_t* A,
    const xhal_tensor_t* B,
    const xhal_mul_v1_attrs_t* attrs,
    xhal_tensor_t* C) {
  (void)attrs;
  return binary("mul", BinaryOp::kMul, ctx, A, B, C);
}

}  // namespace npu_sim
