// Matrix products for every kernel family that needs one (matmul, gemm, conv via im2col,
// conv_transpose, einsum): floating types through cuBLAS (float32 accumulation for float16 and
// bfloat16; TF32 only in the tf32 precision mode), int32/int64 through a tiled CUDA kernel with
// exact (wrapping) integer accumulation.
#pragma once

#include <cstdint>

#include "support.h"

namespace xhal_cuda {

// Row-major batched product on call.stream, for b in [0, batch):
//   C_b = alpha * op(A_b) * op(B_b) + beta * C_b       (C_b is m x n, op(A_b) m x k, op(B_b) k x n)
// A_b starts `stride_a` elements after A_{b-1} (0 broadcasts one matrix to every batch), and
// `lda` is the distance in elements between rows of A as stored (k without trans_a, m with it);
// likewise for B and C. beta == 0 ignores C's contents (it may hold garbage or NaN).
// Integer dtypes: the exact product (wrapping like numpy); whole alpha and beta are applied in
// integers, fractional ones in float64 with the result truncated (as ONNX's reference does).
xhal_status_t gemm_batched(const Call& call, int32_t dtype, bool trans_a, bool trans_b, int64_t m,
                           int64_t n, int64_t k, double alpha, const void* a, int64_t lda,
                           int64_t stride_a, const void* b, int64_t ldb, int64_t stride_b,
                           double beta, void* c, int64_t ldc, int64_t stride_c, int64_t batch);

}  // namespace xhal_cuda
