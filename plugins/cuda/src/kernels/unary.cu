// Unary math on the elementwise engine (elementwise.cuh), strided inputs indexed directly:
//   neg (float32/float64/float16/bfloat16/int8/int32/int64), abs and sign (those and uint8),
//   relu (floats, int8, int32, int64), and for floats only: exp, log, sqrt, reciprocal, floor,
//   ceil, round, sin, cos, erf, tanh, sigmoid.
//
// How: one functor per op over the compute type (float for float16/bfloat16, rounded once on
// store), CUDA's IEEE-accurate libdevice functions (no fast-math: sqrt and 1/x are correctly
// rounded, the transcendentals within 1-4 ulp). Semantics as the CPU plugin
// (plugins/cpu/kernels/unary*.cpp): integer neg/abs wrap (-MIN = MIN); sign keeps NaN; relu is
// `x < 0 ? 0 : x`, so NaN passes through; round is half to even (rint); sigmoid takes exp of
// -|x| only (1 / (1 + e) for x >= 0, e / (1 + e) below), so nothing overflows.
// Not done: relu on float16/bfloat16 turns -0 into -0 here (the CPU plugin's bitwise path gives
// +0); the sign of zero is not compared by the conformance suite.
#include <cmath>
#include <type_traits>

#include "dtypes.cuh"
#include "elementwise.cuh"
#include "registry.h"

