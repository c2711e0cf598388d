#include "support.h"

#include <algorithm>
#include <cstring>

#include "../runtime.h"
#include "indexing.cuh"

namespace xhal_cuda {

Shape shape_of(const xhal_tensor_t* t) {
  Shape s;
  s.rank = t->ndim;
  for (int i = 0; i < t->ndim; ++i) s.d[i] = t->shape[i];
  return s;
}

std::string to_string(const Shape& s) {
  std::string out = "[";
  for (int i = 0; i < s.rank; ++i) {
    if (i) out += ", ";
    out += std::to_string(s.d[i]);
  }
  return out + "]";
}

void compact_strides(const Shape& shape, int64_t* strides) {
  int64_t step = 1;
  for (int i = shape.rank - 1; i >= 0; --i) {
    strides[i] = step;
    step *= shape[i] > 0 ? shape[i] : 1;
  }
}

void strides_of(const xhal_tensor_t* t, int64_t* strides) {
  if (t->strides == nullptr) {
    compact_strides(shape_of(t), strides);
    return;
  }
  for (int i = 0; i < t->ndim; ++i) strides[i] = t->strides[i];
}

bool is_compact(const xhal_tensor_t* t) {
  if (t->strides == nullptr) return true;
  int64_t step = 1;
  for (int i = t->ndim - 1; i >= 0; --i) {
    if (t->shape[i] != 1 && t->strides[i] != step) return false;
    step *= t->shape[i];
  }
  return true;
}

xhal_status_t begin_call(const char* op, const xhal_kernel_context_t* ctx, Call* call) {
  if (ctx == nullptr) return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: kernel context is NULL", op);
  if (ctx->struct_size < sizeof(xhal_kernel_context_t))
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: kernel context struct_size %zu is too small",
                op, ctx->struct_size);
  cudaStream_t s = native_stream(op, ctx->stream);  // checks the handle, makes its device current
  if (s == nullptr) return XHAL_ERROR_INVALID_ARGUMENT;
  call->op = op;
  call->device = ctx->device;
  call->stream = s;
  return XHAL_OK;
}

namespace {

xhal_status_t check_common(const Call& call, const char* role, const xhal_tensor_t* t,
                           int32_t dtype) {
  if (t == nullptr) return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: %s is NULL", call.op, role);
  if (t->ndim < 0 || t->ndim > kMaxRank)
    return fail(XHAL_ERROR_UNSUPPORTED, "%s: %s has rank %d; the CUDA kernels take up to %d",
                call.op, role, static_cast<int>(t->ndim), kMaxRank);
  if (t->ndim > 0 && t->shape == nullptr)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: %s has rank %d but no shape", call.op, role,
                static_cast<int>(t->ndim));
  for (int i = 0; i < t->ndim; ++i)
    if (t->shape[i] < 0)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: %s has negative dimension %lld at axis %d",
                  call.op, role, static_cast<long long>(t->shape[i]), i);
  const int32_t got = xhal_dtype_from_dl(t->dtype);
  if (got != dtype)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: %s has dtype %d, the kernel takes %d", call.op,
                role, static_cast<int>(got), static_cast<int>(dtype));
  if (shape_of(t).numel() > 0 && t->data == nullptr)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: %s %s has no data", call.op, role,
                to_string(shape_of(t)).c_str());
  return XHAL_OK;
}

}  // namespace

xhal_status_t check_tensor(const Call& call, const char* role, const xhal_tensor_t* t,
                           int32_t dtype) {
  XHAL_CUDA_TRY(check_common(call, role, t, dtype));
  if (t->device.device_type != XHAL_DL_CUDA)
    return fail(XHAL_ERROR_INVALID_ARGUMENT,
                "%s: %s is not CUDA device memory (DLPack device type %d)", call.op, role,
                static_cast<int>(t->device.device_type));
  return XHAL_OK;
}

xhal_status_t check_host_tensor(const Call& call, const char* role, const xhal_tensor_t* t,
                                int32_t dtype) {
  XHAL_CUDA_TRY(check_common(call, role, t, dtype));
  if (t->device.device_type != XHAL_DL_CPU && t->device.device_type != XHAL_DL_CUDA_HOST)
    return fail(XHAL_ERROR_INVALID_ARGUMENT,
                "%s: %s must be host memory (host_memory input), got DLPack device type %d",
                call.op, role, static_cast<int>(t->device.device_type));
  return XHAL_OK;
}

xhal_status_t check_shape(const Call& call, const char* role, const xhal_tensor_t* t,
                          const Shape& expected) {
  const Shape got = shape_of(t);
  if (got != expected)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: %s has shape %s, expected %s", call.op, role,
                to_string(got).c_str(), to_string(expected).c_str());
  return XHAL_OK;
}

