// matmul with numpy.matmul semantics: 1-D operands are promoted ([K] -> [1, K] for A,
// [K] -> [K, 1] for B) and the promoted dimension dropped from the result; leading batch
// dimensions broadcast. float32/float64 go through OpenBLAS, float16 and bfloat16 through
// float32 sgemm, int32/int64 through the blocked integer loop (wrapping on overflow).
#include <type_traits>
#include <vector>

#include "common.h"
#include "conv_common.h"
#include "gemm_core.h"
#include "kernels.h"

namespace xhal_cpu {
namespace {

constexpr const char* kOp = "matmul";

// One [M, K] x [K, N] product.
template <class T>
void product(int64_t M, int64_t N, int64_t K, const T* a, const T* b, T* y) {
  if constexpr (std::is_same_v<T, float>)
    gemm_f32(false, false, M, N, K, 1.f, a, K, b, N, 0.f, y, N);
  else if constexpr (std::is_same_v<T, double>)
    gemm_f64(false, false, M, N, K, 1., a, K, b, N, 0., y, N);
  else if constexpr (std::is_same_v<T, int32_t>)
    matmul_i32(false, false, M, N, K, a, K, b, N, y, N);
  else
    matmul_i64(false, false, M, N, K, a, K, b, N, y, N);
}

struct Plan {
  int64_t M, N, K;
  Dims batch;                 // broadcast batch shape of the output
  int64_t sa[kMaxRank];       // per batch dim: element stride into A (0: broadcast)
  int64_t sb[kMaxRank];       // same for B
  bool fold_batch_into_rows;  // B has no batch and A's batches are contiguous rows
};

// Whether batch n of A (and of B) starts at n * step from the first, for every n: true for
// dense batches and for an operand broadcast across all of them (step 0), false for a partial
// broadcast such as [2, 1] against [1, 3].
bool uniform_steps(const Plan& p, int64_t* step_a, int64_t* step_b) {
  const int r = p.batch.rank;
  int last = r - 1;
  while (last > 0 && p.batch[last] == 1) --last;
  *step_a = p.sa[last];
  *step_b = p.sb[last];
  int64_t inner = 1;  // batches spanned by one step along dimension d
  for (int d = last; d >= 0; --d) {
    if (p.batch[d] != 1 && (p.sa[d] != *step_a * inner || p.sb[d] != *step_b * inner))
      return false;
    inner *= p.batch[d];
  }
  return true;
}

// Runs every batch of the plan; T is float, double, int32_t or int64_t. Batches laid out at
// uniform steps go to OpenBLAS in one batched call.
template <class T>
void run(const Plan& p, const T* a, const T* b, T* y) {
  const int64_t batches = p.batch.numel();
  if (p.fold_batch_into_rows) {  // [..., M, K] x [K, N] is one [batches * M, K] x [K, N]
    product<T>(batches * p.M, p.N, p.K, a, b, y);
    return;
  }
  const int r = p.batch.rank;
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    int64_t step_a = 0, step_b = 0;
    if (batches > 1 && uniform_steps(p, &step_a, &step_b)) {
      bool done;
      if constexpr (std::is_same_v<T, float>)
        done = matmul_f32_batched(batches, p.M, p.N, p.K, a, step_a, b, step_b, y);
      else
        done = matmul_f64_batched(batches, p.M, p.N, p.K, a, step_a, b, step_b, y);
      if (done) return;
    }
  }
  int64_t idx[kMaxRank] = {};
  int64_t off_a = 0, off_b = 0;
  for (int64_t n = 0; n < batches; ++n) {
    product<T>(p.M, p.N, p.K, a + off_a, b + off_b, y + n * p.M * p.N);
    for (int d = r - 1; d >= 0; --d) {  // next batch index, odometer style
      ++idx[d];
      off_a += p.sa[d];
      off_b += p.sb[d];
      if (idx[d] < p.batch[d]) break;
      off_a -= idx[d] * p.sa[d];
      off_b -= idx[d] * p.sb[d];
      idx[d] = 0;
    }
  }
}

template <class T>
xhal_status_t matmul_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* A,
                            const xhal_tensor_t* B, const xhal_matmul_v1_attrs_t* /*none*/,
                            xhal_tensor_t* Y) {
  return guarded(kOp, [&] {
    constexpr int32_t dt = convk::Elem<T>::id;
    XHAL_CPU_TRY(check_context(kOp, ctx));
    XHAL_CPU_TRY(check_tensor(kOp, "input A", A, dt));
    XHAL_CPU_TRY(check_tensor(kOp, "input B", B, dt));
    XHAL_CPU_TRY(check_tensor(kOp, "output Y", Y, dt));
    const Dims da = dims_of(A), db = dims_of(B), dy = dims_of(Y);
    if (da.rank == 0 || db.rank == 0)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "matmul: rank-0 operands are invalid (A %s, B %s)",
                  to_string(da).c_str(), to_string(db).c_str());
    const bool a_vec = da.rank == 1, b_vec = db.rank == 1;
    Plan p;
    p.M = a_vec ? 1 : da[da.rank - 2];
    p.K = da[da.rank - 1];
    const int64_t kb = b_vec ? db[0] : db[db.rank - 2];
    p.N = b_vec ? 1 : db[db.rank - 1];
    Dims ba, bb;
    for (int i = 0; i + 2 < da.rank; ++i) ba.push_back(da[i]);
    for (int i = 0; i + 2 < db.rank; ++i) bb.push_back(db[i]);
    if (p.K != kb || !broadcast_dims(ba, bb, &p.batch))
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "matmul: shapes %s and %s are not compatible",
                  to_string(da).c_str(), to_string(db).c_str());
    Dims expect = p.batch;
    if (!a_vec) expect.push_back(p.M);
    if (!b_vec) expect.push_back(p.N);
    if (expect != dy)
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "matmul: output Y has shape %s but A %s x B %s gives %s", to_string(dy).c_str(),
                  to_string(da).c_str(), to_string(db).c_str(), to_string(expect).c_str());
    if (dy.numel() == 0) return XHAL_OK;

    broadcast_strides(ba, p.batch, p.sa);
    broadcast_strides(bb, p.batch, p.sb);
    for (int d = 0; d < p.batch.rank; ++d) {
      p.sa[d] *= p.M * p.K;
      p.sb[d] *= p.K * p.N;
    }
    p.fold_batch_into_rows = bb.numel() == 1 && ba.numel() == p.batch.numel();

    if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, convk::BF16>) {
      // No half-precision BLAS: widen both operands, multiply in float32, narrow the result.
      std::vector<float> fa(static_cast<size_t>(numel(A))), fb(static_cast<size_t>(numel(B)));
      std::vector<float> fy(static_cast<size_t>(dy.numel()));
      convk::widen_n(data_as<const T>(A), fa.data(), static_cast<int64_t>(fa.size()));
      convk::widen_n(data_as<const T>(B), fb.data(), static_cast<int64_t>(fb.size()));
      run<float>(p, fa.data(), fb.data(), fy.data());
      convk::narrow_n(fy.data(), data_as<T>(Y), static_cast<int64_t>(fy.size()));
    } else {
      run<T>(p, data_as<const T>(A), data_as<const T>(B), data_as<T>(Y));
    }
    return XHAL_OK;
  });
}

}  // namespace

