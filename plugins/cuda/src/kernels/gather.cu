// gather and gather_elements (ONNX Gather-13 / GatherElements-13) for every dtype of their specs
// with int32 and int64 indices.
//
// How: one thread per output element (grid-stride). gather decomposes the output index into
// (outer, index position, inner) and reads data[outer, indices[j], inner]; gather_elements
// replaces the axis coordinate of the output position by indices[position]. Negative indices
// count from the back. Data and indices are read compact (CompactInput); values are moved as
// 1/2/4/8-byte words, so one instantiation per element size and index type.
//
// Deliberately different from the CPU plugin: an index outside [-s, s-1] cannot be reported
// without synchronising the stream (the indices live on the device), so the kernel stays
// memory-safe and writes 0 for that element instead of failing the call.
#include <type_traits>

#include "movement_common.cuh"
#include "registry.h"

namespace xhal_cuda {
namespace {

using mv::normalize_axis;

template <int32_t DT>
using word_t = std::conditional_t<
    sizeof(dtype_t<DT>) == 1, uint8_t,
    std::conditional_t<sizeof(dtype_t<DT>) == 2, uint16_t,
                       std::conditional_t<sizeof(dtype_t<DT>) == 4, uint32_t, uint64_t>>>;

template <class Ind>
constexpr int32_t index_dtype() {
  return std::is_same<Ind, int32_t>::value ? XHAL_DTYPE_INT32 : XHAL_DTYPE_INT64;
}

// ---- gather ---------------------------------------------------------------------------------
template <class W, class Ind>
__global__ void gather_dev(int64_t total, int64_t n, int64_t inner, int64_t dim, const W* x,
                           const Ind* idx, W* y) {
  for (int64_t u = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; u < total;
       u += int64_t(gridDim.x) * blockDim.x) {
    const int64_t i = u % inner, t = u / inner;
    const int64_t j = t % n, o = t / n;
    int64_t v = static_cast<int64_t>(idx[j]);
    if (v < 0) v += dim;
    y[u] = (v >= 0 && v < dim) ? x[(o * dim + v) * inner + i] : W(0);
  }
}

template <int32_t DT, class Ind>
xhal_status_t gather_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* data,
                            const xhal_tensor_t* indices, const xhal_gather_v1_attrs_t* given,
                            xhal_tensor_t* out) noexcept {
  return guarded("gather", [&] {
    Call call;
    XHAL_CUDA_TRY(begin_call("gather", ctx, &call));
    XHAL_CUDA_TRY(check_tensor(call, "input data", data, DT));
    XHAL_CUDA_TRY(check_tensor(call, "input indices", indices, index_dtype<Ind>()));
    XHAL_CUDA_TRY(check_tensor(call, "output output", out, DT));
    const auto at = read_attrs(given, xhal_gather_v1_attrs_init);
    const Shape dx = shape_of(data), di = shape_of(indices);
    const int axis = normalize_axis(at.axis, dx.rank);
    if (axis < 0)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "gather: axis %lld is out of range for data %s",
                  static_cast<long long>(at.axis), to_string(dx).c_str());
    if (dx.rank + di.rank - 1 > kMaxRank)
      return fail(XHAL_ERROR_UNSUPPORTED, "gather: output rank exceeds %d", kMaxRank);
    Shape expect;
    for (int i = 0; i < axis; ++i) expect.push_back(dx[i]);
    for (int i = 0; i < di.rank; ++i) expect.push_back(di[i]);
    for (int i = axis + 1; i < dx.rank; ++i) expect.push_back(dx[i]);
    XHAL_CUDA_TRY(check_shape(call, "output output", out, expect));
    const int64_t total = expect.numel();
    if (total == 0) return XHAL_OK;
    CompactInput cx, ci;
    XHAL_CUDA_TRY(cx.init(call, data));
    XHAL_CUDA_TRY(ci.init(call, indices));
    using W = word_t<DT>;
    const int64_t n = di.numel(), inner = mv::product(dx, axis + 1, dx.rank);
    gather_dev<W, Ind><<<grid_for(total), 256, 0, call.stream>>>(
        total, n, inner, dx[axis], cx.as<W>(), ci.as<Ind>(), data_as<W>(out));
    return check_launch(call, "gather");
  });
}

// ---- gather_elements ------------------------------------------------------------------------
struct ElemParams {
  int rank;
  int axis;
  int64_t dim;
  int64_t dims[kMaxRank];     // indices (= output) shape
  int64_t strides[kMaxRank];  // compact data strides
};

