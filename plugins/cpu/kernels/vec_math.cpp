// The loops of vec_math_body.h for AVX-512F, AVX2+FMA and baseline x86-64 (or any other CPU),
// and the choice among them (vec_math.h).
#include "vec_math.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "../host.h"
#include "exp_f32.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define XHAL_CPU_VEC_X86 1
#include <immintrin.h>
#else
#define XHAL_CPU_VEC_X86 0
#endif

namespace xhal_cpu {
namespace vec {
namespace {

// exp(x) = 2^n * exp(r), n = round(x / ln 2), r = x - n ln 2 in two parts (Cody-Waite: n * kLn2Hi
// is exact). The vector paths take exp(r) from a degree-6 polynomial fitted to it on
// |r| <= ln(2) / 2 (relative error 1.7e-8 with these float32 coefficients, against 1e-8 for the
// degree-7 Taylor polynomial of exp_f32.h, which the baseline path uses). Inputs are clamped to
// [-104, 89], beyond which the result is 0 or +Inf anyway; the clamps let NaN through.
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693359375f;
constexpr float kLn2Lo = -2.12194440e-4f;
constexpr float kExpHi = 89.f;
constexpr float kExpLo = -104.f;
constexpr float kShifter = 12582912.f;  // 1.5 * 2^23: adding it rounds to an integer
constexpr float kC6 = 0x1.6af7eap-10f, kC5 = 0x1.126736p-7f, kC4 = 0x1.55580cp-5f,
                kC3 = 0x1.55541ap-3f, kC2 = 0x1.fffffcp-2f;
// softmax's exp(x - max), x - max <= 0: a degree-5 fit (relative error 1.1e-7), one-step range
// reduction r = x - n * float(ln 2) (error |n| * 1.9e-9, below 3e-7 relative down to the
// underflow at x = -104), no upper clamp: within 7e-7 relative, where the softmax tolerances are
// 1e-5; the largest term, exp(0), stays exactly 1.
constexpr float kLn2 = 0.693147182f;
constexpr float kS5 = 0x1.108f58p-7f, kS4 = 0x1.573a78p-5f, kS3 = 0x1.55580ap-3f,
                kS2 = 0x1.fffdc4p-2f, kS1 = 0x1.fffffcp-1f;

// --- baseline: one lane, the scalar exp_f32 -------------------------------------------------
namespace scalar {
using V = float;
constexpr int64_t W = 1;
inline V vset(float a) { return a; }
inline V vload(const float* p) { return *p; }
inline void vstore(float* p, V v) { *p = v; }
inline V vload_part(const float* p, int64_t /*rem*/, float /*fill*/) { return *p; }
inline void vstore_part(float* p, int64_t /*rem*/, V v) { *p = v; }
inline V vkeep(V v, int64_t /*rem*/) { return v; }
inline V vadd(V a, V b) { return a + b; }
inline V vsub(V a, V b) { return a - b; }
inline V vmul(V a, V b) { return a * b; }
inline V vdiv(V a, V b) { return a / b; }
inline V vfma(V a, V b, V c) { return a * b + c; }
inline V vmax(V a, V b) { return a > b ? a : b; }
inline V vneg_abs(V a) { return -std::fabs(a); }
inline V vexp(V a) { return exp_f32(a); }
inline V vexp_nonpos(V a) { return exp_f32(a); }
inline V vselect_ge0(V x, V a, V b) { return x >= 0.f ? a : b; }
inline float vhmax(V a) { return a; }
using DAcc = double;
inline DAcc dacc_zero() { return 0.0; }
inline DAcc dacc_set(double a) { return a; }
inline DAcc dacc_plus(DAcc a, DAcc b) { return a + b; }
inline void dacc_add(DAcc& acc, V v) { acc += static_cast<double>(v); }
inline void dacc_add_sq(DAcc& acc, V v, DAcc c) {
  const double d = static_cast<double>(v) - c;
  acc += d * d;
}
inline void dacc_add_both(DAcc& sum, DAcc& squares, V v) {
  const double d = static_cast<double>(v);
  sum += d;
  squares += d * d;
}
inline double dacc_sum(DAcc acc) { return acc; }
inline void vstream(float* p, V v) { *p = v; }
inline void vstream_fence() {}
#include "vec_math_body.h"
}  // namespace scalar

#if XHAL_CPU_VEC_X86
// --- AVX2 + FMA: 8 lanes ---------------------------------------------------------------------
#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace avx2 {
using V = __m256;
constexpr int64_t W = 8;
// Lane masks for the first rem lanes: kMaskTable + 8 - rem.
alignas(64) constexpr int32_t kMaskTable[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                0,  0,  0,  0,  0,  0,  0,  0};
inline __m256i tail_mask(int64_t rem) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMaskTable + 8 - rem));
}
inline V vset(float a) { return _mm256_set1_ps(a); }
inline V vload(const float* p) { return _mm256_loadu_ps(p); }
inline void vstore(float* p, V v) { _mm256_storeu_ps(p, v); }
inline V vload_part(const float* p, int64_t rem, float fill) {
  const __m256i k = tail_mask(rem);
  return _mm256_blendv_ps(vset(fill), _mm256_maskload_ps(p, k), _mm256_castsi256_ps(k));
}
inline void vstore_part(float* p, int64_t rem, V v) { _mm256_maskstore_ps(p, tail_mask(rem), v); }
inline V vkeep(V v, int64_t rem) { return _mm256_and_ps(v, _mm256_castsi256_ps(tail_mask(rem))); }
inline V vadd(V a, V b) { return _mm256_add_ps(a, b); }
inline V vsub(V a, V b) { return _mm256_sub_ps(a, b); }
inline V vmul(V a, V b) { return _mm256_mul_ps(a, b); }
inline V vdiv(V a, V b) { return _mm256_div_ps(a, b); }
inline V vfma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
inline V vmax(V a, V b) { return _mm256_max_ps(a, b); }
inline V vneg_abs(V a) { return _mm256_or_ps(a, vset(-0.f)); }
inline V vselect_ge0(V x, V a, V b) {
  return _mm256_blendv_ps(b, a, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GE_OQ));
}
inline float vhmax(V a) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}
// p * 2^n, n held in t = n + 1.5 * 2^23 (the rounding shifter): 2^n as two normal factors,
// so subnormal results are scaled with one rounding (NaN lanes have a NaN p and stay NaN
// whatever the factors are).
inline V times_pow2(V p, V t) {
  const __m256i ni = _mm256_sub_epi32(_mm256_castps_si256(t), _mm256_castps_si256(vset(kShifter)));
  const __m256i n1 = _mm256_srai_epi32(ni, 1), n2 = _mm256_sub_epi32(ni, n1);
  const __m256i bias = _mm256_set1_epi32(127);
  const V s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
  const V s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
  return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}
