// gemm_batched (gemm.h) and the matmul and gemm kernels built on it.
#include "gemm.h"

#include <algorithm>
#include <climits>
#include <cmath>

#include "../config.h"
#include "../cublas_loader.h"
#include "dtypes.cuh"
#include "indexing.cuh"
#include "registry.h"

namespace xhal_cuda {
namespace {

// ---- Integer GEMM: 16x16 output tiles, operands staged through shared memory ------------------
constexpr int kTile = 16;

template <class T>
struct IntGemm {
  bool trans_a, trans_b;
  int64_t m, n, k, lda, ldb, ldc, stride_a, stride_b, stride_c;
  const T* a;
  const T* b;
  T* c;
  bool integral;  // alpha and beta are whole numbers
  int64_t ia, ib;
  double alpha, beta;
};

template <class T>
__device__ T saturate(double v) {
  if (v != v) return T(0);
  if (v <= double(INT64_MIN)) return T(INT64_MIN);
  if (v >= 9223372036854775808.0) return T(INT64_MAX);
  return static_cast<T>(static_cast<int64_t>(v));
}

template <class T>
__global__ void int_gemm_kernel(IntGemm<T> p) {
  __shared__ T sa[kTile][kTile + 1];
  __shared__ T sb[kTile][kTile + 1];
  const int64_t batch = blockIdx.z;
  const T* a = p.a + batch * p.stride_a;
  const T* b = p.b + batch * p.stride_b;
  T* c = p.c + batch * p.stride_c;
  const int64_t row = int64_t(blockIdx.y) * kTile + threadIdx.y;
  const int64_t col = int64_t(blockIdx.x) * kTile + threadIdx.x;
  uint64_t acc = 0;  // wraps modulo 2^64, hence exactly modulo 2^32 for int32
  for (int64_t k0 = 0; k0 < p.k; k0 += kTile) {
    const int64_t ka = k0 + threadIdx.x, kb = k0 + threadIdx.y;
    sa[threadIdx.y][threadIdx.x] =
        row < p.m && ka < p.k ? (p.trans_a ? a[ka * p.lda + row] : a[row * p.lda + ka]) : T(0);
    sb[threadIdx.y][threadIdx.x] =
        kb < p.k && col < p.n ? (p.trans_b ? b[col * p.ldb + kb] : b[kb * p.ldb + col]) : T(0);
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < kTile; ++kk)
      acc += uint64_t(int64_t(sa[threadIdx.y][kk])) * uint64_t(int64_t(sb[kk][threadIdx.x]));
    __syncthreads();
  }
  if (row >= p.m || col >= p.n) return;
  T& out = c[row * p.ldc + col];
  const int64_t prev = p.beta != 0.0 ? int64_t(out) : 0;
  if (p.integral) {
    out = static_cast<T>(uint64_t(p.ia) * acc + uint64_t(p.ib) * uint64_t(prev));
  } else {
    out = saturate<T>(p.alpha * double(int64_t(acc)) + (p.beta != 0.0 ? p.beta * double(prev) : 0.0));
  }
}

bool whole(double v) { return std::nearbyint(v) == v && std::fabs(v) <= 2147483648.0; }

template <class T>
xhal_status_t int_gemm(const Call& call, bool ta, bool tb, int64_t m, int64_t n, int64_t k,
                       double alpha, const void* a, int64_t lda, int64_t sa, const void* b,
                       int64_t ldb, int64_t sb, double beta, void* c, int64_t ldc, int64_t sc,
                       int64_t batch) {
  if (batch > 65535)
    return fail(XHAL_ERROR_UNSUPPORTED, "%s: %lld integer matrix products in one call (max 65535)",
                call.op, static_cast<long long>(batch));
  IntGemm<T> p{ta, tb, m, n, k, lda, ldb, ldc, sa, sb, sc,
               static_cast<const T*>(a), static_cast<const T*>(b), static_cast<T*>(c),
               whole(alpha) && whole(beta), int64_t(alpha), int64_t(beta), alpha, beta};
  const dim3 block(kTile, kTile);
  const dim3 grid(static_cast<unsigned>((n + kTile - 1) / kTile),
                  static_cast<unsigned>((m + kTile - 1) / kTile), static_cast<unsigned>(batch));
  if (grid.y > 65535)
    return fail(XHAL_ERROR_UNSUPPORTED, "%s: %lld rows in an integer matrix product (max %d)",
                call.op, static_cast<long long>(m), 65535 * kTile);
  int_gemm_kernel<T><<<grid, block, 0, call.stream>>>(p);
  return check_launch(call, "integer gemm");
}

// ---- Floating GEMM through cuBLAS ----------------------------------------------------------------
xhal_status_t cublas_gemm(const Call& call, int32_t dtype, bool ta, bool tb, int64_t m, int64_t n,
                          int64_t k, double alpha, const void* a, int64_t lda, int64_t sa,
                          const void* b, int64_t ldb, int64_t sb, double beta, void* c,
                          int64_t ldc, int64_t sc, int64_t batch) {
  for (int64_t v : {m, n, k, lda, ldb, ldc, batch})
    if (v > INT_MAX)
      return fail(XHAL_ERROR_UNSUPPORTED, "%s: matrix dimension %lld exceeds cuBLAS's int range",
                  call.op, static_cast<long long>(v));
  cublasHandle_t h = cublas_handle(call.device, call.stream);
  if (h == nullptr) return XHAL_ERROR_DEVICE;  // reported
  const CublasApi* api = cublas_api();
  cudaDataType_t type;
  cublasComputeType_t compute = CUBLAS_COMPUTE_32F;
  const float alpha_f = static_cast<float>(alpha), beta_f = static_cast<float>(beta);
  const void* alpha_p = &alpha_f;
  const void* beta_p = &beta_f;
  switch (dtype) {
    case XHAL_DTYPE_FLOAT32:
      type = CUDA_R_32F;
      if (allow_tf32()) compute = CUBLAS_COMPUTE_32F_FAST_TF32;
      break;
    case XHAL_DTYPE_FLOAT16: type = CUDA_R_16F; break;
    case XHAL_DTYPE_BFLOAT16: type = CUDA_R_16BF; break;
    case XHAL_DTYPE_FLOAT64:
      type = CUDA_R_64F;
      compute = CUBLAS_COMPUTE_64F;
      alpha_p = &alpha;
      beta_p = &beta;
      break;
    default:
      return fail(XHAL_ERROR_INTERNAL, "%s: cuBLAS gemm for dtype %d", call.op,
                  static_cast<int>(dtype));
  }
  // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: swap the operands.
  const cublasOperation_t op_b = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_a = ta ? CUBLAS_OP_T : CUBLAS_OP_N;
  cublasStatus_t st;
  if (batch == 1)
    st = api->gemm_ex(h, op_b, op_a, int(n), int(m), int(k), alpha_p, b, type, int(ldb), a, type,
                      int(lda), beta_p, c, type, int(ldc), compute, CUBLAS_GEMM_DEFAULT);
  else
    st = api->gemm_strided_batched_ex(h, op_b, op_a, int(n), int(m), int(k), alpha_p, b, type,
                                      int(ldb), sb, a, type, int(lda), sa, beta_p, c, type,
                                      int(ldc), sc, int(batch), compute, CUBLAS_GEMM_DEFAULT);
  if (st != CUBLAS_STATUS_SUCCESS)
    return fail(XHAL_ERROR_DEVICE, "%s: cuBLAS gemm (m=%lld n=%lld k=%lld batch=%lld): %s",
                call.op, static_cast<long long>(m), static_cast<long long>(n),
                static_cast<long long>(k), static_cast<long long>(batch),
                cublas_error(st).c_str());
  return XHAL_OK;
}

// C_b[i, j] = beta * C_b[i, j] (0 when beta == 0, whatever C held) for floating types.
template <class T>
__global__ void scale_rows_kernel(int64_t m, int64_t n, double beta, T* c, int64_t ldc,
                                  int64_t stride_c, int64_t batch) {
  const int64_t total = batch * m * n;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t b = i / (m * n), r = (i / n) % m, col = i % n;
    T& v = c[b * stride_c + r * ldc + col];
    v = beta == 0.0 ? convert<T>(0.0f) : convert<T>(beta * convert<double>(v));
  }
}

