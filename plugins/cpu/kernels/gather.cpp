// gather and gather_elements for every dtype of the spec and int32/int64 indices. Indices are
// checked and normalised (negative ones count from the back) into an int64 buffer first, so
// a bad index is an error before anything is written; the copy itself is then independent of
// the index type. gather copies whole contiguous slices data[o, idx, :] (one memcpy each, or a
// word copy when a slice is one element); gather_elements walks the output row by row.
#include <algorithm>
#include <type_traits>
#include <vector>

#include "kernels.h"
#include "movement.h"

namespace xhal_cpu {
namespace {

template <class Ind>
xhal_status_t normalise_indices(const char* op, const xhal_tensor_t* indices, int64_t dim,
                                std::vector<int64_t>* out) {
  const int64_t n = numel(indices);
  const Ind* idx = data_as<const Ind>(indices);
  out->resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    int64_t v = static_cast<int64_t>(idx[i]);
    if (v < -dim || v >= dim)
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "%s: indices[%lld] = %lld is out of range [%lld, %lld] for an axis of size %lld",
                  op, static_cast<long long>(i), static_cast<long long>(v),
                  static_cast<long long>(-dim), static_cast<long long>(dim - 1),
                  static_cast<long long>(dim));
    (*out)[static_cast<size_t>(i)] = v < 0 ? v + dim : v;
  }
  return XHAL_OK;
}

template <class Ind>
constexpr int32_t index_dtype() {
  return std::is_same_v<Ind, int32_t> ? XHAL_DTYPE_INT32 : XHAL_DTYPE_INT64;
}

// ---- gather ---------------------------------------------------------------------------------

template <class Ind>
xhal_status_t gather_impl(int32_t dt, const xhal_kernel_context_t* ctx, const xhal_tensor_t* data,
                          const xhal_tensor_t* indices, const xhal_gather_v1_attrs_t* given,
                          xhal_tensor_t* out) {
  constexpr const char* kOp = "gather";
  XHAL_CPU_TRY(check_context(kOp, ctx));
  XHAL_CPU_TRY(check_tensor(kOp, "input data", data, dt));
  XHAL_CPU_TRY(check_tensor(kOp, "input indices", indices, index_dtype<Ind>()));
  XHAL_CPU_TRY(check_tensor(kOp, "output output", out, dt));
  const xhal_gather_v1_attrs_t at = read_attrs(given, xhal_gather_v1_attrs_init);
  const Dims dx = dims_of(data), di = dims_of(indices), dy = dims_of(out);
  const int axis = normalize_axis(at.axis, dx.rank);
  if (axis < 0)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "gather: axis %lld is out of range for data %s",
                static_cast<long long>(at.axis), to_string(dx).c_str());
  if (dx.rank + di.rank - 1 > kMaxRank)
    return fail(XHAL_ERROR_UNSUPPORTED, "gather: output rank exceeds %d", kMaxRank);
  Dims expect;
  for (int i = 0; i < axis; ++i) expect.push_back(dx[i]);
  for (int i = 0; i < di.rank; ++i) expect.push_back(di[i]);
  for (int i = axis + 1; i < dx.rank; ++i) expect.push_back(dx[i]);
  if (expect != dy)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "gather: output has shape %s; expected %s",
                to_string(dy).c_str(), to_string(expect).c_str());
  std::vector<int64_t> idx;
  XHAL_CPU_TRY(normalise_indices<Ind>(kOp, indices, dx[axis], &idx));
  const int64_t elem = xhal_dtype_size(dt);
  const int64_t outer = product(dx, 0, axis), dim = dx[axis];
  const int64_t inner = product(dx, axis + 1, dx.rank) * elem;  // bytes per slice
  const int64_t n = static_cast<int64_t>(idx.size());
  if (outer == 0 || n == 0 || inner == 0) return XHAL_OK;
  const char* x = data_as<const char>(data);
  char* y = data_as<char>(out);
  if (inner == elem) {
    with_word(elem, [&](auto w) {
      using W = decltype(w);
      const W* xs = reinterpret_cast<const W*>(x);
      W* ys = reinterpret_cast<W*>(y);
      parallel_for(outer * n, kParallelGrain, [&](int64_t u0, int64_t u1) {
        for (int64_t u = u0; u < u1; ++u) ys[u] = xs[(u / n) * dim + idx[static_cast<size_t>(u % n)]];
      });
    });
    return XHAL_OK;
  }
  parallel_for(outer * n, std::max<int64_t>(1, kCopyGrainBytes / inner), [&](int64_t u0,
                                                                             int64_t u1) {
    for (int64_t u = u0; u < u1; ++u) {
      const int64_t o = u / n, j = idx[static_cast<size_t>(u % n)];
      std::memcpy(y + u * inner, x + (o * dim + j) * inner, static_cast<size_t>(inner));
    }
  });
  return XHAL_OK;
}

template <int32_t DT, class Ind>
xhal_status_t gather_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* data,
                            const xhal_tensor_t* indices, const xhal_gather_v1_attrs_t* attrs,
                            xhal_tensor_t* out) {
  return guarded("gather", [&] { return gather_impl<Ind>(DT, ctx, data, indices, attrs, out); });
}

// ---- gather_elements ------------------------------------------------------------------------

template <class W>
void gather_elements_rows(const W* x, W* y, const int64_t* idx, const Dims& di,
                          const int64_t* xstride, int axis, int64_t r0, int64_t r1) {
  const int last = di.rank - 1;
  const int64_t w = di[last];
  for (int64_t r = r0; r < r1; ++r) {
    int64_t base = 0, rem = r;
    for (int d = last - 1; d >= 0; --d) {
      const int64_t i = rem % di[d];
      rem /= di[d];
      if (d != axis) base += i * xstride[d];
    }
    const int64_t* ir = idx + r * w;
    W* yr = y + r * w;
    if (axis == last) {
      const W* xr = x + base;
      for (int64_t c = 0; c < w; ++c) yr[c] = xr[ir[c]];
    } else {
      const int64_t sa = xstride[axis];
      const W* xr = x + base;
      for (int64_t c = 0; c < w; ++c) yr[c] = xr[c + ir[c] * sa];
    }
  }
}