inline V vexp(V x) {
  x = _mm256_min_ps(vset(kExpHi), x);  // minps returns its second operand for NaN
  x = _mm256_max_ps(vset(kExpLo), x);
  // t = x / ln 2 + 1.5 * 2^23 rounds x / ln 2 to an integer n, held in t's low mantissa bits.
  const V t = _mm256_fmadd_ps(x, vset(kLog2e), vset(kShifter));
  const V n = _mm256_sub_ps(t, vset(kShifter));
  V r = _mm256_fnmadd_ps(n, vset(kLn2Hi), x);
  r = _mm256_fnmadd_ps(n, vset(kLn2Lo), r);
  V p = _mm256_fmadd_ps(vset(kC6), r, vset(kC5));
  p = _mm256_fmadd_ps(p, r, vset(kC4));
  p = _mm256_fmadd_ps(p, r, vset(kC3));
  p = _mm256_fmadd_ps(p, r, vset(kC2));
  p = _mm256_fmadd_ps(p, r, vset(1.f));
  p = _mm256_fmadd_ps(p, r, vset(1.f));
  return times_pow2(p, t);
}
inline V vexp_nonpos(V x) {
  x = _mm256_max_ps(vset(kExpLo), x);  // maxps returns its second operand for NaN
  const V t = _mm256_fmadd_ps(x, vset(kLog2e), vset(kShifter));
  const V n = _mm256_sub_ps(t, vset(kShifter));
  const V r = _mm256_fnmadd_ps(n, vset(kLn2), x);
  V p = _mm256_fmadd_ps(vset(kS5), r, vset(kS4));
  p = _mm256_fmadd_ps(p, r, vset(kS3));
  p = _mm256_fmadd_ps(p, r, vset(kS2));
  p = _mm256_fmadd_ps(p, r, vset(kS1));
  p = _mm256_fmadd_ps(p, r, vset(1.f));
  return times_pow2(p, t);
}
using DAcc = __m256d;
inline DAcc dacc_zero() { return _mm256_setzero_pd(); }
inline DAcc dacc_set(double a) { return _mm256_set1_pd(a); }
inline DAcc dacc_plus(DAcc a, DAcc b) { return _mm256_add_pd(a, b); }
inline void dacc_add(DAcc& acc, V v) {
  acc = _mm256_add_pd(acc, _mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)),
                                         _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1))));
}
inline void dacc_add_sq(DAcc& acc, V v, DAcc c) {
  const __m256d lo = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)), c);
  const __m256d hi = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)), c);
  acc = _mm256_fmadd_pd(hi, hi, _mm256_fmadd_pd(lo, lo, acc));
}
inline void dacc_add_both(DAcc& sum, DAcc& squares, V v) {
  const __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v));
  const __m256d hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
  sum = _mm256_add_pd(sum, _mm256_add_pd(lo, hi));
  squares = _mm256_fmadd_pd(hi, hi, _mm256_fmadd_pd(lo, lo, squares));
}
inline double dacc_sum(DAcc acc) {
  const __m128d h = _mm_add_pd(_mm256_castpd256_pd128(acc), _mm256_extractf128_pd(acc, 1));
  return _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
}
inline void vstream(float* p, V v) { _mm256_stream_ps(p, v); }
inline void vstream_fence() { _mm_sfence(); }
#include "vec_math_body.h"
}  // namespace avx2
#pragma GCC pop_options