xhal_status_t scale_rows(const Call& call, int32_t dtype, int64_t m, int64_t n, double beta,
                         void* c, int64_t ldc, int64_t stride_c, int64_t batch) {
  const int64_t total = batch * m * n;
  bool launched = false;  // only for the floating types (integers take int_gemm)
  visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (is_floating<T>) {
      scale_rows_kernel<T><<<grid_for(total), 256, 0, call.stream>>>(
          m, n, beta, static_cast<T*>(c), ldc, stride_c, batch);
      launched = true;
    }
  });
  if (!launched)
    return fail(XHAL_ERROR_INTERNAL, "%s: gemm scaling for dtype %d", call.op,
                static_cast<int>(dtype));
  return check_launch(call, "gemm beta scaling");
}

}  // namespace

xhal_status_t gemm_batched(const Call& call, int32_t dtype, bool trans_a, bool trans_b, int64_t m,
                           int64_t n, int64_t k, double alpha, const void* a, int64_t lda,
                           int64_t stride_a, const void* b, int64_t ldb, int64_t stride_b,
                           double beta, void* c, int64_t ldc, int64_t stride_c, int64_t batch) {
  if (m == 0 || n == 0 || batch == 0) return XHAL_OK;
  switch (dtype) {
    case XHAL_DTYPE_INT32:
      return int_gemm<int32_t>(call, trans_a, trans_b, m, n, k, alpha, a, lda, stride_a, b, ldb,
                               stride_b, beta, c, ldc, stride_c, batch);
    case XHAL_DTYPE_INT64:
      return int_gemm<int64_t>(call, trans_a, trans_b, m, n, k, alpha, a, lda, stride_a, b, ldb,
                               stride_b, beta, c, ldc, stride_c, batch);
    default:
      // An empty sum leaves beta * C. Not through cuBLAS: its operands are empty (possibly NULL)
      // and k == 0 is not a valid cuBLAS shape.
      if (k == 0) return scale_rows(call, dtype, m, n, beta, c, ldc, stride_c, batch);
      return cublas_gemm(call, dtype, trans_a, trans_b, m, n, k, alpha, a, lda, stride_a, b, ldb,
                         stride_b, beta, c, ldc, stride_c, batch);
  }
}

