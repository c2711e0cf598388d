// npu_sim: what every kernel shares. A kernel validates and *captures* at enqueue time
// (arena addresses, shapes, attribute values, host_memory inputs), because the host may free
// descriptors and attribute structs as soon as the call returns; the computation itself runs
// later on the stream's worker thread.
//
// Numerics, as on an NPU: float16/bfloat16 storage, float32 arithmetic; float32 tensors (for the
// ops that accept them) are read as bfloat16 (rounded to nearest even), computed in float32 and
// stored as float32. libnpu_sim.xhal-manifest.yaml declares this to the conformance runner.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include <xhal/xhal_ops.h>

#include "../kernels.h"
#include "../runtime.h"

namespace npu_sim {

inline float bits_to_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

inline uint32_t float_to_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

inline float half_to_float(uint16_t h) {
  const uint32_t w = static_cast<uint32_t>(h) << 16;
  const uint32_t sign = w & 0x80000000u;
  const uint32_t two_w = w + w;
  const float normalized = bits_to_float((two_w >> 4) + (0xE0u << 23)) * 0x1.0p-112f;
  const float denormalized = bits_to_float((two_w >> 17) | (126u << 23)) - 0.5f;
  const uint32_t result =
      sign | (two_w < (1u << 27) ? float_to_bits(denormalized) : float_to_bits(normalized));
  return bits_to_float(result);
}

inline uint16_t float_to_half(float f) {
  const float abs_f = bits_to_float(float_to_bits(f) & 0x7FFFFFFFu);
  float base = (abs_f * 0x1.0p+112f) * 0x1.0p-110f;
  const uint32_t w = float_to_bits(f);
  const uint32_t shl1_w = w + w;
  const uint32_t sign = w & 0x80000000u;
  uint32_t bias = shl1_w & 0xFF000000u;
  if (bias < 0x71000000u) bias = 0x71000000u;
  base = bits_to_float((bias >> 1) + 0x07800000u) + base;
  const uint32_t bits = float_to_bits(base);
  const uint32_t nonsign = ((bits >> 13) & 0x00007C00u) + (bits & 0x00000FFFu);
  return static_cast<uint16_t>((sign >> 16) | (shl1_w > 0xFF000000u ? 0x7E00u : nonsign));
}

inline float bfloat16_to_float(uint16_t b) { return bits_to_float(static_cast<uint32_t>(b) << 16); }

inline uint16_t float_to_bfloat16(float f) {
  const uint32_t u = float_to_bits(f);
  const uint32_t rounded = (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
  const uint32_t quiet_nan = (u >> 16) | 0x40u;
  return static_cast<uint16_t>((u & 0x7FFFFFFFu) > 0x7F800000u ? quiet_nan : rounded);
}

// A tensor as a queued kernel sees it: arena address, dtype, shape — all copied.
struct Tensor {
  uint8_t* data = nullptr;
  int32_t dtype = XHAL_DTYPE_UNDEFINED;
  std::vector<int64_t> shape;
  int64_t numel = 1;
  int64_t dim(int64_t axis) const { return shape[static_cast<size_t>(axis)]; }
  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
};

xhal_status_t fail_op(const char* op, xhal_status_t status, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

// Copies a device tensor's descriptor and translates its address. `op` names the caller in
// messages. An absent optional input (NULL) gives an empty Tensor with dtype UNDEFINED.
xhal_status_t capture(const char* op, const xhal_kernel_context_t* ctx, const xhal_tensor_t* t,
                      Tensor* out);

// Reads a host_memory int64 input (axes, shape) on the calling thread; NULL gives {}.
std::vector<int64_t> host_int64s(const xhal_tensor_t* t);

std::string shape_str(const std::vector<int64_t>& shape);

// The whole tensor as float32 (float32 inputs rounded to bfloat16 first).
std::vector<float> load(const Tensor& t);
// Stores float32 values into the tensor's dtype (round to nearest even).
void store(const Tensor& t, const std::vector<float>& values);

// Enqueue a computation on the kernel's stream. When it runs, every tensor in `uses` must still
// be allocated (a host that freed one before synchronising gets an error at its next
// synchronize); then `task` runs.
xhal_status_t launch(const xhal_kernel_context_t* ctx, std::initializer_list<const Tensor*> uses,
                     Task task);

// Strides (in elements) that read `t` broadcast to `out_shape` (0 along broadcast axes).
std::vector<int64_t> broadcast_strides(const std::vector<int64_t>& shape,
                                       const std::vector<int64_t>& out_shape);

}  // namespace npu_sim
