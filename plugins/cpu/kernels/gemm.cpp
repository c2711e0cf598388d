// gemm: Y = alpha * op(A) * op(B) + beta * C, op = optional transpose, C (optional)
// unidirectionally broadcast to [M, N]. float32/float64: OpenBLAS with C preloaded into Y as
// the beta term. float16 and bfloat16: the same in float32. int32/int64: the exact (wrapping)
// integer product, then alpha and beta applied in integers when they are whole numbers, else
// in float64 with the result truncated toward zero (as numpy's astype would).
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "common.h"
#include "conv_common.h"
#include "gemm_core.h"
#include "kernels.h"

namespace xhal_cpu {
namespace {

constexpr const char* kOp = "gemm";

// Reads C broadcast to [M, N]: C has rank <= 2 and its dims are 1 or equal to the target.
struct BiasView {
  const void* data = nullptr;
  int64_t si = 0, sj = 0;  // element strides along M and N (0 where broadcast)
};

template <class T>
T bias_at(const BiasView& c, int64_t i, int64_t j) {
  return static_cast<const T*>(c.data)[i * c.si + j * c.sj];
}

// numpy's float64 -> int64 -> T: truncation toward zero, then two's complement wrap to T.
// (NaN and values beyond int64 are undefined there; they saturate here.)
template <class T>
T truncate_to(double v) {
  if (std::isnan(v)) return 0;
  int64_t i;
  if (v <= -9223372036854775808.0)
    i = std::numeric_limits<int64_t>::min();
  else if (v >= 9223372036854775808.0)
    i = std::numeric_limits<int64_t>::max();
  else
    i = static_cast<int64_t>(v);
  return static_cast<T>(i);
}

// A float that is a whole number small enough to apply exactly in integer arithmetic.
bool whole(float v) { return std::nearbyint(v) == v && std::fabs(v) <= 2147483648.0f; }

// Integer gemm. With whole alpha and beta everything stays in T and wraps (what int64
// arithmetic followed by a cast to T gives too). Otherwise, as the ONNX reference does, the
// exact product (int64 for int32 inputs, so it cannot wrap) is scaled in float64 and truncated.
template <class T>
void run_int(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, float beta, const T* a,
             int64_t lda, const T* b, int64_t ldb, const BiasView* c, T* y) {
  const bool integral = whole(alpha) && whole(beta);
  std::vector<int64_t> wide;  // exact int64 product of int32 operands (float64 path only)
  if constexpr (std::is_same_v<T, int32_t>) {
    if (integral) {
      matmul_i32(ta, tb, M, N, K, a, lda, b, ldb, y, N);
    } else {
      const int64_t na = (ta ? K : M) * lda, nb = (tb ? N : K) * ldb;
      std::vector<int64_t> wa(a, a + na), wb(b, b + nb);
      wide.resize(static_cast<size_t>(M * N));
      matmul_i64(ta, tb, M, N, K, wa.data(), lda, wb.data(), ldb, wide.data(), N);
    }
  } else {
    matmul_i64(ta, tb, M, N, K, a, lda, b, ldb, y, N);
  }
  const T ia = integral ? static_cast<T>(static_cast<int64_t>(alpha)) : T(0);
  const T ib = integral ? static_cast<T>(static_cast<int64_t>(beta)) : T(0);
  if (integral && ia == 1 && (c == nullptr || ib == 0)) return;  // Y already is the answer
  parallel_for(M, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(N, 1)),
               [&](int64_t i0, int64_t i1) {
                 for (int64_t i = i0; i < i1; ++i) {
                   for (int64_t j = 0; j < N; ++j) {
                     T& v = y[i * N + j];
                     const T cv = c != nullptr ? bias_at<T>(*c, i, j) : T(0);
                     if (integral) {
                       v = wrap_add(wrap_mul(ia, v), wrap_mul(ib, cv));
                     } else {
                       const double p = wide.empty() ? double(v) : double(wide[i * N + j]);
                       const double bias = beta != 0.f ? double(beta) * double(cv) : 0.0;
                       v = truncate_to<T>(double(alpha) * p + bias);
                     }
                   }
                 }
               });
}

// Float path for float and double: Y <- C (broadcast), then BLAS with beta.
template <class F>
void run_float(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, float beta,
               const F* a, int64_t lda, const F* b, int64_t ldb, const BiasView* c, const F* c_data,
               F* y) {
  F blas_beta = F(0);
  if (c != nullptr && beta != 0.f) {
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) y[i * N + j] = c_data[i * c->si + j * c->sj];
    blas_beta = F(beta);
  }
  if constexpr (std::is_same_v<F, float>)
    gemm_f32(ta, tb, M, N, K, alpha, a, lda, b, ldb, blas_beta, y, N);
  else
    gemm_f64(ta, tb, M, N, K, double(alpha), a, lda, b, ldb, blas_beta, y, N);
}

