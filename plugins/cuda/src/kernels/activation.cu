// Activations with attributes or composite formulas, float32/float64/float16/bfloat16, strided
// inputs, on the elementwise engine: leaky_relu, elu, selu, hard_sigmoid, hard_swish,
// softplus, gelu (approximate "none": erf form; "tanh": the tanh approximation).
//
// The formulas are the CPU plugin's (plugins/cpu/kernels/activation.cpp), operation for
// operation: float16/bfloat16 compute in float32 and round once; formulas that round several
// times (selu, hard_sigmoid, hard_swish, gelu) compute float32 (and so the 16-bit floats) in
// float64, with products and sums rounded separately (no fused multiply-add, which nvcc would
// otherwise contract them into). NaN passes through the piecewise ones (comparisons fail).
// Not done: attribute validation beyond gelu's `approximate` (alpha, beta, gamma are free floats).
#include <cmath>
#include <cstring>
#include <type_traits>

#include "dtypes.cuh"
#include "elementwise.cuh"
#include "registry.h"

namespace xhal_cuda {
namespace {

// float computes in double where the formula rounds several times.
template <class V>
using wide_t = typename std::conditional<std::is_same<V, float>::value, double, V>::type;

template <class V>
__device__ __forceinline__ V m_expm1(V x) {
  if constexpr (std::is_same<V, float>::value) return ::expm1f(x); else return ::expm1(x);
}
template <class V>
__device__ __forceinline__ V m_exp(V x) {
  if constexpr (std::is_same<V, float>::value) return ::expf(x); else return ::exp(x);
}
template <class V>
__device__ __forceinline__ V m_log1p(V x) {
  if constexpr (std::is_same<V, float>::value) return ::log1pf(x); else return ::log1p(x);
}
template <class V>
__device__ __forceinline__ V m_fabs(V x) {
  if constexpr (std::is_same<V, float>::value) return ::fabsf(x); else return ::fabs(x);
}

struct LeakyReluOp {
  float alpha;
  template <class V>
  __device__ V operator()(V x) const {
    return x < V(0) ? static_cast<V>(alpha) * x : x;
  }
};

struct EluOp {
  float alpha;
  template <class V>
  __device__ V operator()(V x) const {
    return x < V(0) ? static_cast<V>(alpha) * m_expm1(x) : x;
  }
};

struct SeluOp {
  float alpha, gamma;
  template <class V>
  __device__ V operator()(V x) const {
    using W = wide_t<V>;
    const W w = x, g = gamma, a = alpha;
    return static_cast<V>(w > W(0) ? g * w : g * (a * m_expm1(w)));
  }
};

// a * b + c rounded twice, never fused into one fma (nvcc contracts a * b + c by default): the
// CPU plugin and the numpy reference round the product, and near the kinks (x = -3 for
// hard_swish) the fused form differs by far more than float64's tolerance in relative terms.
__device__ __forceinline__ double mul_add_rn(double a, double b, double c) {
  return __dadd_rn(__dmul_rn(a, b), c);
}

// max(0, min(1, v)) that keeps NaN.
template <class W>
__device__ __forceinline__ W clamp01(W v) {
  return v < W(0) ? W(0) : (v > W(1) ? W(1) : v);
}

struct HardSigmoidOp {
  float alpha, beta;
  template <class V>
  __device__ V operator()(V x) const {
    using W = wide_t<V>;
    static_assert(std::is_same<W, double>::value, "computed in float64");
    return static_cast<V>(clamp01(mul_add_rn(W(alpha), W(x), W(beta))));
  }
};

struct HardSwishOp {
  template <class V>
  __device__ V operator()(V x) const {
    using W = wide_t<V>;
    const W w = x;
    static_assert(std::is_same<W, double>::value, "computed in float64");
    return static_cast<V>(w * clamp01(mul_add_rn(W(1.0f / 6.0f), w, W(0.5))));
  }
};

struct SoftplusOp {
  // max(x, 0) + log1p(exp(-|x|)): no overflow for large x, no cancellation for negative x.
  template <class V>
  __device__ V operator()(V x) const {
    const V pos = x > V(0) ? x : V(0);
    return pos + m_log1p(m_exp(-m_fabs(x)));
  }
};

struct GeluErfOp {
  // 0.5 x erfc(-x / sqrt(2)) = 0.5 x (1 + erf(x / sqrt(2))) without its cancellation for x < 0.
  template <class V>
  __device__ V operator()(V x) const {
    using W = wide_t<V>;
    const W w = x;
    return static_cast<V>((W(0.5) * w) * ::erfc(-w * W(0.70710678118654752440)));
  }
};

struct GeluTanhOp {
  // 0.5 x (1 + tanh(u)) = x / (1 + exp(-2u)), u = sqrt(2/pi) (x + 0.044715 x^3).
  template <class V>
  __device__ V operator()(V x) const {
    using W = wide_t<V>;
    const W w = x;
    static_assert(std::is_same<W, double>::value, "computed in float64");
    const W u = W(0.79788456080286535588) * mul_add_rn(W(0.044715) * w * w, w, w);
    return static_cast<V>(w / (W(1) + ::exp(W(-2) * u)));
  }
};

// Begins the call and runs `body(call)`.
template <class Body>
xhal_status_t run(const char* op, const xhal_kernel_context_t* ctx, const Body& body) noexcept {
  return guarded(op, [&] {
    Call call;
    XHAL_CUDA_TRY(begin_call(op, ctx, &call));
    return body(call);
  });
}

template <class T>
xhal_status_t leaky_relu_entry(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                               const xhal_leaky_relu_v1_attrs_t* attrs, xhal_tensor_t* Y) noexcept {
  return run("leaky_relu", ctx, [&](const Call& call) {
    const auto a = read_attrs(attrs, xhal_leaky_relu_v1_attrs_init);
    return ew::unary<T, T>(call, LeakyReluOp{a.alpha}, X, Y);
  });
}

template <class T>
xhal_status_t elu_entry(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                        const xhal_elu_v1_attrs_t* attrs, xhal_tensor_t* Y) noexcept {
  return run("elu", ctx, [&](const Call& call) {
    const auto a = read_attrs(attrs, xhal_elu_v1_attrs_init);
    return ew::unary<T, T>(call, EluOp{a.alpha}, X, Y);
  });
}

template <class T>
xhal_status_t selu_entry(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                         const xhal_selu_v1_attrs_t* attrs, xhal_tensor_t* Y) noexcept {
  return run("selu", ctx, [&](const Call& call) {
    const auto a = read_attrs(attrs, xhal_selu_v1_attrs_init);
    return ew::unary<T, T>(call, SeluOp{a.alpha, a.gamma}, X, Y);
  });
}

template <class T>
xhal_status_t hard_sigmoid_entry(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                                 const xhal_hard_sigmoid_v1_attrs_t* attrs,
                                 xhal_tensor_t* Y) noexcept {
  return run("hard_sigmoid", ctx, [&](const Call& call) {
    const auto a = read_attrs(attrs, xhal_hard_sigmoid_v1_attrs_init);
    return ew::unary<T, T>(call, HardSigmoidOp{a.alpha, a.beta}, X, Y);
  });
}

template <class T>
xhal_status_t hard_swish_entry(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                               const xhal_hard_swish_v1_attrs_t* /*attrs: none*/,
                               xhal_tensor_t* Y) noexcept {
  return run("hard_swish", ctx,
             [&](const Call& call) { return ew::unary<T, T>(call, HardSwishOp{}, X, Y); });
}

template <class T>
xhal_status_t softplus_entry(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                             const xhal_softplus_v1_attrs_t* /*attrs: none*/,
                             xhal_tensor_t* Y) noexcept {
  return run("softplus", ctx,
             [&](const Call& call) { return ew::unary<T, T>(call, SoftplusOp{}, X, Y); });
}

template <class T>
xhal_status_t gelu_entry(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                         const xhal_gelu_v1_attrs_t* attrs, xhal_tensor_t* Y) noexcept {
  return run("gelu", ctx, [&](const Call& call) {
    const auto a = read_attrs(attrs, xhal_gelu_v1_attrs_init);
    const char* approx = a.approximate != nullptr ? a.approximate : "none";
    if (std::strcmp(approx, "none") == 0) return ew::unary<T, T>(call, GeluErfOp{}, X, Y);
    if (std::strcmp(approx, "tanh") == 0) return ew::unary<T, T>(call, GeluTanhOp{}, X, Y);
    return fail(XHAL_ERROR_INVALID_ARGUMENT,
                "gelu: attribute approximate is '%s'; it must be 'none' or 'tanh'", approx);
  });
}

constexpr uint32_t kFlags = XHAL_KERNEL_FLAG_STRIDED_INPUTS;

template <class T>
xhal_status_t register_for(const xhal_host_api_t* h, xhal_registry_t r) {
  constexpr int32_t dt = dtype_of<T>();
  XHAL_CUDA_TRY(
      xhal_register_leaky_relu_v1(h, r, leaky_relu_entry<T>, dt, kFlags, "cuda.leaky_relu"));
  XHAL_CUDA_TRY(xhal_register_elu_v1(h, r, elu_entry<T>, dt, kFlags, "cuda.elu"));
  XHAL_CUDA_TRY(xhal_register_selu_v1(h, r, selu_entry<T>, dt, kFlags, "cuda.selu"));
  XHAL_CUDA_TRY(xhal_register_hard_sigmoid_v1(h, r, hard_sigmoid_entry<T>, dt, kFlags,
                                              "cuda.hard_sigmoid"));
  XHAL_CUDA_TRY(
      xhal_register_hard_swish_v1(h, r, hard_swish_entry<T>, dt, kFlags, "cuda.hard_swish"));
  XHAL_CUDA_TRY(xhal_register_softplus_v1(h, r, softplus_entry<T>, dt, kFlags, "cuda.softplus"));
  return xhal_register_gelu_v1(h, r, gelu_entry<T>, dt, kFlags, "cuda.gelu");
}

xhal_status_t register_activation_family(const xhal_host_api_t* h, xhal_registry_t r) {
  XHAL_CUDA_TRY(register_for<float>(h, r));
  XHAL_CUDA_TRY(register_for<double>(h, r));
  XHAL_CUDA_TRY(register_for<__half>(h, r));
  return register_for<__nv_bfloat16>(h, r);
}

}  // namespace

XHAL_CUDA_KERNEL_FAMILY(activation, register_activation_family);

}  // namespace xhal_cuda