template <class Ind>
xhal_status_t gather_elements_impl(int32_t dt, const xhal_kernel_context_t* ctx,
                                   const xhal_tensor_t* data, const xhal_tensor_t* indices,
                                   const xhal_gather_elements_v1_attrs_t* given,
                                   xhal_tensor_t* out) {
  constexpr const char* kOp = "gather_elements";
  XHAL_CPU_TRY(check_context(kOp, ctx));
  XHAL_CPU_TRY(check_tensor(kOp, "input data", data, dt));
  XHAL_CPU_TRY(check_tensor(kOp, "input indices", indices, index_dtype<Ind>()));
  XHAL_CPU_TRY(check_tensor(kOp, "output output", out, dt));
  const xhal_gather_elements_v1_attrs_t at =
      read_attrs(given, xhal_gather_elements_v1_attrs_init);
  const Dims dx = dims_of(data), di = dims_of(indices), dy = dims_of(out);
  const int axis = normalize_axis(at.axis, dx.rank);
  if (axis < 0)
    return fail(XHAL_ERROR_INVALID_ARGUMENT,
                "gather_elements: axis %lld is out of range for data %s",
                static_cast<long long>(at.axis), to_string(dx).c_str());
  bool ok = di.rank == dx.rank;
  for (int i = 0; ok && i < dx.rank; ++i) ok = i == axis || di[i] <= dx[i];
  if (!ok)
    return fail(XHAL_ERROR_INVALID_ARGUMENT,
                "gather_elements: indices %s must have data %s's rank and be no larger off "
                "axis %d",
                to_string(di).c_str(), to_string(dx).c_str(), axis);
  if (dy != di)
    return fail(XHAL_ERROR_INVALID_ARGUMENT,
                "gather_elements: output has shape %s; expected the indices' %s",
                to_string(dy).c_str(), to_string(di).c_str());
  std::vector<int64_t> idx;
  XHAL_CPU_TRY(normalise_indices<Ind>(kOp, indices, dx[axis], &idx));
  if (idx.empty()) return XHAL_OK;
  int64_t xstride[kMaxRank];
  strides_of(dx, xstride);
  const int64_t w = di[di.rank - 1], rows = static_cast<int64_t>(idx.size()) / w;
  const int64_t elem = xhal_dtype_size(dt);
  with_word(elem, [&](auto word) {
    using W = decltype(word);
    const W* x = data_as<const W>(data);
    W* y = data_as<W>(out);
    parallel_for(rows, std::max<int64_t>(1, kParallelGrain / w), [&](int64_t r0, int64_t r1) {
      gather_elements_rows(x, y, idx.data(), di, xstride, axis, r0, r1);
    });
  });
  return XHAL_OK;
}

template <int32_t DT, class Ind>
xhal_status_t gather_elements_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* data,
                                     const xhal_tensor_t* indices,
                                     const xhal_gather_elements_v1_attrs_t* attrs,
                                     xhal_tensor_t* out) {
  return guarded("gather_elements",
                 [&] { return gather_elements_impl<Ind>(DT, ctx, data, indices, attrs, out); });
}

template <int32_t DT>
xhal_status_t register_dtype(const xhal_host_api_t* h, xhal_registry_t r) {
  XHAL_CPU_TRY(xhal_register_gather_v1(h, r, gather_kernel<DT, int32_t>, DT, XHAL_DTYPE_INT32, 0,
                                       "xhal.cpu.gather"));
  XHAL_CPU_TRY(xhal_register_gather_v1(h, r, gather_kernel<DT, int64_t>, DT, XHAL_DTYPE_INT64, 0,
                                       "xhal.cpu.gather"));
  XHAL_CPU_TRY(xhal_register_gather_elements_v1(h, r, gather_elements_kernel<DT, int32_t>, DT,
                                                XHAL_DTYPE_INT32, 0, "xhal.cpu.gather_elements"));
  XHAL_CPU_TRY(xhal_register_gather_elements_v1(h, r, gather_elements_kernel<DT, int64_t>, DT,
                                                XHAL_DTYPE_INT64, 0, "xhal.cpu.gather_elements"));
  return XHAL_OK;
}

}  // namespace

xhal_status_t register_gather_kernels(const xhal_host_api_t* h, xhal_registry_t r) {
  XHAL_CPU_TRY(register_dtype<XHAL_DTYPE_FLOAT32>(h, r));
  XHAL_CPU_TRY(register_dtype<XHAL_DTYPE_FLOAT64>(h, r));
  XHAL_CPU_TRY(register_dtype<XHAL_DTYPE_FLOAT16>(h, r));
  XHAL_CPU_TRY(register_dtype<XHAL_DTYPE_BFLOAT16>(h, r));
  XHAL_CPU_TRY(register_dtype<XHAL_DTYPE_INT32>(h, r));
  XHAL_CPU_TRY(register_dtype<XHAL_DTYPE_INT64>(h, r));
  XHAL_CPU_TRY(register_dtype<XHAL_DTYPE_BOOL>(h, r));
  XHAL_CPU_TRY(register_dtype<XHAL_DTYPE_INT8>(h, r));
  XHAL_CPU_TRY(register_dtype<XHAL_DTYPE_UINT8>(h, r));
  return XHAL_OK;
}

}  // namespace xhal_cpu
