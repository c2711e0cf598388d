// Elementwise math: neg, abs, sign (floats and integers), floor, ceil, round, reciprocal, sqrt,
// log, sin, cos, erf, tanh (floats). float16/bfloat16 compute in float32.
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "kernels.h"
#include "unary_common.h"

namespace xhal_cpu {
namespace {

// Integer negation through the unsigned type, so -MIN wraps to MIN instead of being undefined.
template <class T>
T wrap_neg(T x) {
  using U = std::make_unsigned_t<T>;
  return static_cast<T>(static_cast<U>(U{0} - static_cast<U>(x)));
}

struct NegOp {
  static constexpr const char* name = "neg";
  static constexpr int64_t grain = kCheapGrain;
  template <class T>
  T operator()(T x) const {
    if constexpr (std::is_integral_v<T>)
      return wrap_neg(x);
    else
      return -x;
  }
};

struct AbsOp {
  static constexpr const char* name = "abs";
  static constexpr int64_t grain = kCheapGrain;
  template <class T>
  T operator()(T x) const {
    if constexpr (std::is_unsigned_v<T>)
      return x;
    else if constexpr (std::is_integral_v<T>)
      return x < 0 ? wrap_neg(x) : x;
    else
      return std::fabs(x);
  }
};

struct SignOp {
  static constexpr const char* name = "sign";
  static constexpr int64_t grain = kCheapGrain;
  template <class T>
  T operator()(T x) const {
    if constexpr (std::is_floating_point_v<T>) {
      const T s = static_cast<T>((x > T(0)) - (x < T(0)));
      return x == x ? s : x;  // NaN stays NaN
    } else {
      return static_cast<T>((x > T(0)) - (x < T(0)));
    }
  }
};

#define XHAL_UNARY_FLOAT_OP(Name, str, grain_, expr) \
  struct Name {                                      \
    static constexpr const char* name = str;         \
    static constexpr int64_t grain = grain_;         \
    template <class T>                               \
    T operator()(T x) const {                        \
      return expr;                                   \
    }                                                \
  };

XHAL_UNARY_FLOAT_OP(FloorOp, "floor", kCheapGrain, std::floor(x))
XHAL_UNARY_FLOAT_OP(CeilOp, "ceil", kCheapGrain, std::ceil(x))
// nearbyint rounds in the current mode, round-to-nearest-even (never changed by the plugin).
XHAL_UNARY_FLOAT_OP(RoundOp, "round", kCheapGrain, std::nearbyint(x))
XHAL_UNARY_FLOAT_OP(ReciprocalOp, "reciprocal", kCheapGrain, T(1) / x)
XHAL_UNARY_FLOAT_OP(SqrtOp, "sqrt", kCheapGrain, std::sqrt(x))
XHAL_UNARY_FLOAT_OP(LogOp, "log", kMathGrain, std::log(x))
XHAL_UNARY_FLOAT_OP(SinOp, "sin", kMathGrain, std::sin(x))
XHAL_UNARY_FLOAT_OP(CosOp, "cos", kMathGrain, std::cos(x))
XHAL_UNARY_FLOAT_OP(ErfOp, "erf", kMathGrain, std::erf(x))
XHAL_UNARY_FLOAT_OP(TanhOp, "tanh", kMathGrain, std::tanh(x))
#undef XHAL_UNARY_FLOAT_OP

#define XHAL_REGISTER_UNARY(op, Op, T)                                                      \
  XHAL_CPU_TRY(xhal_register_##op##_v1(h, r, unary_entry_plain<Op, T, xhal_##op##_v1_attrs_t>, \
                                       DType<T>::id, 0, "xhal.cpu." #op))

#define XHAL_REGISTER_FLOATS(op, Op)  \
  XHAL_REGISTER_UNARY(op, Op, float);    \
  XHAL_REGISTER_UNARY(op, Op, double);   \
  XHAL_REGISTER_UNARY(op, Op, Half);     \
  XHAL_REGISTER_UNARY(op, Op, BFloat16)

}  // namespace

xhal_status_t register_unary_math_kernels(const xhal_host_api_t* h, xhal_registry_t r) {
  XHAL_REGISTER_FLOATS(neg, NegOp);
  XHAL_REGISTER_UNARY(neg, NegOp, int8_t);
  XHAL_REGISTER_UNARY(neg, NegOp, int32_t);
  XHAL_REGISTER_UNARY(neg, NegOp, int64_t);
  XHAL_REGISTER_FLOATS(abs, AbsOp);
  XHAL_REGISTER_UNARY(abs, AbsOp, int8_t);
  XHAL_REGISTER_UNARY(abs, AbsOp, uint8_t);
  XHAL_REGISTER_UNARY(abs, AbsOp, int32_t);
  XHAL_REGISTER_UNARY(abs, AbsOp, int64_t);
  XHAL_REGISTER_FLOATS(sign, SignOp);
  XHAL_REGISTER_UNARY(sign, SignOp, int8_t);
  XHAL_REGISTER_UNARY(sign, SignOp, uint8_t);
  XHAL_REGISTER_UNARY(sign, SignOp, int32_t);
  XHAL_REGISTER_UNARY(sign, SignOp, int64_t);
  XHAL_REGISTER_FLOATS(floor, FloorOp);
  XHAL_REGISTER_FLOATS(ceil, CeilOp);
  XHAL_REGISTER_FLOATS(round, RoundOp);
  XHAL_REGISTER_FLOATS(reciprocal, ReciprocalOp);
  XHAL_REGISTER_FLOATS(sqrt, SqrtOp);
  XHAL_REGISTER_FLOATS(log, LogOp);
  XHAL_REGISTER_FLOATS(sin, SinOp);
  XHAL_REGISTER_FLOATS(cos, CosOp);
  XHAL_REGISTER_FLOATS(erf, ErfOp);
  XHAL_REGISTER_FLOATS(tanh, TanhOp);
  return XHAL_OK;
}

}  // namespace xhal_cpu
