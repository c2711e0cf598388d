// Settings read once from the environment.
#pragma once

namespace xhal_cuda {

// XHAL_CUDA_PRECISION: "highest" (default: float32 matrix products in full float32) or "tf32"
// (let cuBLAS use TF32 tensor cores for float32, about 10 mantissa bits). A declared mode, never
// an implicit one: conformance runs in "highest".
bool allow_tf32();

}  // namespace xhal_cuda
