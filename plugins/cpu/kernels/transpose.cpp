// transpose for every dtype of the spec (float32/float64/float16/bfloat16/int32/int64/bool/
// int8/uint8):
// output axis i is input axis perm[i] (reversed axes when perm is empty). Elements are moved
// as opaque 1/2/4/8-byte words. Axes that stay adjacent and in order are merged first; then
// either the innermost axis is unchanged (contiguous row copies) or the copy is done in square
// tiles so both reads and writes stay within a few cache lines.
#include <algorithm>
#include <cstring>

#include "common.h"
#include "kernels.h"

namespace xhal_cpu {
namespace {

constexpr const char* kOp = "transpose";
constexpr int64_t kTile = 32;

// The permutation after merging: output dims (outermost first) with input element strides.
struct Plan {
  int rank = 0;
  int64_t dims[kMaxRank];
  int64_t in_stride[kMaxRank];
};

Plan make_plan(const Dims& in, const int* perm) {
  int64_t stride[kMaxRank];
  int64_t s = 1;
  for (int i = in.rank - 1; i >= 0; --i) {
    stride[i] = s;
    s *= in[i];
  }
  Plan p;
  for (int i = 0; i < in.rank; ++i) {
    const int a = perm[i];
    if (in[a] == 1) continue;
    const int j = p.rank - 1;
    // Output axes i-1, i that are consecutive input axes (a-1, a) are one axis.
    if (j >= 0 && p.in_stride[j] == stride[a] * in[a]) {
      p.dims[j] *= in[a];
      p.in_stride[j] = stride[a];
      continue;
    }
    p.dims[p.rank] = in[a];
    p.in_stride[p.rank] = stride[a];
    ++p.rank;
  }
  return p;
}

// Decomposes a linear index over dims [0, r) of the plan into an input offset.
inline int64_t input_offset(const Plan& p, int r, int64_t linear) {
  int64_t off = 0;
  for (int d = r - 1; d >= 0; --d) {
    off += (linear % p.dims[d]) * p.in_stride[d];
    linear /= p.dims[d];
  }
  return off;
}

template <class W>
void run(const Plan& p, const W* x, W* y) {
  const int r = p.rank;
  const int64_t last = p.dims[r - 1];
  if (p.in_stride[r - 1] == 1) {
    // Innermost axis unchanged: each output row of `last` elements is a contiguous input run.
    int64_t rows = 1;
    for (int d = 0; d < r - 1; ++d) rows *= p.dims[d];
    parallel_for(rows, std::max<int64_t>(1, kParallelGrain / last), [&](int64_t r0, int64_t r1) {
      for (int64_t row = r0; row < r1; ++row)
        std::memcpy(y + row * last, x + input_offset(p, r - 1, row),
                    static_cast<size_t>(last) * sizeof(W));
    });
    return;
  }
  // Output axis q is the input's innermost axis (stride 1). Tile the (q, last) plane: within a
  // tile, reads run along q and writes along `last`, both through a handful of cache lines.
  int q = 0;
  while (p.in_stride[q] != 1) ++q;
  int64_t out_stride[kMaxRank];
  out_stride[r - 1] = 1;
  for (int d = r - 2; d >= 0; --d) out_stride[d] = out_stride[d + 1] * p.dims[d + 1];
  const int64_t nq = p.dims[q], s_last = p.in_stride[r - 1], os_q = out_stride[q];
  // The other axes form the "outer" index space.
  Plan outer;
  int64_t outer_out_stride[kMaxRank];
  for (int d = 0; d < r - 1; ++d) {
    if (d == q) continue;
    outer.dims[outer.rank] = p.dims[d];
    outer.in_stride[outer.rank] = p.in_stride[d];
    outer_out_stride[outer.rank] = out_stride[d];
    ++outer.rank;
  }
  int64_t outer_count = 1;
  for (int d = 0; d < outer.rank; ++d) outer_count *= outer.dims[d];
  const int64_t tq = (nq + kTile - 1) / kTile, tl = (last + kTile - 1) / kTile;
  const int64_t units = outer_count * tq * tl;
  parallel_for(units, std::max<int64_t>(1, kParallelGrain / (kTile * kTile)),
               [&](int64_t u0, int64_t u1) {
                 for (int64_t u = u0; u < u1; ++u) {
                   const int64_t o = u / (tq * tl), t = u % (tq * tl);
                   const int64_t q0 = (t / tl) * kTile, l0 = (t % tl) * kTile;
                   int64_t in_off = 0, out_off = 0, rem = o;
                   for (int d = outer.rank - 1; d >= 0; --d) {
                     const int64_t i = rem % outer.dims[d];
                     rem /= outer.dims[d];
                     in_off += i * outer.in_stride[d];
                     out_off += i * outer_out_stride[d];
                   }
                   const int64_t q1 = std::min(nq, q0 + kTile), l1 = std::min(last, l0 + kTile);
                   for (int64_t iq = q0; iq < q1; ++iq) {
                     W* dst = y + out_off + iq * os_q;
                     const W* src = x + in_off + iq;
                     for (int64_t il = l0; il < l1; ++il) dst[il] = src[il * s_last];
                   }
                 }
               });
}

template <int32_t DT>
xhal_status_t transpose_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* data,
                               const xhal_transpose_v1_attrs_t* given, xhal_tensor_t* out) {
  return guarded(kOp, [&] {
    XHAL_CPU_TRY(check_context(kOp, ctx));
    XHAL_CPU_TRY(check_tensor(kOp, "input data", data, DT));
    XHAL_CPU_TRY(check_tensor(kOp, "output transposed", out, DT));
    const xhal_transpose_v1_attrs_t at = read_attrs(given, xhal_transpose_v1_attrs_init);
    const Dims dx = dims_of(data), dy = dims_of(out);
    int perm[kMaxRank];
    if (at.perm_count == 0) {
      for (int i = 0; i < dx.rank; ++i) perm[i] = dx.rank - 1 - i;
    } else {
      if (at.perm_count != dx.rank || at.perm == nullptr)
        return fail(XHAL_ERROR_INVALID_ARGUMENT,
                    "transpose: perm has %lld entries; data %s has rank %d",
                    static_cast<long long>(at.perm_count), to_string(dx).c_str(), dx.rank);
      bool seen[kMaxRank] = {};
      for (int i = 0; i < dx.rank; ++i) {
        const int64_t a = at.perm[i];
        if (a < 0 || a >= dx.rank || seen[a])
          return fail(XHAL_ERROR_INVALID_ARGUMENT,
                      "transpose: perm is not a permutation of 0..%d (entry %d is %lld)",
                      dx.rank - 1, i, static_cast<long long>(a));
        seen[a] = true;
        perm[i] = static_cast<int>(a);
      }
    }
    Dims expect;
    for (int i = 0; i < dx.rank; ++i) expect.push_back(dx[perm[i]]);
    if (expect != dy)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "transpose: output has shape %s; expected %s",
                  to_string(dy).c_str(), to_string(expect).c_str());
    const int64_t n = dx.numel();
    if (n == 0) return XHAL_OK;
    const size_t elem = static_cast<size_t>(xhal_dtype_size(DT));
    const char* src = data_as<const char>(data);
    char* dst = data_as<char>(out);
    const Plan p = make_plan(dx, perm);
    if (p.rank <= 1) {  // the permutation moves nothing
      std::memmove(dst, src, static_cast<size_t>(n) * elem);
      return XHAL_OK;
    }
    switch (elem) {
      case 1:
        run(p, reinterpret_cast<const uint8_t*>(src), reinterpret_cast<uint8_t*>(dst));
        break;
      case 2:
        run(p, reinterpret_cast<const uint16_t*>(src), reinterpret_cast<uint16_t*>(dst));
        break;
      case 4:
        run(p, reinterpret_cast<const uint32_t*>(src), reinterpret_cast<uint32_t*>(dst));
        break;
      default:
        run(p, reinterpret_cast<const uint64_t*>(src), reinterpret_cast<uint64_t*>(dst));
        break;
    }
    return XHAL_OK;
  });
}

