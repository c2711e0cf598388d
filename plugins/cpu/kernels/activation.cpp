// Activations with attributes or composite formulas: leaky_relu, elu, selu, hard_sigmoid,
// hard_swish, softplus, gelu (float32/float64/float16/bfloat16). float16/bfloat16 compute in
// float32; formulas that round several times (hard_sigmoid, hard_swish, gelu) compute float32
// in float64 and round once.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels.h"
#include "unary_common.h"

namespace xhal_cpu {
namespace {

// float (and the half types, via float) compute in double where the formula rounds several times.
template <class T>
using wide_t = std::conditional_t<std::is_same_v<T, float>, double, T>;

struct LeakyReluOp {
  static constexpr const char* name = "leaky_relu";
  float alpha;
  template <class T>
  T operator()(T x) const {
    return x < T(0) ? static_cast<T>(alpha) * x : x;  // NaN fails the test and passes through
  }
};

struct EluOp {
  static constexpr const char* name = "elu";
  float alpha;
  template <class T>
  T operator()(T x) const {
    return x < T(0) ? static_cast<T>(alpha) * std::expm1(x) : x;
  }
};

struct SeluOp {
  static constexpr const char* name = "selu";
  float alpha, gamma;
  template <class T>
  T operator()(T x) const {
    using W = wide_t<T>;
    const W w = x, g = gamma, a = alpha;
    return static_cast<T>(w > W(0) ? g * w : g * (a * std::expm1(w)));
  }
};

// max(0, min(1, v)) that keeps NaN.
template <class W>
inline W clamp01(W v) {
  return v < W(0) ? W(0) : (v > W(1) ? W(1) : v);
}

struct HardSigmoidOp {
  static constexpr const char* name = "hard_sigmoid";
  float alpha, beta;
  template <class T>
  T operator()(T x) const {
    using W = wide_t<T>;
    return static_cast<T>(clamp01(W(alpha) * W(x) + W(beta)));
  }
};

struct HardSwishOp {
  static constexpr const char* name = "hard_swish";
  template <class T>
  T operator()(T x) const {
    using W = wide_t<T>;
    const W w = x;
    return static_cast<T>(w * clamp01(W(1.0f / 6.0f) * w + W(0.5)));
  }
};

struct SoftplusOp {
  static constexpr const char* name = "softplus";
  // max(x, 0) + log1p(exp(-|x|)): no overflow for large x, no cancellation for negative x.
  template <class T>
  T operator()(T x) const {
    const T pos = x > T(0) ? x : T(0);
    return pos + std::log1p(std::exp(-std::fabs(x)));
  }
};

struct GeluErfOp {
  static constexpr const char* name = "gelu";
  // 0.5 x erfc(-x / sqrt(2)) = 0.5 x (1 + erf(x / sqrt(2))) without its cancellation for x < 0.
  template <class T>
  T operator()(T x) const {
    using W = std::conditional_t<std::is_same_v<T, float>, double, T>;
    const W w = x;
    return static_cast<T>((W(0.5) * w) * std::erfc(-w * W(0.70710678118654752440)));
  }
};

struct GeluTanhOp {
  static constexpr const char* name = "gelu";
  // 0.5 x (1 + tanh(u)) = x / (1 + exp(-2u)), u = sqrt(2/pi) (x + 0.044715 x^3).
  template <class T>
  T operator()(T x) const {
    using W = std::conditional_t<std::is_same_v<T, float>, double, T>;
    const W w = x;
    const W u = W(0.79788456080286535588) * (w + W(0.044715) * w * w * w);
    return static_cast<T>(w / (W(1) + std::exp(W(-2) * u)));
  }
};

template <class T>
xhal_status_t leaky_relu_entry(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                               const xhal_leaky_relu_v1_attrs_t* attrs, xhal_tensor_t* Y) {
  return guarded("leaky_relu", [&] {
    const auto a = read_attrs(attrs, xhal_leaky_relu_v1_attrs_init);
    return unary_map<T>("leaky_relu", ctx, X, Y, LeakyReluOp{a.alpha}, kCheapGrain);
  });
}

template <class T>
xhal_status_t elu_entry(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                        const xhal_elu_v1_attrs_t* attrs, xhal_tensor_t* Y) {
  return guarded("elu", [&] {
    const auto a = read_attrs(attrs, xhal_elu_v1_attrs_init);
    return unary_map<T>("elu", ctx, X, Y, EluOp{a.alpha}, kMathGrain);
  });
}

template <class T>
xhal_status_t selu_entry(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                         const xhal_selu_v1_attrs_t* attrs, xhal_tensor_t* Y) {
  return guarded("selu", [&] {
    const auto a = read_attrs(attrs, xhal_selu_v1_attrs_init);
    return unary_map<T>("selu", ctx, X, Y, SeluOp{a.alpha, a.gamma}, kMathGrain);
  });
}

template <class T>
xhal_status_t hard_sigmoid_entry(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                                 const xhal_hard_sigmoid_v1_attrs_t* attrs, xhal_tensor_t* Y) {
  return guarded("hard_sigmoid", [&] {
    const auto a = read_attrs(attrs, xhal_hard_sigmoid_v1_attrs_init);
    return unary_map<T>("hard_sigmoid", ctx, X, Y, HardSigmoidOp{a.alpha, a.beta}, kCheapGrain);
  });
}

template <class T>
xhal_status_t gelu_entry(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                         const xhal_gelu_v1_attrs_t* attrs, xhal_tensor_t* Y) {
  return guarded("gelu", [&] {
    const auto a = read_attrs(attrs, xhal_gelu_v1_attrs_init);
    const char* approx = a.approximate != nullptr ? a.approximate : "none";
    if (std::strcmp(approx, "none") == 0)
      return unary_map<T>("gelu", ctx, X, Y, GeluErfOp{}, kMathGrain);
    if (std::strcmp(approx, "tanh") == 0)
      return unary_map<T>("gelu", ctx, X, Y, GeluTanhOp{}, kMathGrain);
    return fail(XHAL_ERROR_INVALID_ARGUMENT,
                "gelu: attribute approximate is '%s'; it must be 'none' or 'tanh'", approx);
  });
}

template <class T>
xhal_status_t hard_swish_entry(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                               const xhal_hard_swish_v1_attrs_t* /*attrs: none*/,
                               xhal_tensor_t* Y) {
  return guarded("hard_swish", [&] {
    return unary_map<T>("hard_swish", ctx, X, Y, HardSwishOp{}, kCheapGrain);
  });
}

template <class T>
xhal_status_t softplus_entry(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                             const xhal_softplus_v1_attrs_t* /*attrs: none*/, xhal_tensor_t* Y) {
  return guarded("softplus", [&] {
    return unary_map<T>("softplus", ctx, X, Y, SoftplusOp{}, kMathGrain);
  });
}

template <class T>
xhal_status_t register_for(const xhal_host_api_t* h, xhal_registry_t r) {
  constexpr int32_t dt = DType<T>::id;
  XHAL_CPU_TRY(xhal_register_leaky_relu_v1(h, r, leaky_relu_entry<T>, dt, 0, "xhal.cpu.leaky_relu"));
  XHAL_CPU_TRY(xhal_register_elu_v1(h, r, elu_entry<T>, dt, 0, "xhal.cpu.elu"));
  XHAL_CPU_TRY(xhal_register_selu_v1(h, r, selu_entry<T>, dt, 0, "xhal.cpu.selu"));
  XHAL_CPU_TRY(
      xhal_register_hard_sigmoid_v1(h, r, hard_sigmoid_entry<T>, dt, 0, "xhal.cpu.hard_sigmoid"));
  XHAL_CPU_TRY(
      xhal_register_hard_swish_v1(h, r, hard_swish_entry<T>, dt, 0, "xhal.cpu.hard_swish"));
  XHAL_CPU_TRY(xhal_register_softplus_v1(h, r, softplus_entry<T>, dt, 0, "xhal.cpu.softplus"));
  XHAL_CPU_TRY(xhal_register_gelu_v1(h, r, gelu_entry<T>, dt, 0, "xhal.cpu.gelu"));
  return XHAL_OK;
}

}  // namespace

xhal_status_t register_activation_kernels(const xhal_host_api_t* h, xhal_registry_t r) {
  XHAL_CPU_TRY(register_for<float>(h, r));
  XHAL_CPU_TRY(register_for<double>(h, r));
  XHAL_CPU_TRY(register_for<Half>(h, r));
  XHAL_CPU_TRY(register_for<BFloat16>(h, r));
  return XHAL_OK;
}

}  // namespace xhal_cpu