// --- AVX-512F: 16 lanes ----------------------------------------------------------------------
#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")
// GCC 12's avx512fintrin.h fills "undefined" operands with a self-initialised variable, which
// -Wmaybe-uninitialized reports once the intrinsics are inlined (a false positive).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
namespace avx512 {
using V = __m512;
constexpr int64_t W = 16;
inline __mmask16 tail_mask(int64_t rem) { return static_cast<__mmask16>((1u << rem) - 1u); }
inline V vset(float a) { return _mm512_set1_ps(a); }
inline V vload(const float* p) { return _mm512_loadu_ps(p); }
inline void vstore(float* p, V v) { _mm512_storeu_ps(p, v); }
inline V vload_part(const float* p, int64_t rem, float fill) {
  return _mm512_mask_loadu_ps(vset(fill), tail_mask(rem), p);
}
inline void vstore_part(float* p, int64_t rem, V v) {
  _mm512_mask_storeu_ps(p, tail_mask(rem), v);
}
inline V vkeep(V v, int64_t rem) { return _mm512_maskz_mov_ps(tail_mask(rem), v); }
inline V vadd(V a, V b) { return _mm512_add_ps(a, b); }
inline V vsub(V a, V b) { return _mm512_sub_ps(a, b); }
inline V vmul(V a, V b) { return _mm512_mul_ps(a, b); }
inline V vdiv(V a, V b) { return _mm512_div_ps(a, b); }
inline V vfma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
inline V vmax(V a, V b) { return _mm512_max_ps(a, b); }
inline V vneg_abs(V a) {
  return _mm512_castsi512_ps(
      _mm512_or_si512(_mm512_castps_si512(a), _mm512_set1_epi32(INT32_MIN)));
}
inline V vselect_ge0(V x, V a, V b) {
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GE_OQ), b, a);
}
inline float vhmax(V a) { return _mm512_reduce_max_ps(a); }
inline V vexp(V x) {
  x = _mm512_min_ps(vset(kExpHi), x);  // minps returns its second operand for NaN
  x = _mm512_max_ps(vset(kExpLo), x);
  // x / ln 2 + 1.5 * 2^23, less 1.5 * 2^23: x / ln 2 rounded to an integer.
  const V n = _mm512_sub_ps(_mm512_fmadd_ps(x, vset(kLog2e), vset(kShifter)), vset(kShifter));
  V r = _mm512_fnmadd_ps(n, vset(kLn2Hi), x);
  r = _mm512_fnmadd_ps(n, vset(kLn2Lo), r);
  V p = _mm512_fmadd_ps(vset(kC6), r, vset(kC5));
  p = _mm512_fmadd_ps(p, r, vset(kC4));
  p = _mm512_fmadd_ps(p, r, vset(kC3));
  p = _mm512_fmadd_ps(p, r, vset(kC2));
  p = _mm512_fmadd_ps(p, r, vset(1.f));
  p = _mm512_fmadd_ps(p, r, vset(1.f));
  // p * 2^n with one rounding, subnormal and overflowing results included; NaN stays NaN.
  return _mm512_scalef_ps(p, n);
}
inline V vexp_nonpos(V x) {
  x = _mm512_max_ps(vset(kExpLo), x);  // maxps returns its second operand for NaN
  const V n = _mm512_sub_ps(_mm512_fmadd_ps(x, vset(kLog2e), vset(kShifter)), vset(kShifter));
  const V r = _mm512_fnmadd_ps(n, vset(kLn2), x);
  V p = _mm512_fmadd_ps(vset(kS5), r, vset(kS4));
  p = _mm512_fmadd_ps(p, r, vset(kS3));
  p = _mm512_fmadd_ps(p, r, vset(kS2));
  p = _mm512_fmadd_ps(p, r, vset(kS1));
  p = _mm512_fmadd_ps(p, r, vset(1.f));
  return _mm512_scalef_ps(p, n);
}
using DAcc = __m512d;
inline DAcc dacc_zero() { return _mm512_setzero_pd(); }
inline DAcc dacc_set(double a) { return _mm512_set1_pd(a); }
inline DAcc dacc_plus(DAcc a, DAcc b) { return _mm512_add_pd(a, b); }
inline __m512d wide_hi(V v) {
  return _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
}
inline void dacc_add(DAcc& acc, V v) {
  acc = _mm512_add_pd(acc, _mm512_add_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(v)), wide_hi(v)));
}
inline void dacc_add_sq(DAcc& acc, V v, DAcc c) {
  const __m512d lo = _mm512_sub_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(v)), c);
  const __m512d hi = _mm512_sub_pd(wide_hi(v), c);
  acc = _mm512_fmadd_pd(hi, hi, _mm512_fmadd_pd(lo, lo, acc));
}
inline void dacc_add_both(DAcc& sum, DAcc& squares, V v) {
  const __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(v)), hi = wide_hi(v);
  sum = _mm512_add_pd(sum, _mm512_add_pd(lo, hi));
  squares = _mm512_fmadd_pd(hi, hi, _mm512_fmadd_pd(lo, lo, squares));
}
inline double dacc_sum(DAcc acc) { return _mm512_reduce_add_pd(acc); }
inline void vstream(float* p, V v) { _mm512_stream_ps(p, v); }
inline void vstream_fence() { _mm_sfence(); }
#include "vec_math_body.h"
}  // namespace avx512
#pragma GCC diagnostic pop
#pragma GCC pop_options
#endif  // XHAL_CPU_VEC_X86