xhal_status_t register_matmul_kernels(const xhal_host_api_t* h, xhal_registry_t r) {
  XHAL_CPU_TRY(xhal_register_matmul_v1(h, r, matmul_kernel<float>, XHAL_DTYPE_FLOAT32, 0,
                                       "xhal.cpu.matmul"));
  XHAL_CPU_TRY(xhal_register_matmul_v1(h, r, matmul_kernel<double>, XHAL_DTYPE_FLOAT64, 0,
                                       "xhal.cpu.matmul"));
  XHAL_CPU_TRY(
      xhal_register_matmul_v1(h, r, matmul_kernel<Half>, XHAL_DTYPE_FLOAT16, 0, "xhal.cpu.matmul"));
  XHAL_CPU_TRY(xhal_register_matmul_v1(h, r, matmul_kernel<convk::BF16>, XHAL_DTYPE_BFLOAT16, 0,
                                       "xhal.cpu.matmul"));
  XHAL_CPU_TRY(xhal_register_matmul_v1(h, r, matmul_kernel<int32_t>, XHAL_DTYPE_INT32, 0,
                                       "xhal.cpu.matmul"));
  XHAL_CPU_TRY(xhal_register_matmul_v1(h, r, matmul_kernel<int64_t>, XHAL_DTYPE_INT64, 0,
                                       "xhal.cpu.matmul"));
  return XHAL_OK;
}

}  // namespace xhal_cpu
