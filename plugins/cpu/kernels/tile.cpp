// tile for every dtype of the spec. The input is first copied row by row into the corner of
// the output (each row then repeated along the last axis), after which every axis, innermost
// to outermost, is completed by copying the finished block after itself repeats[axis] - 1
// times. Every step is a memcpy of a contiguous block; blocks are spread across threads.
#include <algorithm>

#include "kernels.h"
#include "movement.h"

namespace xhal_cpu {
namespace {

constexpr const char* kOp = "tile";

xhal_status_t tile_impl(int32_t dt, const xhal_kernel_context_t* ctx, const xhal_tensor_t* in,
                        const xhal_tensor_t* repeats, xhal_tensor_t* out) {
  XHAL_CPU_TRY(check_context(kOp, ctx));
  XHAL_CPU_TRY(check_tensor(kOp, "input input", in, dt));
  XHAL_CPU_TRY(check_tensor(kOp, "input repeats", repeats, XHAL_DTYPE_INT64));
  XHAL_CPU_TRY(check_tensor(kOp, "output output", out, dt));
  const Dims dx = dims_of(in), dy = dims_of(out);
  if (repeats->ndim != 1 || numel(repeats) != dx.rank)
    return fail(XHAL_ERROR_INVALID_ARGUMENT,
                "tile: repeats must be 1-D with one entry per axis of input %s, got shape %s",
                to_string(dx).c_str(), to_string(dims_of(repeats)).c_str());
  const int64_t* rep = data_as<const int64_t>(repeats);
  Dims expect;
  for (int i = 0; i < dx.rank; ++i) {
    if (rep[i] < 0)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "tile: repeats[%d] = %lld is negative", i,
                  static_cast<long long>(rep[i]));
    expect.push_back(dx[i] * rep[i]);
  }
  if (expect != dy)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "tile: output has shape %s; expected %s",
                to_string(dy).c_str(), to_string(expect).c_str());
  if (dy.numel() == 0) return XHAL_OK;
  const int64_t elem = xhal_dtype_size(dt);
  const char* x = data_as<const char>(in);
  char* y = data_as<char>(out);
  const int r = dx.rank;
  if (r == 0) {
    std::memcpy(y, x, static_cast<size_t>(elem));
    return XHAL_OK;
  }
  int64_t os[kMaxRank];  // output strides, bytes
  strides_of(dy, os);
  for (int i = 0; i < r; ++i) os[i] *= elem;
  // Offset in the output of the input-range prefix index `p` over axes [0, k).
  auto prefix_offset = [&](int64_t p, int k) {
    int64_t off = 0;
    for (int d = k - 1; d >= 0; --d) {
      off += (p % dx[d]) * os[d];
      p /= dx[d];
    }
    return off;
  };
  // Step 1: input rows into place, each repeated along the last axis.
  const int64_t w = dx[r - 1] * elem, rows = product(dx, 0, r - 1), nrep = rep[r - 1];
  parallel_for(rows, std::max<int64_t>(1, kCopyGrainBytes / (w * nrep)), [&](int64_t a,
                                                                             int64_t b) {
    for (int64_t row = a; row < b; ++row) {
      char* dst = y + prefix_offset(row, r - 1);
      for (int64_t t = 0; t < nrep; ++t)
        std::memcpy(dst + t * w, x + row * w, static_cast<size_t>(w));
    }
  });
  // Step 2: axes r-2 .. 0, each block [prefix, 0:dx[j], ...] copied rep[j] - 1 times.
  for (int j = r - 2; j >= 0; --j) {
    if (rep[j] == 1) continue;
    const int64_t seg = dx[j] * os[j], n = product(dx, 0, j), copies = rep[j] - 1;
    parallel_for(n * copies, std::max<int64_t>(1, kCopyGrainBytes / seg), [&](int64_t a,
                                                                             int64_t b) {
      for (int64_t u = a; u < b; ++u) {
        char* base = y + prefix_offset(u / copies, j);
        std::memcpy(base + (u % copies + 1) * seg, base, static_cast<size_t>(seg));
      }
    });
  }
  return XHAL_OK;
}

template <int32_t DT>
xhal_status_t tile_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* in,
                          const xhal_tensor_t* repeats, const xhal_tile_v1_attrs_t* /*attrs*/,
                          xhal_tensor_t* out) {
  return guarded(kOp, [&] { return tile_impl(DT, ctx, in, repeats, out); });
}

}  // namespace

xhal_status_t register_tile_kernels(const xhal_host_api_t* h, xhal_registry_t r) {
  auto reg = [&](xhal_tile_v1_kernel_fn fn, int32_t dt) {
    return xhal_register_tile_v1(h, r, fn, dt, 0, "xhal.cpu.tile");
  };
  XHAL_CPU_REGISTER_MOVEMENT_DTYPES(reg, tile_kernel);
  return XHAL_OK;
}

}  // namespace xhal_cpu