namespace {

// ---- matmul: NumPy semantics, batch dimensions broadcast ----------------------------------------
template <class T>
xhal_status_t matmul_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* A,
                            const xhal_tensor_t* B, const xhal_matmul_v1_attrs_t*,
                            xhal_tensor_t* Y) noexcept {
  return guarded("matmul", [&] {
    Call call;
    XHAL_CUDA_TRY(begin_call("matmul", ctx, &call));
    constexpr int32_t dt = dtype_of<T>();
    XHAL_CUDA_TRY(check_tensor(call, "input A", A, dt));
    XHAL_CUDA_TRY(check_tensor(call, "input B", B, dt));
    XHAL_CUDA_TRY(check_tensor(call, "output Y", Y, dt));
    Shape sa = shape_of(A), sb = shape_of(B);
    if (sa.rank == 0 || sb.rank == 0)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "matmul: inputs must have rank >= 1, got %s and %s",
                  to_string(sa).c_str(), to_string(sb).c_str());
    // 1-D operands: [K] -> [1, K] for A, [K] -> [K, 1] for B (the added axis is dropped in Y).
    Shape a2 = sa, b2 = sb;
    if (a2.rank == 1) { a2.rank = 2; a2.d[1] = sa[0]; a2.d[0] = 1; }
    if (b2.rank == 1) { b2.rank = 2; b2.d[0] = sb[0]; b2.d[1] = 1; }
    const int64_t m = a2[a2.rank - 2], k = a2[a2.rank - 1], n = b2[b2.rank - 1];
    if (b2[b2.rank - 2] != k)
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "matmul: inner dimensions differ: A %s, B %s (K %lld vs %lld)",
                  to_string(sa).c_str(), to_string(sb).c_str(), static_cast<long long>(k),
                  static_cast<long long>(b2[b2.rank - 2]));
    // Broadcast batch shape, and per-operand batch strides in matrices (0: broadcast).
    const int batch_rank = std::max(a2.rank, b2.rank) - 2;
    Shape batch;
    batch.rank = batch_rank;
    int64_t stride_a[kMaxRank], stride_b[kMaxRank], stride_y[kMaxRank];
    for (int i = 0; i < batch_rank; ++i) {
      const int ia = i - (batch_rank - (a2.rank - 2)), ib = i - (batch_rank - (b2.rank - 2));
      const int64_t da = ia >= 0 ? a2[ia] : 1, db = ib >= 0 ? b2[ib] : 1;
      if (da != db && da != 1 && db != 1)
        return fail(XHAL_ERROR_INVALID_ARGUMENT,
                    "matmul: batch dimensions of A %s and B %s do not broadcast",
                    to_string(sa).c_str(), to_string(sb).c_str());
      batch.d[i] = da == 1 ? db : da;
    }
    // Matrix strides of each operand in its own compact batch layout.
    {
      int64_t sa_m = 1, sb_m = 1, sy_m = 1;
      for (int i = batch_rank - 1; i >= 0; --i) {
        const int ia = i - (batch_rank - (a2.rank - 2)), ib = i - (batch_rank - (b2.rank - 2));
        const int64_t da = ia >= 0 ? a2[ia] : 1, db = ib >= 0 ? b2[ib] : 1;
        stride_a[i] = da == 1 ? 0 : sa_m;
        stride_b[i] = db == 1 ? 0 : sb_m;
        stride_y[i] = sy_m;
        sa_m *= da;
        sb_m *= db;
        sy_m *= batch[i];
      }
    }
    Shape expected = batch;
    if (sa.rank > 1) expected.push_back(m);
    if (sb.rank > 1) expected.push_back(n);
    XHAL_CUDA_TRY(check_shape(call, "output Y", Y, expected));
    if (expected.numel() == 0) return XHAL_OK;
    CompactInput ca, cb;
    XHAL_CUDA_TRY(ca.init(call, A));
    XHAL_CUDA_TRY(cb.init(call, B));
    T* y = data_as<T>(Y);
    if (k == 0) {  // empty sums: zeros
      XHAL_CUDA_CHECK("matmul (zero fill)",
                      cudaMemsetAsync(y, 0, sizeof(T) * expected.numel(), call.stream));
      return XHAL_OK;
    }
    // Merge batch dimensions; the innermost merged one becomes cuBLAS's batch, the rest a loop.
    const int64_t* strides[3] = {stride_a, stride_b, stride_y};
    Offsets<3> off;
    XHAL_CUDA_TRY(make_offsets<3>(call, batch, strides, &off));
    const int64_t inner = off.rank == 0 ? 1 : off.sizes[off.rank - 1];
    const int64_t isa = off.rank == 0 ? 0 : off.strides[0][off.rank - 1];
    const int64_t isb = off.rank == 0 ? 0 : off.strides[1][off.rank - 1];
    const int64_t isy = off.rank == 0 ? 0 : off.strides[2][off.rank - 1];
    int64_t outer = 1;
    for (int d = 0; d + 1 < off.rank; ++d) outer *= off.sizes[d];
    for (int64_t o = 0; o < outer; ++o) {
      int64_t pa = 0, pb = 0, py = 0, rest = o;
      for (int d = off.rank - 2; d >= 0; --d) {
        const int64_t i = rest % off.sizes[d];
        rest /= off.sizes[d];
        pa += i * off.strides[0][d];
        pb += i * off.strides[1][d];
        py += i * off.strides[2][d];
      }
      XHAL_CUDA_TRY(gemm_batched(call, dt, false, false, m, n, k, 1.0,
                                 ca.as<T>() + pa * m * k, k, isa * m * k,
                                 cb.as<T>() + pb * k * n, n, isb * k * n, 0.0,
                                 y + py * m * n, n, isy * m * n, inner));
    }
    return XHAL_OK;
  });
}

