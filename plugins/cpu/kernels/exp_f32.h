// A float32 exp written so that loops over it vectorise (glibc's expf is a scalar call).
// Accuracy: at most 2 ulp over the whole float range (checked against float64 exp for every
// float32 input); overflow gives +Inf, underflow 0 (through correctly scaled subnormals), NaN
// propagates.
#pragma once

#include <cstdint>
#include <cstring>

namespace xhal_cpu {

inline float exp_f32(float x) {
  // exp(x) = 2^n * exp(r) with n = round(x / ln 2) and |r| <= ln(2) / 2.
  const bool nan = x != x;
  float xc = nan ? 0.f : x;
  // Beyond these the result is +Inf or rounds to 0 anyway; clamping keeps n in [-150, 129].
  xc = xc > 89.f ? 89.f : xc;
  xc = xc < -104.f ? -104.f : xc;
  // Round to nearest by adding and subtracting 1.5 * 2^23 (no SSE4.1 round instruction needed).
  const float shifter = 12582912.f;
  const float n = (xc * 1.44269504088896341f + shifter) - shifter;
  // Cody-Waite: ln2_hi has few enough bits that n * ln2_hi is exact.
  const float r = (xc - n * 0.693359375f) - n * -2.12194440e-4f;
  // Taylor polynomial of degree 7: truncation error below 1e-8 relative for |r| <= 0.347.
  float p = 1.f / 5040.f;
  p = p * r + 1.f / 720.f;
  p = p * r + 1.f / 120.f;
  p = p * r + 1.f / 24.f;
  p = p * r + 1.f / 6.f;
  p = p * r + 0.5f;
  p = p * r + 1.f;
  p = p * r + 1.f;
  // 2^n in two halves so each factor is a normal float even when the result is subnormal or
  // overflows; only the last multiply rounds.
  const int32_t ni = static_cast<int32_t>(n);
  const int32_t n1 = ni / 2, n2 = ni - n1;
  const uint32_t b1 = static_cast<uint32_t>(n1 + 127) << 23;
  const uint32_t b2 = static_cast<uint32_t>(n2 + 127) << 23;
  float s1, s2;
  std::memcpy(&s1, &b1, sizeof s1);
  std::memcpy(&s2, &b2, sizeof s2);
  const float y = (p * s1) * s2;
  return nan ? x : y;
}

}  // namespace xhal_cpu
