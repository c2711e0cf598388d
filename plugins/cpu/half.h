// IEEE-754 binary16 ("float16") stored as uint16_t, converted exactly to and from float32 with
// round-to-nearest-even. NaN (sign kept, made quiet), infinities and subnormals are preserved.
#pragma once

#include <cstdint>
#include <cstring>

namespace xhal_cpu {

// Storage type of float16 tensors; a distinct type so templates can tell it from uint16_t.
struct Half {
  uint16_t bits;
};
static_assert(sizeof(Half) == 2, "Half must be two bytes");

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

// Branch-free so loops over it vectorise. Normal numbers are re-biased with one multiply;
// subnormals are built in the mantissa of 2^-1 and have 0.5 subtracted (exact).
inline float half_to_float(uint16_t h) {
  const uint32_t w = static_cast<uint32_t>(h) << 16;
  const uint32_t sign = w & 0x80000000u;
  const uint32_t two_w = w + w;  // exponent and mantissa, sign shifted out
  // Exponent 15->127 rebias is 112; putting the bits 0xE0 exponent units higher and scaling by
  // 2^-112 also turns half Inf/NaN (exponent 31) into float Inf/NaN.
  const float normalized = bits_to_float((two_w >> 4) + (0xE0u << 23)) * 0x1.0p-112f;
  const float denormalized = bits_to_float((two_w >> 17) | (126u << 23)) - 0.5f;
  const uint32_t denorm_cutoff = 1u << 27;
  const uint32_t result =
      sign | (two_w < denorm_cutoff ? float_to_bits(denormalized) : float_to_bits(normalized));
  return bits_to_float(result);
}

// Rounds to nearest-even by letting the FPU do it: adding a power of two chosen from the
// input's exponent leaves exactly the half-precision mantissa bits at the bottom of the sum.
inline uint16_t float_to_half(float f) {
  const float abs_f = bits_to_float(float_to_bits(f) & 0x7FFFFFFFu);
  // Overflow to Inf happens in the first multiply; the second brings values back in range.
  float base = (abs_f * 0x1.0p+112f) * 0x1.0p-110f;
  const uint32_t w = float_to_bits(f);
  const uint32_t shl1_w = w + w;
  const uint32_t sign = w & 0x80000000u;
  uint32_t bias = shl1_w & 0xFF000000u;
  if (bias < 0x71000000u) bias = 0x71000000u;  // subnormal results share the smallest exponent
  base = bits_to_float((bias >> 1) + 0x07800000u) + base;
  const uint32_t bits = float_to_bits(base);
  const uint32_t exp_bits = (bits >> 13) & 0x00007C00u;
  const uint32_t mantissa_bits = bits & 0x00000FFFu;
  const uint32_t nonsign = exp_bits + mantissa_bits;
  return static_cast<uint16_t>((sign >> 16) | (shl1_w > 0xFF000000u ? 0x7E00u : nonsign));
}

// Bulk conversions; use F16C/AVX-512 instructions when the CPU has them.
void half_to_float_n(const Half* src, float* dst, int64_t n);
void float_to_half_n(const float* src, Half* dst, int64_t n);

// Storage type of bfloat16 tensors: the upper half of a float32. Widening is exact; narrowing
// rounds to nearest-even, keeps infinities, and turns NaN into a quiet NaN of the same sign.
struct BFloat16 {
  uint16_t bits;
};
static_assert(sizeof(BFloat16) == 2, "BFloat16 must be two bytes");

inline float bfloat16_to_float(uint16_t b) { return bits_to_float(static_cast<uint32_t>(b) << 16); }

// Branch-free (a select) so loops over it vectorise.
inline uint16_t float_to_bfloat16(float f) {
  const uint32_t u = float_to_bits(f);
  const uint32_t rounded = (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
  const uint32_t quiet_nan = (u >> 16) | 0x40u;
  return static_cast<uint16_t>((u & 0x7FFFFFFFu) > 0x7F800000u ? quiet_nan : rounded);
}

}  // namespace xhal_cpu