// ---- gemm: Y = alpha * op(A) op(B) + beta * C, C unidirectionally broadcast to [M, N] ----------
template <class T>
xhal_status_t gemm_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* A,
                          const xhal_tensor_t* B, const xhal_tensor_t* C,
                          const xhal_gemm_v1_attrs_t* attrs, xhal_tensor_t* Y) noexcept {
  return guarded("gemm", [&] {
    Call call;
    XHAL_CUDA_TRY(begin_call("gemm", ctx, &call));
    constexpr int32_t dt = dtype_of<T>();
    XHAL_CUDA_TRY(check_tensor(call, "input A", A, dt));
    XHAL_CUDA_TRY(check_tensor(call, "input B", B, dt));
    if (C != nullptr) XHAL_CUDA_TRY(check_tensor(call, "input C", C, dt));
    XHAL_CUDA_TRY(check_tensor(call, "output Y", Y, dt));
    if (attrs == nullptr) return fail(XHAL_ERROR_INVALID_ARGUMENT, "gemm: attributes are NULL");
    const Shape sa = shape_of(A), sb = shape_of(B);
    if (sa.rank != 2 || sb.rank != 2)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "gemm: A and B must be 2-D, got %s and %s",
                  to_string(sa).c_str(), to_string(sb).c_str());
    const bool ta = attrs->trans_a != 0, tb = attrs->trans_b != 0;
    const int64_t m = ta ? sa[1] : sa[0], k = ta ? sa[0] : sa[1];
    const int64_t kb = tb ? sb[1] : sb[0], n = tb ? sb[0] : sb[1];
    if (k != kb)
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "gemm: op(A) is %lldx%lld but op(B) is %lldx%lld (trans_a=%d, trans_b=%d)",
                  static_cast<long long>(m), static_cast<long long>(k),
                  static_cast<long long>(kb), static_cast<long long>(n), int(ta), int(tb));
    Shape expected;
    expected.push_back(m);
    expected.push_back(n);
    XHAL_CUDA_TRY(check_shape(call, "output Y", Y, expected));
    if (m == 0 || n == 0) return XHAL_OK;
    T* y = data_as<T>(Y);
    double beta = attrs->beta;
    if (C != nullptr && beta != 0.0) {
      // Y <- C broadcast to [M, N] (unidirectional: C's dims are 1 or equal, right-aligned).
      const Shape sc = shape_of(C);
      if (sc.rank > 2)
        return fail(XHAL_ERROR_INVALID_ARGUMENT, "gemm: C %s has rank > 2", to_string(sc).c_str());
      int64_t c_strides_raw[kMaxRank];
      strides_of(C, c_strides_raw);
      int64_t src[2] = {0, 0};
      for (int i = 0; i < sc.rank; ++i) {
        const int axis = 2 - sc.rank + i;
        if (sc[i] != 1 && sc[i] != expected[axis])
          return fail(XHAL_ERROR_INVALID_ARGUMENT,
                      "gemm: C %s does not broadcast to [%lld, %lld]", to_string(sc).c_str(),
                      static_cast<long long>(m), static_cast<long long>(n));
        src[axis] = sc[i] == 1 ? 0 : c_strides_raw[i];
      }
      int64_t dst[2] = {n, 1};
      XHAL_CUDA_TRY(copy_strided(call, expected, data_as<const T>(C), src, y, dst, sizeof(T)));
    } else {
      beta = 0.0;
    }
    CompactInput ca, cb;
    XHAL_CUDA_TRY(ca.init(call, A));
    XHAL_CUDA_TRY(cb.init(call, B));
    return gemm_batched(call, dt, ta, tb, m, n, k, attrs->alpha, ca.data(), sa[1], 0, cb.data(),
                        sb[1], 0, beta, y, n, 0, 1);
  });
}

template <class T>
xhal_status_t register_for(const xhal_host_api_t* host, xhal_registry_t registry) {
  constexpr int32_t dt = dtype_of<T>();
  XHAL_CUDA_TRY(xhal_register_matmul_v1(host, registry, matmul_kernel<T>, dt,
                                        XHAL_KERNEL_FLAG_STRIDED_INPUTS, "cuda.matmul"));
  return xhal_register_gemm_v1(host, registry, gemm_kernel<T>, dt,
                               XHAL_KERNEL_FLAG_STRIDED_INPUTS, "cuda.gemm");
}

xhal_status_t register_gemm_family(const xhal_host_api_t* host, xhal_registry_t registry) {
  XHAL_CUDA_TRY(register_for<float>(host, registry));
  XHAL_CUDA_TRY(register_for<double>(host, registry));
  XHAL_CUDA_TRY(register_for<__half>(host, registry));
  XHAL_CUDA_TRY(register_for<__nv_bfloat16>(host, registry));
  XHAL_CUDA_TRY(register_for<int32_t>(host, registry));
  return register_for<int64_t>(host, registry);
}

}  // namespace

XHAL_CUDA_KERNEL_FAMILY(gemm, register_gemm_family);

}  // namespace xhal_cuda
