// relu (float32/float64/float16/bfloat16/int8/int32/int64), sigmoid and exp
// (float32/float64/float16/bfloat16): elementwise on a compact tensor; float16 and bfloat16
// compute in float32; float32 exp and sigmoid (and the half types' float32 buffers) run
// vec_math's hand-vectorised loops. register_unary_kernels also registers the rest of the family
// (unary_math.cpp, activation.cpp, unary_clip.cpp, cast.cpp, unary_not.cpp).
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "common.h"
#include "exp_f32.h"
#include "kernels.h"
#include "stream_store.h"
#include "unary_common.h"
#include "vec_math.h"

namespace xhal_cpu {
namespace {

struct ReluOp {
  static constexpr const char* name = "relu";
  // `x < 0 ? 0 : x` rather than max(): NaN fails the comparison and passes through.
  template <class T>
  static T apply(T x) {
    return x < T(0) ? T(0) : x;
  }
};

// float32 uses the vectorisable exp_f32; float64 keeps libm's exp (its tolerance is 1e-12).
inline float exp_of(float x) { return exp_f32(x); }
inline double exp_of(double x) { return std::exp(x); }

struct SigmoidOp {
  static constexpr const char* name = "sigmoid";
  // exp() of -|x| only, so nothing overflows for large |x|: 1 / (1 + e^-x) for x >= 0 and
  // e^x / (1 + e^x) below. Both sides are computed so the loop vectorises; NaN propagates.
  template <class T>
  static T apply(T x) {
    const T e = exp_of(-std::fabs(x));
    const T pos = T(1) / (T(1) + e), neg = e / (T(1) + e);
    return x >= T(0) ? pos : neg;
  }
};

struct ExpOp {
  static constexpr const char* name = "exp";
  template <class T>
  static T apply(T x) {
    return exp_of(x);
  }
};

template <class Op, class T>
XHAL_CPU_SIMD_CLONES void run_block(const T* x, T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = Op::apply(x[i]);
}

// float32 exp and sigmoid: the hand-vectorised loops of vec_math (AVX-512 / AVX2 / baseline).
template <class Op>
void run_float(const float* x, float* y, int64_t n) {
  if constexpr (std::is_same_v<Op, ExpOp>)
    vec::exp_n(x, y, n);
  else if constexpr (std::is_same_v<Op, SigmoidOp>)
    vec::sigmoid_n(x, y, n);
  else
    run_block<Op, float>(x, y, n);
}

// float32 relu and exp with streaming stores straight from registers (vec_math).
template <class Op>
void run_float_streamed(const float* x, float* y, int64_t n) {
  static_assert(std::is_same_v<Op, ReluOp> || std::is_same_v<Op, ExpOp>);
  if constexpr (std::is_same_v<Op, ReluOp>)
    vec::relu_stream_n(x, y, n);
  else
    vec::exp_stream_n(x, y, n);
}

// relu on float16/bfloat16 needs no conversion: negative non-NaN values (sign bit set, magnitude
// at most that of Inf) become +0, everything else is kept bit for bit.
template <class H, uint16_t kInf>
XHAL_CPU_SIMD_CLONES void relu_half(const H* x, H* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const uint16_t h = x[i].bits;
    const bool negative = (h & 0x8000u) != 0 && (h & 0x7FFFu) <= kInf;
    y[i].bits = negative ? uint16_t{0} : h;
  }
}

template <class Op, class T>
void run(const T* x, T* y, int64_t n) {
  if constexpr (unary_detail::is_half_v<T>) {
    if constexpr (std::is_same_v<Op, ReluOp>) {
      relu_half<T, std::is_same_v<T, Half> ? uint16_t{0x7C00u} : uint16_t{0x7F80u}>(x, y, n);
    } else {
      constexpr int64_t kBlock = 1024;
      float buf[kBlock];
      for (int64_t off = 0; off < n; off += kBlock) {
        const int64_t m = std::min(kBlock, n - off);
        unary_detail::widen_n(x + off, buf, m);
        run_float<Op>(buf, buf, m);
        unary_detail::narrow_n(buf, y + off, m);
      }
    }
  } else if constexpr (std::is_same_v<T, float>) {
    run_float<Op>(x, y, n);
  } else {
    run_block<Op, T>(x, y, n);
  }
}

template <class Op, class T, class Attrs>
xhal_status_t unary_entry(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                          const Attrs* /*attrs: none*/, xhal_tensor_t* Y) {
  return guarded(Op::name, [&] {
    constexpr int32_t dt = DType<T>::id;
    XHAL_CPU_TRY(check_context(Op::name, ctx));
    XHAL_CPU_TRY(check_tensor(Op::name, "input X", X, dt));
    XHAL_CPU_TRY(check_tensor(Op::name, "output Y", Y, dt));
    const Dims dx = dims_of(X), dy = dims_of(Y);
    if (dx != dy)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: output Y has shape %s; X has shape %s",
                  Op::name, to_string(dy).c_str(), to_string(dx).c_str());
    const T* x = data_as<const T>(X);
    T* y = data_as<T>(Y);
    // Scalar exp and sigmoid cost tens of cycles per element: split them up sooner than relu.
    // float32's vectorised ones cost about a cycle, like relu: a task must be big enough to
    // pay for waking a worker (several microseconds).
    const int64_t grain = std::is_same_v<Op, ReluOp> || std::is_same_v<T, float>
                              ? kParallelGrain
                              : kParallelGrain / 4;
    // Outputs beyond the caches are streamed (stream_store.h) where the loop is memory-bound:
    // relu of every type, and float32 exp, whose vec_math loop streams from registers (0.79-0.91x
    // the time at 1e6-1e7 elements). float32 sigmoid, which divides, came out even, and exp
    // through the bounce buffer (and the other types' scalar exp) 1.1-1.3x slower.
    constexpr bool kMemoryBound =
        std::is_same_v<Op, ReluOp> || (std::is_same_v<Op, ExpOp> && std::is_same_v<T, float>);
    const bool stream =
        kMemoryBound && outgrows_caches(2 * dx.numel() * static_cast<int64_t>(sizeof(T)));
    parallel_for(dx.numel(), grain, [&](int64_t begin, int64_t end) {
      if constexpr (kMemoryBound && std::is_same_v<T, float>) {
        if (stream) return run_float_streamed<Op>(x + begin, y + begin, end - begin);
      }
      write_streamed(stream, y + begin, end - begin, [&](T* out, int64_t off, int64_t m) {
        run<Op, T>(x + begin + off, out, m);
      });
    });
    return XHAL_OK;
  });
}

