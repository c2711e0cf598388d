// The matrix-product engine behind matmul and gemm. All matrices are row-major; `ld*` are row
// strides in elements of the matrices as stored (before the optional transpose).
#pragma once

#include <cstdint>

namespace xhal_cpu {

// C[M,N] = alpha * op(A) * op(B) + beta * C, op(X) = X^T when trans_x. beta == 0 overwrites
// C without reading it. OpenBLAS sgemm/dgemm; dimensions beyond its 32-bit integers fall
// back to the blocked loop.
void gemm_f32(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
              const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
              int64_t ldc);
void gemm_f64(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha,
              const double* A, int64_t lda, const double* B, int64_t ldb, double beta, double* C,
              int64_t ldc);

// C_i[M,N] = A_i[M,K] * B_i[K,N] for i < batches, all row-major and dense, X_i = X + i * stride_x
// (a stride of 0 repeats the operand). One OpenBLAS batched call, which spreads small products
// over its threads instead of splitting each one. False (nothing done) where a size is beyond
// OpenBLAS's 32-bit integers; the caller then runs the products one by one.
bool matmul_f32_batched(int64_t batches, int64_t M, int64_t N, int64_t K, const float* A,
                        int64_t stride_a, const float* B, int64_t stride_b, float* C);
bool matmul_f64_batched(int64_t batches, int64_t M, int64_t N, int64_t K, const double* A,
                        int64_t stride_a, const double* B, int64_t stride_b, double* C);

// C[M,N] = op(A) * op(B) for int32/int64, wrapping around on overflow (there is no integer
// BLAS): a cache-blocked i-k-j loop, rows split across the thread pool.
void matmul_i32(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const int32_t* A,
                int64_t lda, const int32_t* B, int64_t ldb, int32_t* C, int64_t ldc);
void matmul_i64(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const int64_t* A,
                int64_t lda, const int64_t* B, int64_t ldb, int64_t* C, int64_t ldc);

}  // namespace xhal_cpu