template <int32_t DT>
xhal_status_t register_one(const xhal_host_api_t* h, xhal_registry_t r) {
  return xhal_register_transpose_v1(h, r, transpose_kernel<DT>, DT, 0, "xhal.cpu.transpose");
}

}  // namespace

xhal_status_t register_transpose_kernels(const xhal_host_api_t* h, xhal_registry_t r) {
  XHAL_CPU_TRY(register_one<XHAL_DTYPE_FLOAT32>(h, r));
  XHAL_CPU_TRY(register_one<XHAL_DTYPE_FLOAT64>(h, r));
  XHAL_CPU_TRY(register_one<XHAL_DTYPE_FLOAT16>(h, r));
  XHAL_CPU_TRY(register_one<XHAL_DTYPE_BFLOAT16>(h, r));
  XHAL_CPU_TRY(register_one<XHAL_DTYPE_INT32>(h, r));
  XHAL_CPU_TRY(register_one<XHAL_DTYPE_INT64>(h, r));
  XHAL_CPU_TRY(register_one<XHAL_DTYPE_BOOL>(h, r));
  XHAL_CPU_TRY(register_one<XHAL_DTYPE_INT8>(h, r));
  XHAL_CPU_TRY(register_one<XHAL_DTYPE_UINT8>(h, r));
  return XHAL_OK;
}

}  // namespace xhal_cpu
