// Host-side support every CUDA kernel family uses: the call (op name, device, stream), operand
// checks with messages that name the op and operand, shapes, stream-ordered scratch memory,
// compact copies of strided inputs, a strided copy, and launch checks.
//
// Every kernel of this plugin is registered with XHAL_KERNEL_FLAG_STRIDED_INPUTS: elementwise
// kernels index strided operands directly; the others call CompactInput, which is free for a
// compact tensor and otherwise makes a compact copy on the stream.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <cstring>
#include <string>

#include <xhal/xhal_abi.h>
#include <xhal/kit/read_attrs.h>
#include <xhal/xhal_ops.h>

#include "../host.h"

namespace xhal_cuda {

constexpr int kMaxRank = 32;  // rank the kernels accept from the host
constexpr int kMaxDims = 8;   // dimensions device-side index arrays hold (after merging)

// Attribute structs of any header version: the plugin kit's (spec defaults, then the caller's
// fields).
using xhal::kit::read_attrs;

// A shape of rank <= kMaxRank, by value.
struct Shape {
  int rank = 0;
  int64_t d[kMaxRank] = {};

  __host__ __device__ int64_t operator[](int i) const { return d[i]; }
  __host__ __device__ int64_t& operator[](int i) { return d[i]; }
  void push_back(int64_t v) { d[rank++] = v; }
  int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < rank; ++i) n *= d[i];
    return n;
  }
  bool operator==(const Shape& o) const {
    if (rank != o.rank) return false;
    for (int i = 0; i < rank; ++i)
      if (d[i] != o.d[i]) return false;
    return true;
  }
  bool operator!=(const Shape& o) const { return !(*this == o); }
};

Shape shape_of(const xhal_tensor_t* t);
std::string to_string(const Shape& s);  // "[2, 3, 4]"

// Row-major strides of `shape`, in elements.
void compact_strides(const Shape& shape, int64_t* strides);
// The tensor's strides in elements (compact ones when t->strides is NULL).
void strides_of(const xhal_tensor_t* t, int64_t* strides);
bool is_compact(const xhal_tensor_t* t);

// One kernel invocation.
struct Call {
  const char* op;       // for messages: "add", "matmul", ...
  int device;           // CUDA ordinal, current on this thread after begin_call
  cudaStream_t stream;  // everything is enqueued here
};

// Checks the context, makes its device current and fills `call`.
xhal_status_t begin_call(const char* op, const xhal_kernel_context_t* ctx, Call* call);

// A device operand: not NULL, rank <= kMaxRank, non-negative dims, dtype `dtype`, on a CUDA
// device (DLPack kDLCUDA) of this call, data present when not empty. Reports
// "<op>: <role> ..." on failure.
xhal_status_t check_tensor(const Call& call, const char* role, const xhal_tensor_t* t,
                           int32_t dtype);
// A host_memory operand (shapes, axes, ...): not NULL, dtype, host-readable data. Its values
// may be read on the host at once.
xhal_status_t check_host_tensor(const Call& call, const char* role, const xhal_tensor_t* t,
                                int32_t dtype);
// Output shape as the host allocated it must equal `expected`.
xhal_status_t check_shape(const Call& call, const char* role, const xhal_tensor_t* t,
                          const Shape& expected);

// Element pointer with byte_offset applied.
template <class T>
T* data_as(const xhal_tensor_t* t) {
  return reinterpret_cast<T*>(static_cast<char*>(t->data) + t->byte_offset);
}

// Device memory for the duration of one call, allocated and freed on the call's stream
// (stream-ordered: no synchronisation, and the pool caches it).
class Scratch {
 public:
  Scratch() = default;
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch();
  xhal_status_t alloc(const Call& call, uint64_t bytes);
  void* get() const { return ptr_; }
  template <class T>
  T* as() const {
    return static_cast<T*>(ptr_);
  }

 private:
  void* ptr_ = nullptr;
  cudaStream_t stream_ = nullptr;
};

// An input as compact row-major data: the tensor's own memory when it is compact, else a
// compact copy made on the call's stream.
class CompactInput {
 public:
  xhal_status_t init(const Call& call, const xhal_tensor_t* t);
  const void* data() const { return data_; }
  template <class T>
  const T* as() const {
    return static_cast<const T*>(data_);
  }
  const Shape& shape() const { return shape_; }

 private:
  const void* data_ = nullptr;
  Shape shape_;
  Scratch copy_;
};

// dst[index] = src[index] for every index of `shape`, element strides given for both sides
// (0 strides on the source broadcast it). elem_size is 1, 2, 4 or 8 bytes.
xhal_status_t copy_strided(const Call& call, const Shape& shape, const void* src,
                           const int64_t* src_strides, void* dst, const int64_t* dst_strides,
                           int elem_size);

// After a launch: reports a launch failure (bad configuration, no kernel image for this GPU)
// as "<op>: <what>: <CUDA message>".
xhal_status_t check_launch(const Call& call, const char* what);

// Blocks for a 1-D grid-stride launch over n items (at least 1, capped so that loops stride).
unsigned grid_for(int64_t n, unsigned block = 256);

// Reads `count` int64 values of a host_memory int64 or int32 tensor (checked by
// check_host_tensor) into `out`.
void read_host_ints(const xhal_tensor_t* t, int64_t* out, int64_t count);

}  // namespace xhal_cuda