template <class T>
xhal_status_t register_float(const xhal_host_api_t* h, xhal_registry_t r) {
  constexpr int32_t dt = DType<T>::id;
  XHAL_CPU_TRY(xhal_register_sigmoid_v1(h, r, unary_entry<SigmoidOp, T, xhal_sigmoid_v1_attrs_t>,
                                        dt, 0, "xhal.cpu.sigmoid"));
  XHAL_CPU_TRY(xhal_register_exp_v1(h, r, unary_entry<ExpOp, T, xhal_exp_v1_attrs_t>, dt, 0,
                                    "xhal.cpu.exp"));
  return XHAL_OK;
}

template <class T>
xhal_status_t register_relu(const xhal_host_api_t* h, xhal_registry_t r) {
  return xhal_register_relu_v1(h, r, unary_entry<ReluOp, T, xhal_relu_v1_attrs_t>, DType<T>::id, 0,
                               "xhal.cpu.relu");
}

}  // namespace

xhal_status_t register_unary_kernels(const xhal_host_api_t* h, xhal_registry_t r) {
  XHAL_CPU_TRY(register_relu<float>(h, r));
  XHAL_CPU_TRY(register_relu<double>(h, r));
  XHAL_CPU_TRY(register_relu<Half>(h, r));
  XHAL_CPU_TRY(register_relu<BFloat16>(h, r));
  XHAL_CPU_TRY(register_relu<int8_t>(h, r));
  XHAL_CPU_TRY(register_relu<int32_t>(h, r));
  XHAL_CPU_TRY(register_relu<int64_t>(h, r));
  XHAL_CPU_TRY(register_float<float>(h, r));
  XHAL_CPU_TRY(register_float<double>(h, r));
  XHAL_CPU_TRY(register_float<Half>(h, r));
  XHAL_CPU_TRY(register_float<BFloat16>(h, r));
  XHAL_CPU_TRY(register_unary_math_kernels(h, r));
  XHAL_CPU_TRY(register_activation_kernels(h, r));
  XHAL_CPU_TRY(register_clip_kernels(h, r));
  XHAL_CPU_TRY(register_cast_kernels(h, r));
  XHAL_CPU_TRY(register_logical_not_kernels(h, r));
  return XHAL_OK;
}

}  // namespace xhal_cpu
