// Shared driver of the elementwise unary kernels (unary*.cpp, activation.cpp, cast.cpp):
// argument checks, threading, and float16/bfloat16 computed in float32.
//
// An op is a functor with `name`, a `grain` (elements per task) and call operators for the
// compute types it supports (float, double, integers, bool); half types are widened to float
// in blocks, the functor applied, and the result rounded once.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "common.h"
#include "stream_store.h"

namespace xhal_cpu {

// Registration of the kernel files other than unary.cpp (called from register_unary_kernels).
xhal_status_t register_unary_math_kernels(const xhal_host_api_t* host, xhal_registry_t registry);
xhal_status_t register_activation_kernels(const xhal_host_api_t* host, xhal_registry_t registry);
xhal_status_t register_clip_kernels(const xhal_host_api_t* host, xhal_registry_t registry);
xhal_status_t register_cast_kernels(const xhal_host_api_t* host, xhal_registry_t registry);
xhal_status_t register_logical_not_kernels(const xhal_host_api_t* host, xhal_registry_t registry);

namespace unary_detail {

template <class T>
inline constexpr bool is_half_v = std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>;

template <class F, class T>
XHAL_CPU_SIMD_CLONES void map_block(const F& f, const T* x, T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
}

[[maybe_unused]] XHAL_CPU_SIMD_CLONES static void bf16_to_float_n(const BFloat16* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = bfloat16_to_float(x[i].bits);
}

[[maybe_unused]] XHAL_CPU_SIMD_CLONES static void float_to_bf16_n(const float* x, BFloat16* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i].bits = float_to_bfloat16(x[i]);
}

inline void widen_n(const Half* x, float* y, int64_t n) { half_to_float_n(x, y, n); }
inline void widen_n(const BFloat16* x, float* y, int64_t n) { bf16_to_float_n(x, y, n); }
inline void narrow_n(const float* x, Half* y, int64_t n) { float_to_half_n(x, y, n); }
inline void narrow_n(const float* x, BFloat16* y, int64_t n) { float_to_bf16_n(x, y, n); }

// y = f(x) over n elements; half types through a float32 buffer.
template <class T, class F>
void map_n(const F& f, const T* x, T* y, int64_t n) {
  if constexpr (is_half_v<T>) {
    constexpr int64_t kBlock = 1024;
    float buf[kBlock];
    for (int64_t off = 0; off < n; off += kBlock) {
      const int64_t m = std::min(kBlock, n - off);
      widen_n(x + off, buf, m);
      map_block<F, float>(f, buf, buf, m);
      narrow_n(buf, y + off, m);
    }
  } else {
    map_block<F, T>(f, x, y, n);
  }
}

}  // namespace unary_detail

// Grains: cheap ops (a compare, a negation) vs transcendental ones.
constexpr int64_t kCheapGrain = kParallelGrain;
constexpr int64_t kMathGrain = kParallelGrain / 8;

// Checks X and Y (dtype T, equal shapes) and writes Y = f(X) elementwise, in parallel.
template <class T, class F>
xhal_status_t unary_map(const char* op, const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                        xhal_tensor_t* Y, const F& f, int64_t grain) {
  constexpr int32_t dt = DType<T>::id;
  XHAL_CPU_TRY(check_context(op, ctx));
  XHAL_CPU_TRY(check_tensor(op, "input X", X, dt));
  XHAL_CPU_TRY(check_tensor(op, "output Y", Y, dt));
  const Dims dx = dims_of(X), dy = dims_of(Y);
  if (dx != dy)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: output Y has shape %s; X has shape %s", op,
                to_string(dy).c_str(), to_string(dx).c_str());
  const T* x = data_as<const T>(X);
  T* y = data_as<T>(Y);
  // Only memory-bound (cheap) ops gain from streaming stores; see stream_store.h.
  const bool stream =
      grain >= kCheapGrain && outgrows_caches(2 * dx.numel() * static_cast<int64_t>(sizeof(T)));
  parallel_for(dx.numel(), grain, [&](int64_t begin, int64_t end) {
    write_streamed(stream, y + begin, end - begin, [&](T* out, int64_t off, int64_t m) {
      unary_detail::map_n<T, F>(f, x + begin + off, out, m);
    });
  });
  return XHAL_OK;
}

// The generic kernel entry of a unary op without attributes the kernel needs: Op{} is the functor.
template <class Op, class T, class Attrs>
xhal_status_t unary_entry_plain(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                                const Attrs* /*attrs*/, xhal_tensor_t* Y) {
  return guarded(Op::name, [&] { return unary_map<T>(Op::name, ctx, X, Y, Op{}, Op::grain); });
}

}  // namespace xhal_cpu
