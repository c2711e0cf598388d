#include "half.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define XHAL_CPU_X86 1
#endif

namespace xhal_cpu {
namespace {

void half_to_float_generic(const Half* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = half_to_float(src[i].bits);
}

void float_to_half_generic(const float* src, Half* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i].bits = float_to_half(src[i]);
}

#ifdef XHAL_CPU_X86
// vcvtph2ps / vcvtps2ph convert exactly like the scalar code (round-to-nearest-even, subnormals
// kept; MXCSR.DAZ/FTZ do not apply to them).
__attribute__((target("avx,f16c"))) void half_to_float_f16c(const Half* src, float* dst,
                                                            int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
  }
  half_to_float_generic(src + i, dst + i, n - i);
}

__attribute__((target("avx,f16c"))) void float_to_half_f16c(const float* src, Half* dst,
                                                            int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), h);
  }
  float_to_half_generic(src + i, dst + i, n - i);
}

bool has_f16c() {
  static const bool yes = __builtin_cpu_supports("avx") && __builtin_cpu_supports("f16c");
  return yes;
}
#endif

}  // namespace

void half_to_float_n(const Half* src, float* dst, int64_t n) {
#ifdef XHAL_CPU_X86
  if (has_f16c()) return half_to_float_f16c(src, dst, n);
#endif
  half_to_float_generic(src, dst, n);
}

void float_to_half_n(const float* src, Half* dst, int64_t n) {
#ifdef XHAL_CPU_X86
  if (has_f16c()) return float_to_half_f16c(src, dst, n);
#endif
  float_to_half_generic(src, dst, n);
}

}  // namespace xhal_cpu
