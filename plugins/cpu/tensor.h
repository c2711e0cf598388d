// Checks and shape helpers shared by the kernels. Kernels are registered without
// XHAL_KERNEL_FLAG_STRIDED_INPUTS, so every tensor is compact row-major; they still check
// everything the host hands them, because a wrong shape must be an error, not a crash.
#pragma once

#include <cstdint>
#include <string>

#include <xhal/xhal_abi.h>

namespace xhal_cpu {

// Highest rank the kernels accept (index walkers keep their state in fixed arrays).
constexpr int kMaxRank = 32;

// A shape of rank <= kMaxRank, by value.
struct Dims {
  int rank = 0;
  int64_t d[kMaxRank] = {};

  int64_t operator[](int i) const { return d[i]; }
  int64_t& operator[](int i) { return d[i]; }
  void push_back(int64_t v) { d[rank++] = v; }
  int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < rank; ++i) n *= d[i];
    return n;
  }
  bool operator==(const Dims& o) const {
    if (rank != o.rank) return false;
    for (int i = 0; i < rank; ++i)
      if (d[i] != o.d[i]) return false;
    return true;
  }
  bool operator!=(const Dims& o) const { return !(*this == o); }
};

// The shape of a tensor that passed check_tensor().
Dims dims_of(const xhal_tensor_t* t);

// "[2, 3, 4]".
std::string to_string(const Dims& dims);

inline int64_t numel(const xhal_tensor_t* t) { return dims_of(t).numel(); }

// Validates a tensor operand: not NULL, rank <= kMaxRank, non-negative dims, element count
// that fits in memory, dtype `dtype`, host-accessible, aligned data (when not empty), compact
// row-major strides. On failure reports "<op>: <role> ..." and returns the status.
xhal_status_t check_tensor(const char* op, const char* role, const xhal_tensor_t* t, int32_t dtype);

// Checks a kernel context (may be NULL: the CPU needs nothing from it).
xhal_status_t check_context(const char* op, const xhal_kernel_context_t* ctx);

// Element pointer of a checked tensor, byte_offset applied.
template <class T>
T* data_as(const xhal_tensor_t* t) {
  return reinterpret_cast<T*>(static_cast<char*>(t->data) + t->byte_offset);
}

// Multidirectional (NumPy) broadcast of two shapes; false when they are incompatible.
bool broadcast_dims(const Dims& a, const Dims& b, Dims* out);

// Strides (in elements) that read a compact tensor of shape `in` as if it had the shape `out`
// it broadcasts to: 0 along broadcast dimensions. `out.rank >= in.rank` is required.
void broadcast_strides(const Dims& in, const Dims& out, int64_t* strides);

}  // namespace xhal_cpu