void read_host_ints(const xhal_tensor_t* t, int64_t* out, int64_t count) {
  int64_t strides[kMaxRank];
  strides_of(t, strides);
  const int64_t step = t->ndim == 0 ? 1 : strides[t->ndim - 1];  // 0-D or 1-D operands
  const int32_t dtype = xhal_dtype_from_dl(t->dtype);
  for (int64_t i = 0; i < count; ++i) {
    if (dtype == XHAL_DTYPE_INT32)
      out[i] = data_as<const int32_t>(t)[i * step];
    else
      out[i] = data_as<const int64_t>(t)[i * step];
  }
}

Scratch::~Scratch() {
  if (ptr_ != nullptr) cudaFreeAsync(ptr_, stream_);  // stream-ordered: after the call's work
}

xhal_status_t Scratch::alloc(const Call& call, uint64_t bytes) {
  if (ptr_ != nullptr) cudaFreeAsync(ptr_, stream_);
  ptr_ = nullptr;
  stream_ = call.stream;
  if (bytes == 0) return XHAL_OK;
  const cudaError_t err = cudaMallocAsync(&ptr_, bytes, call.stream);
  if (err != cudaSuccess) {
    ptr_ = nullptr;
    cudaGetLastError();
    return fail(err == cudaErrorMemoryAllocation ? XHAL_ERROR_OUT_OF_MEMORY : XHAL_ERROR_DEVICE,
                "%s: scratch memory of %llu bytes: %s", call.op,
                static_cast<unsigned long long>(bytes), cudaGetErrorString(err));
  }
  return XHAL_OK;
}

xhal_status_t CompactInput::init(const Call& call, const xhal_tensor_t* t) {
  shape_ = shape_of(t);
  if (is_compact(t)) {
    data_ = data_as<const char>(t);
    return XHAL_OK;
  }
  const int elem = xhal_dtype_size(xhal_dtype_from_dl(t->dtype));
  XHAL_CUDA_TRY(copy_.alloc(call, static_cast<uint64_t>(shape_.numel()) * elem));
  int64_t src_strides[kMaxRank], dst_strides[kMaxRank];
  strides_of(t, src_strides);
  compact_strides(shape_, dst_strides);
  XHAL_CUDA_TRY(copy_strided(call, shape_, data_as<const char>(t), src_strides, copy_.get(),
                             dst_strides, elem));
  data_ = copy_.get();
  return XHAL_OK;
}

namespace {

template <class E>
__global__ void copy_strided_kernel(Offsets<2> offsets, int64_t n, const E* src, E* dst) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    int64_t off[2];
    offsets.at(i, off);
    dst[off[1]] = src[off[0]];
  }
}

template <class E>
__global__ void copy_contiguous_kernel(int64_t n, const E* src, E* dst) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x)
    dst[i] = src[i];
}

template <class E>
xhal_status_t launch_copy(const Call& call, const Offsets<2>& offsets, int64_t n, const void* src,
                          void* dst) {
  const bool contiguous = offsets.rank == 0 ||
                          (offsets.rank == 1 && offsets.strides[0][0] == 1 &&
                           offsets.strides[1][0] == 1);
  if (contiguous)
    copy_contiguous_kernel<E><<<grid_for(n), 256, 0, call.stream>>>(
        n, static_cast<const E*>(src), static_cast<E*>(dst));
  else
    copy_strided_kernel<E><<<grid_for(n), 256, 0, call.stream>>>(
        offsets, n, static_cast<const E*>(src), static_cast<E*>(dst));
  return check_launch(call, "strided copy");
}

}  // namespace

xhal_status_t copy_strided(const Call& call, const Shape& shape, const void* src,
                           const int64_t* src_strides, void* dst, const int64_t* dst_strides,
                           int elem_size) {
  const int64_t n = shape.numel();
  if (n == 0) return XHAL_OK;
  const int64_t* strides[2] = {src_strides, dst_strides};
  Offsets<2> offsets;
  XHAL_CUDA_TRY(make_offsets<2>(call, shape, strides, &offsets));
  switch (elem_size) {
    case 1: return launch_copy<uint8_t>(call, offsets, n, src, dst);
    case 2: return launch_copy<uint16_t>(call, offsets, n, src, dst);
    case 4: return launch_copy<uint32_t>(call, offsets, n, src, dst);
    case 8: return launch_copy<uint64_t>(call, offsets, n, src, dst);
    default:
      return fail(XHAL_ERROR_INTERNAL, "%s: strided copy of %d-byte elements", call.op, elem_size);
  }
}

xhal_status_t check_launch(const Call& call, const char* what) {
  const cudaError_t err = cudaGetLastError();
  if (err == cudaSuccess) return XHAL_OK;
  return fail(XHAL_ERROR_DEVICE, "%s: %s kernel launch: %s (%s)", call.op, what,
              cudaGetErrorString(err), cudaGetErrorName(err));
}

unsigned grid_for(int64_t n, unsigned block) {
  const int64_t blocks = (n + block - 1) / block;
  return static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>(blocks, 65535 * 8)));
}

}  // namespace xhal_cuda