namespace xhal_cuda {
namespace {

using ew::is_int;

// float and double overloads of CUDA's math functions, picked explicitly.
#define XHAL_EW_MATH(fn)                                    \
  template <class V>                                        \
  __device__ __forceinline__ V m_##fn(V x) {                \
    if constexpr (std::is_same<V, float>::value)            \
      return ::fn##f(x);                                    \
    else                                                    \
      return ::fn(x);                                       \
  }
XHAL_EW_MATH(exp)
XHAL_EW_MATH(log)
XHAL_EW_MATH(sqrt)
XHAL_EW_MATH(floor)
XHAL_EW_MATH(ceil)
XHAL_EW_MATH(rint)
XHAL_EW_MATH(sin)
XHAL_EW_MATH(cos)
XHAL_EW_MATH(erf)
XHAL_EW_MATH(tanh)
XHAL_EW_MATH(fabs)
#undef XHAL_EW_MATH

struct NegOp {
  static constexpr const char* name = "neg";
  template <class V>
  __device__ V operator()(V x) const {
    if constexpr (is_int<V>)
      return ew::wrap_neg(x);
    else
      return -x;
  }
};

struct AbsOp {
  static constexpr const char* name = "abs";
  template <class V>
  __device__ V operator()(V x) const {
    if constexpr (std::is_unsigned<V>::value)
      return x;
    else if constexpr (is_int<V>)
      return x < 0 ? ew::wrap_neg(x) : x;
    else
      return m_fabs(x);
  }
};

struct SignOp {
  static constexpr const char* name = "sign";
  template <class V>
  __device__ V operator()(V x) const {
    if constexpr (std::is_unsigned<V>::value) {
      return static_cast<V>(x != 0);
    } else {
      const V s = static_cast<V>(int(x > V(0)) - int(x < V(0)));
      if constexpr (std::is_floating_point<V>::value)
        return x == x ? s : x;  // NaN stays NaN
      else
        return s;
    }
  }
};

struct ReluOp {
  static constexpr const char* name = "relu";
  template <class V>
  __device__ V operator()(V x) const {
    return x < V(0) ? V(0) : x;  // NaN fails the comparison and passes through
  }
};

struct SigmoidOp {
  static constexpr const char* name = "sigmoid";
  template <class V>
  __device__ V operator()(V x) const {
    const V e = m_exp(-m_fabs(x));
    return x >= V(0) ? V(1) / (V(1) + e) : e / (V(1) + e);
  }
};

struct ReciprocalOp {
  static constexpr const char* name = "reciprocal";
  template <class V>
  __device__ V operator()(V x) const {
    return V(1) / x;
  }
};

#define XHAL_EW_FLOAT_OP(Name, str, fn)     \
  struct Name {                             \
    static constexpr const char* name = str; \
    template <class V>                      \
    __device__ V operator()(V x) const {    \
      return m_##fn(x);                     \
    }                                       \
  };
XHAL_EW_FLOAT_OP(ExpOp, "exp", exp)
XHAL_EW_FLOAT_OP(LogOp, "log", log)
XHAL_EW_FLOAT_OP(SqrtOp, "sqrt", sqrt)
XHAL_EW_FLOAT_OP(FloorOp, "floor", floor)
XHAL_EW_FLOAT_OP(CeilOp, "ceil", ceil)
XHAL_EW_FLOAT_OP(RoundOp, "round", rint)  // round half to even
XHAL_EW_FLOAT_OP(SinOp, "sin", sin)
XHAL_EW_FLOAT_OP(CosOp, "cos", cos)
XHAL_EW_FLOAT_OP(ErfOp, "erf", erf)
XHAL_EW_FLOAT_OP(TanhOp, "tanh", tanh)
#undef XHAL_EW_FLOAT_OP

template <class Op, class T, class Attrs>
xhal_status_t unary_entry(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                          const Attrs* /*attrs: none*/, xhal_tensor_t* Y) noexcept {
  return guarded(Op::name, [&] {
    Call call;
    XHAL_CUDA_TRY(begin_call(Op::name, ctx, &call));
    return ew::unary<T, T>(call, Op{}, X, Y);
  });
}

constexpr uint32_t kFlags = XHAL_KERNEL_FLAG_STRIDED_INPUTS;

#define XHAL_EW_REGISTER(op, Op, T)                                                       \
  XHAL_CUDA_TRY(xhal_register_##op##_v1(h, r, unary_entry<Op, T, xhal_##op##_v1_attrs_t>, \
                                        dtype_of<T>(), kFlags, "cuda." #op))

template <class T>
xhal_status_t register_float(const xhal_host_api_t* h, xhal_registry_t r) {
  XHAL_EW_REGISTER(neg, NegOp, T);
  XHAL_EW_REGISTER(abs, AbsOp, T);
  XHAL_EW_REGISTER(sign, SignOp, T);
  XHAL_EW_REGISTER(relu, ReluOp, T);
  XHAL_EW_REGISTER(exp, ExpOp, T);
  XHAL_EW_REGISTER(log, LogOp, T);
  XHAL_EW_REGISTER(sqrt, SqrtOp, T);
  XHAL_EW_REGISTER(reciprocal, ReciprocalOp, T);
  XHAL_EW_REGISTER(floor, FloorOp, T);
  XHAL_EW_REGISTER(ceil, CeilOp, T);
  XHAL_EW_REGISTER(round, RoundOp, T);
  XHAL_EW_REGISTER(sin, SinOp, T);
  XHAL_EW_REGISTER(cos, CosOp, T);
  XHAL_EW_REGISTER(erf, ErfOp, T);
  XHAL_EW_REGISTER(tanh, TanhOp, T);
  XHAL_EW_REGISTER(sigmoid, SigmoidOp, T);
  return XHAL_OK;
}

xhal_status_t register_unary_family(const xhal_host_api_t* h, xhal_registry_t r) {
  XHAL_CUDA_TRY(register_float<float>(h, r));
  XHAL_CUDA_TRY(register_float<double>(h, r));
  XHAL_CUDA_TRY(register_float<__half>(h, r));
  XHAL_CUDA_TRY(register_float<__nv_bfloat16>(h, r));
  XHAL_EW_REGISTER(neg, NegOp, int8_t);
  XHAL_EW_REGISTER(neg, NegOp, int32_t);
  XHAL_EW_REGISTER(neg, NegOp, int64_t);
  XHAL_EW_REGISTER(abs, AbsOp, int8_t);
  XHAL_EW_REGISTER(abs, AbsOp, uint8_t);
  XHAL_EW_REGISTER(abs, AbsOp, int32_t);
  XHAL_EW_REGISTER(abs, AbsOp, int64_t);
  XHAL_EW_REGISTER(sign, SignOp, int8_t);
  XHAL_EW_REGISTER(sign, SignOp, uint8_t);
  XHAL_EW_REGISTER(sign, SignOp, int32_t);
  XHAL_EW_REGISTER(sign, SignOp, int64_t);
  XHAL_EW_REGISTER(relu, ReluOp, int8_t);
  XHAL_EW_REGISTER(relu, ReluOp, int32_t);
  XHAL_EW_REGISTER(relu, ReluOp, int64_t);
  return XHAL_OK;
}
#undef XHAL_EW_REGISTER

}  // namespace

XHAL_CUDA_KERNEL_FAMILY(unary, register_unary_family);

}  // namespace xhal_cuda
