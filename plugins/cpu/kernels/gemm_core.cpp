#include "gemm_core.h"

#include <cblas.h>

#include <algorithm>
#include <climits>
#include <type_traits>
#include <vector>

#include "../config.h"
#include "common.h"

namespace xhal_cpu {
namespace {

// Block sizes of the fallback loop: a kBlockK x kBlockN panel of op(B) (at most 512 KiB of
// int64) is packed once and reused by every row of C.
constexpr int64_t kBlockK = 256;
constexpr int64_t kBlockN = 256;

// c[j] += a * b[j]: the innermost loop, compiled per SIMD level.
template <class T>
XHAL_CPU_SIMD_CLONES void axpy(T a, const T* b, T* c, int64_t n) {
  for (int64_t j = 0; j < n; ++j) c[j] += a * b[j];
}

// C[i, j] += alpha * op(A)[i, k] * op(B)[k, j]. T is the arithmetic type: unsigned for the
// integer kernels (so products wrap), float/double for the BLAS fallback.
template <class T>
void blocked_gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
                  int64_t lda, const T* B, int64_t ldb, T* C, int64_t ldc) {
  std::vector<T> panel(static_cast<size_t>(std::min(K, kBlockK) * std::min(N, kBlockN)));
  for (int64_t j0 = 0; j0 < N; j0 += kBlockN) {
    const int64_t nb = std::min(kBlockN, N - j0);
    for (int64_t k0 = 0; k0 < K; k0 += kBlockK) {
      const int64_t kb = std::min(kBlockK, K - k0);
      // Pack op(B)[k0:k0+kb, j0:j0+nb] contiguously so the inner loop streams through it.
      for (int64_t k = 0; k < kb; ++k)
        for (int64_t j = 0; j < nb; ++j)
          panel[k * nb + j] = tb ? B[(j0 + j) * ldb + (k0 + k)] : B[(k0 + k) * ldb + (j0 + j)];
      const T* p = panel.data();
      // Rows of C are independent; each costs kb * nb multiply-adds.
      const int64_t grain = std::max<int64_t>(1, kParallelGrain / (kb * nb));
      parallel_for(M, grain, [&](int64_t i_begin, int64_t i_end) {
        for (int64_t i = i_begin; i < i_end; ++i) {
          T* c = C + i * ldc + j0;
          for (int64_t k = 0; k < kb; ++k) {
            const T a = alpha * (ta ? A[(k0 + k) * lda + i] : A[i * lda + (k0 + k)]);
            axpy(a, p + k * nb, c, nb);
          }
        }
      });
    }
  }
}

template <class T>
void scale_rows(int64_t M, int64_t N, T beta, T* C, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i) {
    T* c = C + i * ldc;
    if (beta == T(0))
      std::fill(c, c + N, T(0));
    else if (beta != T(1))
      for (int64_t j = 0; j < N; ++j) c[j] *= beta;
  }
}

bool fits_blas_int(std::initializer_list<int64_t> values) {
  for (int64_t v : values)
    if (v > INT_MAX) return false;
  return true;
}

template <class T, class Blas>
void gemm_float(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
                const T* B, int64_t ldb, T beta, T* C, int64_t ldc, Blas blas) {
  if (M == 0 || N == 0) return;
  if (K == 0 || alpha == T(0)) {  // the product term vanishes (BLAS also skips it)
    scale_rows(M, N, beta, C, ldc);
    return;
  }
  num_threads();  // make sure OpenBLAS has been given the thread count
  park_thread_pool();  // OpenBLAS's threads need the cores the pool's workers would poll on
  lda = std::max<int64_t>(lda, 1);
  ldb = std::max<int64_t>(ldb, 1);
  ldc = std::max<int64_t>(ldc, 1);
  if (fits_blas_int({M, N, K, lda, ldb, ldc})) {
    blas(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
         static_cast<blasint>(M), static_cast<blasint>(N), static_cast<blasint>(K), alpha, A,
         static_cast<blasint>(lda), B, static_cast<blasint>(ldb), beta, C,
         static_cast<blasint>(ldc));
    return;
  }
  scale_rows(M, N, beta, C, ldc);
  blocked_gemm<T>(ta, tb, M, N, K, alpha, A, lda, B, ldb, C, ldc);
}

template <class T, class BatchedBlas>
bool matmul_batched(int64_t batches, int64_t M, int64_t N, int64_t K, const T* A, int64_t stride_a,
                    const T* B, int64_t stride_b, T* C, BatchedBlas blas) {
  // Every element offset OpenBLAS forms must fit its integers, not only the sizes.
  if (!fits_blas_int({batches, M, N, K, batches * std::max(stride_a, M * K),
                      batches * std::max(stride_b, K * N), batches * M * N}))
    return false;
  if (M == 0 || N == 0) return true;
  num_threads();  // make sure OpenBLAS has been given the thread count
  park_thread_pool();
  const auto i32 = [](int64_t v) { return static_cast<blasint>(v); };
  blas(CblasRowMajor, CblasNoTrans, CblasNoTrans, i32(M), i32(N), i32(K), T(1), A,
       i32(std::max<int64_t>(K, 1)), i32(stride_a), B, i32(std::max<int64_t>(N, 1)),
       i32(stride_b), T(0), C, i32(N), i32(M * N), i32(batches));
  return true;
}

template <class T>
void matmul_int(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const T* A, int64_t lda,
                const T* B, int64_t ldb, T* C, int64_t ldc) {
  using U = std::make_unsigned_t<T>;
  // Signed and unsigned variants of one type may alias each other, so the data can be read
  // and written as U in place.
  U* c = reinterpret_cast<U*>(C);
  for (int64_t i = 0; i < M; ++i) std::fill(c + i * ldc, c + i * ldc + N, U(0));
  blocked_gemm<U>(ta, tb, M, N, K, U(1), reinterpret_cast<const U*>(A), lda,
                  reinterpret_cast<const U*>(B), ldb, c, ldc);
}

}  // namespace

void gemm_f32(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
              int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  gemm_float<float>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, scipy_cblas_sgemm);
}

void gemm_f64(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const double* A,
              int64_t lda, const double* B, int64_t ldb, double beta, double* C, int64_t ldc) {
  gemm_float<double>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, scipy_cblas_dgemm);
}

bool matmul_f32_batched(int64_t batches, int64_t M, int64_t N, int64_t K, const float* A,
                        int64_t stride_a, const float* B, int64_t stride_b, float* C) {
  return matmul_batched<float>(batches, M, N, K, A, stride_a, B, stride_b, C,
                               scipy_cblas_sgemm_batch_strided);
}

bool matmul_f64_batched(int64_t batches, int64_t M, int64_t N, int64_t K, const double* A,
                        int64_t stride_a, const double* B, int64_t stride_b, double* C) {
  return matmul_batched<double>(batches, M, N, K, A, stride_a, B, stride_b, C,
                                scipy_cblas_dgemm_batch_strided);
}

void matmul_i32(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const int32_t* A, int64_t lda,
                const int32_t* B, int64_t ldb, int32_t* C, int64_t ldc) {
  matmul_int<int32_t>(ta, tb, M, N, K, A, lda, B, ldb, C, ldc);
}

void matmul_i64(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const int64_t* A, int64_t lda,
                const int64_t* B, int64_t ldb, int64_t* C, int64_t ldc) {
  matmul_int<int64_t>(ta, tb, M, N, K, A, lda, B, ldb, C, ldc);
}

}  // namespace xhal_cpu