template <class W, class Ind>
__global__ void gather_elements_dev(ElemParams p, int64_t total, const W* x, const Ind* idx,
                                    W* y) {
  for (int64_t u = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; u < total;
       u += int64_t(gridDim.x) * blockDim.x) {
    int64_t v = static_cast<int64_t>(idx[u]);
    if (v < 0) v += p.dim;
    if (v < 0 || v >= p.dim) {
      y[u] = W(0);
      continue;
    }
    int64_t rest = u, off = 0;
    for (int d = p.rank - 1; d >= 0; --d) {
      const int64_t c = rest % p.dims[d];
      rest /= p.dims[d];
      off += (d == p.axis ? v : c) * p.strides[d];
    }
    y[u] = x[off];
  }
}

template <int32_t DT, class Ind>
xhal_status_t gather_elements_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* data,
                                     const xhal_tensor_t* indices,
                                     const xhal_gather_elements_v1_attrs_t* given,
                                     xhal_tensor_t* out) noexcept {
  return guarded("gather_elements", [&] {
    Call call;
    XHAL_CUDA_TRY(begin_call("gather_elements", ctx, &call));
    XHAL_CUDA_TRY(check_tensor(call, "input data", data, DT));
    XHAL_CUDA_TRY(check_tensor(call, "input indices", indices, index_dtype<Ind>()));
    XHAL_CUDA_TRY(check_tensor(call, "output output", out, DT));
    const auto at = read_attrs(given, xhal_gather_elements_v1_attrs_init);
    const Shape dx = shape_of(data), di = shape_of(indices);
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
    XHAL_CUDA_TRY(check_shape(call, "output output", out, di));
    const int64_t total = di.numel();
    if (total == 0) return XHAL_OK;
    CompactInput cx, ci;
    XHAL_CUDA_TRY(cx.init(call, data));
    XHAL_CUDA_TRY(ci.init(call, indices));
    ElemParams p{};
    p.rank = dx.rank;
    p.axis = axis;
    p.dim = dx[axis];
    compact_strides(dx, p.strides);
    for (int i = 0; i < di.rank; ++i) p.dims[i] = di[i];
    using W = word_t<DT>;
    gather_elements_dev<W, Ind><<<grid_for(total), 256, 0, call.stream>>>(
        p, total, cx.as<W>(), ci.as<Ind>(), data_as<W>(out));
    return check_launch(call, "gather_elements");
  });
}

constexpr uint32_t kFlags = XHAL_KERNEL_FLAG_STRIDED_INPUTS;

template <int32_t DT>
xhal_status_t register_dtype(const xhal_host_api_t* h, xhal_registry_t r) {
  XHAL_CUDA_TRY(xhal_register_gather_v1(h, r, gather_kernel<DT, int32_t>, DT, XHAL_DTYPE_INT32,
                                        kFlags, "cuda.gather"));
  XHAL_CUDA_TRY(xhal_register_gather_v1(h, r, gather_kernel<DT, int64_t>, DT, XHAL_DTYPE_INT64,
                                        kFlags, "cuda.gather"));
  XHAL_CUDA_TRY(xhal_register_gather_elements_v1(h, r, gather_elements_kernel<DT, int32_t>, DT,
                                                 XHAL_DTYPE_INT32, kFlags,
                                                 "cuda.gather_elements"));
  return xhal_register_gather_elements_v1(h, r, gather_elements_kernel<DT, int64_t>, DT,
                                          XHAL_DTYPE_INT64, kFlags, "cuda.gather_elements");
}

xhal_status_t register_gather_family(const xhal_host_api_t* h, xhal_registry_t r) {
  XHAL_CUDA_TRY(register_dtype<XHAL_DTYPE_FLOAT32>(h, r));
  XHAL_CUDA_TRY(register_dtype<XHAL_DTYPE_FLOAT64>(h, r));
  XHAL_CUDA_TRY(register_dtype<XHAL_DTYPE_FLOAT16>(h, r));
  XHAL_CUDA_TRY(register_dtype<XHAL_DTYPE_BFLOAT16>(h, r));
  XHAL_CUDA_TRY(register_dtype<XHAL_DTYPE_INT32>(h, r));
  XHAL_CUDA_TRY(register_dtype<XHAL_DTYPE_INT64>(h, r));
  XHAL_CUDA_TRY(register_dtype<XHAL_DTYPE_BOOL>(h, r));
  XHAL_CUDA_TRY(register_dtype<XHAL_DTYPE_INT8>(h, r));
  return register_dtype<XHAL_DTYPE_UINT8>(h, r);
}

}  // namespace

XHAL_CUDA_KERNEL_FAMILY(gather, register_gather_family);

}  // namespace xhal_cuda