template <class T>
xhal_status_t gemm_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* A,
                          const xhal_tensor_t* B, const xhal_tensor_t* C,
                          const xhal_gemm_v1_attrs_t* given, xhal_tensor_t* Y) {
  return guarded(kOp, [&] {
    constexpr int32_t dt = convk::Elem<T>::id;
    XHAL_CPU_TRY(check_context(kOp, ctx));
    XHAL_CPU_TRY(check_tensor(kOp, "input A", A, dt));
    XHAL_CPU_TRY(check_tensor(kOp, "input B", B, dt));
    if (C != nullptr) XHAL_CPU_TRY(check_tensor(kOp, "input C", C, dt));
    XHAL_CPU_TRY(check_tensor(kOp, "output Y", Y, dt));
    const xhal_gemm_v1_attrs_t at = read_attrs(given, xhal_gemm_v1_attrs_init);
    if ((at.trans_a != 0 && at.trans_a != 1) || (at.trans_b != 0 && at.trans_b != 1))
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "gemm: trans_a (%lld) and trans_b (%lld) must be 0 or 1",
                  static_cast<long long>(at.trans_a), static_cast<long long>(at.trans_b));
    const bool ta = at.trans_a == 1, tb = at.trans_b == 1;
    const Dims da = dims_of(A), db = dims_of(B), dy = dims_of(Y);
    if (da.rank != 2 || db.rank != 2)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "gemm: A %s and B %s must both be 2-D",
                  to_string(da).c_str(), to_string(db).c_str());
    const int64_t M = ta ? da[1] : da[0], K = ta ? da[0] : da[1];
    const int64_t kb = tb ? db[1] : db[0], N = tb ? db[0] : db[1];
    if (K != kb)
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "gemm: op(A) is [%lld, %lld] and op(B) is [%lld, %lld]; inner dims differ",
                  static_cast<long long>(M), static_cast<long long>(K), static_cast<long long>(kb),
                  static_cast<long long>(N));
    Dims expect;
    expect.push_back(M);
    expect.push_back(N);
    if (dy != expect)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "gemm: output Y has shape %s; expected %s",
                  to_string(dy).c_str(), to_string(expect).c_str());
    BiasView bias;
    if (C != nullptr) {
      const Dims dc = dims_of(C);
      int64_t strides[2] = {0, 0};
      bool ok = dc.rank <= 2;
      for (int i = 0; ok && i < dc.rank; ++i) {
        const int64_t target = expect[2 - dc.rank + i];
        ok = dc[i] == 1 || dc[i] == target;
      }
      if (!ok)
        return fail(XHAL_ERROR_INVALID_ARGUMENT, "gemm: C %s does not broadcast to [%lld, %lld]",
                    to_string(dc).c_str(), static_cast<long long>(M), static_cast<long long>(N));
      broadcast_strides(dc, expect, strides);
      bias.data = data_as<const T>(C);
      bias.si = strides[0];
      bias.sj = strides[1];
    }
    if (M == 0 || N == 0) return XHAL_OK;
    const BiasView* c = C != nullptr ? &bias : nullptr;
    const int64_t lda = da[1], ldb = db[1];

    if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, convk::BF16>) {
      std::vector<float> fa(static_cast<size_t>(da.numel())), fb(static_cast<size_t>(db.numel()));
      std::vector<float> fy(static_cast<size_t>(M * N));
      convk::widen_n(data_as<const T>(A), fa.data(), da.numel());
      convk::widen_n(data_as<const T>(B), fb.data(), db.numel());
      std::vector<float> fc;
      if (C != nullptr) {
        fc.resize(static_cast<size_t>(numel(C)));
        convk::widen_n(data_as<const T>(C), fc.data(), numel(C));
      }
      run_float<float>(ta, tb, M, N, K, at.alpha, at.beta, fa.data(), lda, fb.data(), ldb, c,
                       fc.data(), fy.data());
      convk::narrow_n(fy.data(), data_as<T>(Y), M * N);
    } else if constexpr (std::is_integral_v<T>) {
      run_int<T>(ta, tb, M, N, K, at.alpha, at.beta, data_as<const T>(A), lda, data_as<const T>(B),
                 ldb, c, data_as<T>(Y));
    } else {
      run_float<T>(ta, tb, M, N, K, at.alpha, at.beta, data_as<const T>(A), lda,
                   data_as<const T>(B), ldb, c, C != nullptr ? data_as<const T>(C) : nullptr,
                   data_as<T>(Y));
    }
    return XHAL_OK;
  });
}

}  // namespace

xhal_status_t register_gemm_kernels(const xhal_host_api_t* h, xhal_registry_t r) {
  XHAL_CPU_TRY(
      xhal_register_gemm_v1(h, r, gemm_kernel<float>, XHAL_DTYPE_FLOAT32, 0, "xhal.cpu.gemm"));
  XHAL_CPU_TRY(
      xhal_register_gemm_v1(h, r, gemm_kernel<double>, XHAL_DTYPE_FLOAT64, 0, "xhal.cpu.gemm"));
  XHAL_CPU_TRY(
      xhal_register_gemm_v1(h, r, gemm_kernel<Half>, XHAL_DTYPE_FLOAT16, 0, "xhal.cpu.gemm"));
  XHAL_CPU_TRY(xhal_register_gemm_v1(h, r, gemm_kernel<convk::BF16>, XHAL_DTYPE_BFLOAT16, 0,
                                     "xhal.cpu.gemm"));
  XHAL_CPU_TRY(
      xhal_register_gemm_v1(h, r, gemm_kernel<int32_t>, XHAL_DTYPE_INT32, 0, "xhal.cpu.gemm"));
  XHAL_CPU_TRY(
      xhal_register_gemm_v1(h, r, gemm_kernel<int64_t>, XHAL_DTYPE_INT64, 0, "xhal.cpu.gemm"));
  return XHAL_OK;
}

}  // namespace xhal_cpu