struct Table {
  const char* name;
  void (*exp_n)(const float*, float*, int64_t);
  void (*sigmoid_n)(const float*, float*, int64_t);
  void (*softmax_row)(const float*, float*, int64_t);
  void (*log_softmax_row)(const float*, float*, int64_t);
  void (*layer_norm_row)(const float*, int64_t, double, const float*, const float*, float*,
                         double*, double*);
  void (*relu_stream_n)(const float*, float*, int64_t);
  void (*exp_stream_n)(const float*, float*, int64_t);
  void (*stream_lines)(void*, const void*, int64_t);
};

#define XHAL_CPU_VEC_TABLE(name, ns)                                                              \
  Table {                                                                                         \
    name, ns::exp_n, ns::sigmoid_n, ns::softmax_row, ns::log_softmax_row, ns::layer_norm_row,     \
        ns::relu_stream_n, ns::exp_stream_n, ns::stream_lines                                     \
  }

Table choose() {
  int cap = 2;  // 2: AVX-512, 1: AVX2, 0: baseline
  const char* env = std::getenv("XHAL_CPU_ISA");
  if (env != nullptr && *env != '\0') {
    if (std::strcmp(env, "avx512") == 0)
      cap = 2;
    else if (std::strcmp(env, "avx2") == 0)
      cap = 1;
    else if (std::strcmp(env, "baseline") == 0)
      cap = 0;
    else
      log(XHAL_LOG_WARNING,
          "xhal.cpu: ignoring XHAL_CPU_ISA='%s' (not avx512, avx2 or baseline)", env);
  }
#if XHAL_CPU_VEC_X86
  __builtin_cpu_init();
  const bool has_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (cap >= 2 && has_avx2 && __builtin_cpu_supports("avx512f"))
    return XHAL_CPU_VEC_TABLE("avx512", avx512);
  if (cap >= 1 && has_avx2) return XHAL_CPU_VEC_TABLE("avx2", avx2);
#endif
  return XHAL_CPU_VEC_TABLE("baseline", scalar);
}

const Table& table() {
  static const Table t = choose();
  return t;
}

}  // namespace

void exp_n(const float* x, float* y, int64_t n) { table().exp_n(x, y, n); }
void sigmoid_n(const float* x, float* y, int64_t n) { table().sigmoid_n(x, y, n); }
void softmax_row(const float* x, float* y, int64_t n) { table().softmax_row(x, y, n); }
void log_softmax_row(const float* x, float* y, int64_t n) { table().log_softmax_row(x, y, n); }
void layer_norm_row(const float* x, int64_t n, double epsilon, const float* scale,
                    const float* bias, float* y, double* mean, double* rstd) {
  table().layer_norm_row(x, n, epsilon, scale, bias, y, mean, rstd);
}
void relu_stream_n(const float* x, float* y, int64_t n) { table().relu_stream_n(x, y, n); }
void exp_stream_n(const float* x, float* y, int64_t n) { table().exp_stream_n(x, y, n); }
void stream_lines(void* dst, const void* src, int64_t bytes) {
  table().stream_lines(dst, src, bytes);
}
const char* isa_name() { return table().name; }

}  // namespace vec
}  // namespace xhal_cpu
