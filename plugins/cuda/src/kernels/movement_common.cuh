// Helpers shared by the CUDA movement and nn families (movement, gather, pad, resize, pool,
// conv, einsum): attribute reading with spec defaults, axis normalisation, host-memory int lists,
// a dtype-list registration macro, and a few small device kernels (fill with one value, typed
// strided conversion). Values that are only moved are handled per element size, not per dtype.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "dtypes.cuh"
#include "indexing.cuh"
#include "support.h"

namespace xhal_cuda {
namespace mv {

// An axis in [-rank, rank) as [0, rank); -1 when out of range.
inline int normalize_axis(int64_t axis, int rank) {
  if (axis < -rank || axis >= rank) return -1;
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

inline int64_t product(const Shape& s, int begin, int end) {
  int64_t p = 1;
  for (int i = begin; i < end; ++i) p *= s[i];
  return p;
}

// A host_memory int64 list (0-D or 1-D), checked and read into `out`.
inline xhal_status_t host_int_list(const Call& call, const char* role, const xhal_tensor_t* t,
                                   std::vector<int64_t>* out) {
  XHAL_CUDA_TRY(check_host_tensor(call, role, t, XHAL_DTYPE_INT64));
  if (t->ndim > 1)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: %s must be 1-D, got %s", call.op, role,
                to_string(shape_of(t)).c_str());
  const int64_t n = shape_of(t).numel();
  out->assign(static_cast<size_t>(n), 0);
  if (n > 0) read_host_ints(t, out->data(), n);
  return XHAL_OK;
}

inline int elem_size(int32_t dtype) { return static_cast<int>(xhal_dtype_size(dtype)); }

// Copies a whole tensor (any strides) into compact memory at dst, in its own shape.
inline xhal_status_t copy_to_compact(const Call& call, const xhal_tensor_t* t, void* dst) {
  const Shape s = shape_of(t);
  if (s.numel() == 0) return XHAL_OK;
  const int elem = elem_size(xhal_dtype_from_dl(t->dtype));
  if (is_compact(t)) {
    const void* src = data_as<const char>(t);
    if (src == dst) return XHAL_OK;
    XHAL_CUDA_CHECK("copy", cudaMemcpyAsync(dst, src, static_cast<size_t>(s.numel()) * elem,
                                            cudaMemcpyDeviceToDevice, call.stream));
    return XHAL_OK;
  }
  int64_t ss[kMaxRank], ds[kMaxRank];
  strides_of(t, ss);
  compact_strides(s, ds);
  return copy_strided(call, s, data_as<const char>(t), ss, dst, ds, elem);
}

// ---- small device kernels -------------------------------------------------------------------
// (internal linkage: every translation unit that includes this header gets its own copy)
namespace {

template <class T>
__global__ void fill_kernel(T* dst, int64_t n, T v) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x)
    dst[i] = v;
}

template <class T>
xhal_status_t fill(const Call& call, T* dst, int64_t n, T v) {
  if (n <= 0) return XHAL_OK;
  fill_kernel<T><<<grid_for(n), 256, 0, call.stream>>>(dst, n, v);
  return check_launch(call, "fill");
}

// dst[compact index] = convert(src[strided offset]) over `offsets` (from make_offsets<1>).
template <class S, class D>
__global__ void convert_kernel(Offsets<1> off, int64_t n, const S* src, D* dst) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    int64_t o[1];
    off.at(i, o);
    dst[i] = convert<D>(src[o[0]]);
  }
}

// Converting gather: dst (compact, `shape`) = src read with element strides `src_strides`.
template <class S, class D>
xhal_status_t convert_strided(const Call& call, const Shape& shape, const S* src,
                              const int64_t* src_strides, D* dst) {
  const int64_t n = shape.numel();
  if (n == 0) return XHAL_OK;
  const int64_t* strides[1] = {src_strides};
  Offsets<1> off;
  XHAL_CUDA_TRY(make_offsets<1>(call, shape, strides, &off));
  convert_kernel<S, D><<<grid_for(n), 256, 0, call.stream>>>(off, n, src, dst);
  return check_launch(call, "convert");
}

// dst[i] = convert(src[i]) for compact arrays.
template <class S, class D>
__global__ void convert_flat_kernel(int64_t n, const S* src, D* dst) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x)
    dst[i] = convert<D>(src[i]);
}

template <class S, class D>
xhal_status_t convert_flat(const Call& call, int64_t n, const S* src, D* dst) {
  if (n <= 0) return XHAL_OK;
  convert_flat_kernel<S, D><<<grid_for(n), 256, 0, call.stream>>>(n, src, dst);
  return check_launch(call, "convert");
}

}  // namespace
}  // namespace mv
}  // namespace xhal_cuda

// Calls REG(KERNEL<D>, D) for every dtype the movement specs admit (float32, float64, float16,
// bfloat16, int32, int64, bool, int8, uint8); returns from the enclosing function on failure.
#define XHAL_CUDA_REGISTER_MOVEMENT_DTYPES(REG, KERNEL)                   \
  do {                                                                    \
    XHAL_CUDA_TRY(REG(KERNEL<XHAL_DTYPE_FLOAT32>, XHAL_DTYPE_FLOAT32));   \
    XHAL_CUDA_TRY(REG(KERNEL<XHAL_DTYPE_FLOAT64>, XHAL_DTYPE_FLOAT64));   \
    XHAL_CUDA_TRY(REG(KERNEL<XHAL_DTYPE_FLOAT16>, XHAL_DTYPE_FLOAT16));   \
    XHAL_CUDA_TRY(REG(KERNEL<XHAL_DTYPE_BFLOAT16>, XHAL_DTYPE_BFLOAT16)); \
    XHAL_CUDA_TRY(REG(KERNEL<XHAL_DTYPE_INT32>, XHAL_DTYPE_INT32));       \
    XHAL_CUDA_TRY(REG(KERNEL<XHAL_DTYPE_INT64>, XHAL_DTYPE_INT64));       \
    XHAL_CUDA_TRY(REG(KERNEL<XHAL_DTYPE_BOOL>, XHAL_DTYPE_BOOL));         \
    XHAL_CUDA_TRY(REG(KERNEL<XHAL_DTYPE_INT8>, XHAL_DTYPE_INT8));         \
    XHAL_CUDA_TRY(REG(KERNEL<XHAL_DTYPE_UINT8>, XHAL_DTYPE_UINT8));       \
  } while (0)
