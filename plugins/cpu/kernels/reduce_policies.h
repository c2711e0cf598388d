// Accumulation policies of the reductions (see reduce_common.h for the interface).
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "reduce_common.h"

namespace xhal_cpu {
namespace reduce_detail {

// Sums and products: float32 -> float64, float16/bfloat16 -> float32, float64 -> float64,
// integers in the unsigned type of their width (wrapping).
template <class T, class = void>
struct WideAcc {
  using type = std::make_unsigned_t<T>;
};
template <>
struct WideAcc<float> {
  using type = double;
};
template <>
struct WideAcc<double> {
  using type = double;
};
template <>
struct WideAcc<Half> {
  using type = float;
};
template <>
struct WideAcc<BFloat16> {
  using type = float;
};

template <class T>
struct SumPolicy {
  using Acc = typename WideAcc<T>::type;
  static constexpr bool kAdditive = true;
  static Acc identity() { return Acc(0); }
  static Acc combine(Acc a, Acc b) { return a + b; }
  static T finish(Acc a, int64_t) { return from_acc<T>(a); }
  static T empty() { return from_acc<T>(Acc(0)); }
};

template <class T>
struct ProdPolicy {
  using Acc = typename WideAcc<T>::type;
  static Acc identity() { return Acc(1); }
  static Acc combine(Acc a, Acc b) { return static_cast<Acc>(a * b); }
  static T finish(Acc a, int64_t) { return from_acc<T>(a); }
  static T empty() { return from_acc<T>(Acc(1)); }
};

// Mean: floats as SumPolicy, divided once; integers sum in uint64 (int64 wrapping) and the
// quotient truncates toward zero. An empty mean is NaN (floats) or 0 (integers).
template <class T>
struct MeanPolicy {
  static constexpr bool kInt = std::is_integral_v<T>;
  using Acc = std::conditional_t<kInt, uint64_t, typename WideAcc<T>::type>;
  static constexpr bool kAdditive = true;
  static Acc identity() { return Acc(0); }
  static Acc combine(Acc a, Acc b) { return a + b; }
  static T finish(Acc a, int64_t n) {
    if constexpr (kInt)
      return static_cast<T>(static_cast<int64_t>(a) / n);
    else
      return from_acc<T>(a / static_cast<Acc>(n));
  }
  static T empty() {
    if constexpr (kInt)
      return T(0);
    else
      return from_acc<T>(std::numeric_limits<Acc>::quiet_NaN());
  }
};

// Max and min compare in the compute type (float for float16/bfloat16, else the dtype); a NaN
// wins (propagates) once seen. bool compares false < true.
template <class T>
struct ExtremeAcc {
  using type = std::conditional_t<std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>, float, T>;
};

template <class T, bool kMax>
struct ExtremePolicy {
  using Acc = typename ExtremeAcc<T>::type;
  static constexpr bool kFloat = std::is_floating_point_v<Acc>;
  static constexpr int kExtreme = kFloat ? (kMax ? 1 : -1) : 0;
  static Acc identity() {
    if constexpr (kFloat)
      return kMax ? -std::numeric_limits<Acc>::infinity() : std::numeric_limits<Acc>::infinity();
    else
      return kMax ? std::numeric_limits<Acc>::lowest() : std::numeric_limits<Acc>::max();
  }
  static Acc combine(Acc a, Acc b) {
    if constexpr (kFloat) {
      const bool take = (kMax ? b > a : b < a) || b != b;  // a NaN `a` stays: no b beats it
      return take ? b : a;
    } else {
      return (kMax ? b > a : b < a) ? b : a;
    }
  }
  static T finish(Acc a, int64_t) { return from_acc<T>(a); }
  static T empty() { return from_acc<T>(identity()); }
};

}  // namespace reduce_detail
}  // namespace xhal_cpu
