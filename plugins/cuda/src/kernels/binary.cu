// add, sub, mul, div and mod (float32/float64/float16/bfloat16/int8/uint8/int32/int64), with
// NumPy multidirectional broadcasting and strided inputs, on the elementwise engine
// (elementwise.cuh): one functor per op over the compute type.
//
// Semantics follow the CPU plugin (plugins/cpu/kernels/binary.cpp, binary_mod.cpp):
// float16/bfloat16 compute in float32 and round once; integers wrap (computed in the unsigned
// type); integer division truncates toward zero, x / 0 gives 0 and MIN / -1 gives MIN. mod:
// fmod = 1 is C fmod (sign of A), fmod = 0 the floored remainder (sign of B): floats take the
// exact fmod and add B when the remainder is nonzero and of the other sign than B (a zero
// remainder takes B's sign); integer B = 0 gives 0 and MIN mod -1 gives 0.
// Not done here: any fused or in-place variant; the host allocates C.
#include <cmath>
#include <type_traits>

#include "dtypes.cuh"
#include "elementwise.cuh"
#include "registry.h"

namespace xhal_cuda {
namespace {

using ew::is_int;

struct AddOp {
  static constexpr const char* name = "add";
  template <class V>
  __device__ V operator()(V a, V b) const {
    if constexpr (is_int<V>)
      return ew::wrap_add(a, b);
    else
      return a + b;
  }
};

struct SubOp {
  static constexpr const char* name = "sub";
  template <class V>
  __device__ V operator()(V a, V b) const {
    if constexpr (is_int<V>)
      return ew::wrap_sub(a, b);
    else
      return a - b;
  }
};

struct MulOp {
  static constexpr const char* name = "mul";
  template <class V>
  __device__ V operator()(V a, V b) const {
    if constexpr (is_int<V>)
      return ew::wrap_mul(a, b);
    else
      return a * b;
  }
};

struct DivOp {
  static constexpr const char* name = "div";
  template <class V>
  __device__ V operator()(V a, V b) const {
    if constexpr (is_int<V>) {
      if (b == 0) return V(0);  // undefined by the spec; the CPU plugin's choice
      if constexpr (std::is_signed<V>::value) {
        if (b == V(-1)) return ew::wrap_neg(a);  // MIN / -1 wraps to MIN
      }
      return static_cast<V>(a / b);
    } else {
      return a / b;
    }
  }
};

// The C remainder, sign of a; 0 for b == 0 and for b == -1 (MIN % -1 would overflow).
template <class V>
__device__ __forceinline__ V int_rem(V a, V b) {
  if (b == 0) return V(0);
  if constexpr (std::is_signed<V>::value) {
    if (b == V(-1)) return V(0);
  }
  return static_cast<V>(a % b);
}

struct ModTrunc {
  template <class V>
  __device__ V operator()(V a, V b) const {
    if constexpr (is_int<V>) {
      return int_rem(a, b);
    } else if constexpr (std::is_same<V, float>::value) {
      return fmodf(a, b);
    } else {
      return fmod(a, b);
    }
  }
};

struct ModFloor {
  template <class V>
  __device__ V operator()(V a, V b) const {
    if constexpr (is_int<V>) {
      V r = int_rem(a, b);
      if constexpr (std::is_signed<V>::value) {
        if (r != 0 && ((r < 0) != (b < 0))) r = ew::wrap_add(r, b);
      }
      return r;
    } else {
      V r = ModTrunc{}(a, b);
      if (r != V(0)) {
        if ((b < V(0)) != (r < V(0))) r += b;
      } else {
        r = copysign(V(0), b);
      }
      return r;
    }
  }
};

template <class Op, class T, class Attrs>
xhal_status_t binary_entry(const xhal_kernel_context_t* ctx, const xhal_tensor_t* A,
                           const xhal_tensor_t* B, const Attrs* /*attrs: none*/,
                           xhal_tensor_t* C) noexcept {
  return guarded(Op::name, [&] {
    Call call;
    XHAL_CUDA_TRY(begin_call(Op::name, ctx, &call));
    return ew::binary<T, T, T>(call, Op{}, A, B, C);
  });
}

template <class T>
xhal_status_t mod_entry(const xhal_kernel_context_t* ctx, const xhal_tensor_t* A,
                        const xhal_tensor_t* B, const xhal_mod_v1_attrs_t* attrs,
                        xhal_tensor_t* C) noexcept {
  return guarded("mod", [&] {
    Call call;
    XHAL_CUDA_TRY(begin_call("mod", ctx, &call));
    const xhal_mod_v1_attrs_t a = read_attrs(attrs, xhal_mod_v1_attrs_init);
    if (a.fmod == 1) return ew::binary<T, T, T>(call, ModTrunc{}, A, B, C);
    if (a.fmod == 0) return ew::binary<T, T, T>(call, ModFloor{}, A, B, C);
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "mod: attribute fmod must be 0 or 1, got %lld",
                static_cast<long long>(a.fmod));
  });
}

constexpr uint32_t kFlags = XHAL_KERNEL_FLAG_STRIDED_INPUTS;

template <class T>
xhal_status_t register_for(const xhal_host_api_t* h, xhal_registry_t r) {
  constexpr int32_t dt = dtype_of<T>();
  XHAL_CUDA_TRY(xhal_register_add_v1(h, r, binary_entry<AddOp, T, xhal_add_v1_attrs_t>, dt,
                                     kFlags, "cuda.add"));
  XHAL_CUDA_TRY(xhal_register_sub_v1(h, r, binary_entry<SubOp, T, xhal_sub_v1_attrs_t>, dt,
                                     kFlags, "cuda.sub"));
  XHAL_CUDA_TRY(xhal_register_mul_v1(h, r, binary_entry<MulOp, T, xhal_mul_v1_attrs_t>, dt,
                                     kFlags, "cuda.mul"));
  XHAL_CUDA_TRY(xhal_register_div_v1(h, r, binary_entry<DivOp, T, xhal_div_v1_attrs_t>, dt,
                                     kFlags, "cuda.div"));
  return xhal_register_mod_v1(h, r, mod_entry<T>, dt, kFlags, "cuda.mod");
}

xhal_status_t register_binary_family(const xhal_host_api_t* h, xhal_registry_t r) {
  XHAL_CUDA_TRY(register_for<float>(h, r));
  XHAL_CUDA_TRY(register_for<double>(h, r));
  XHAL_CUDA_TRY(register_for<__half>(h, r));
  XHAL_CUDA_TRY(register_for<__nv_bfloat16>(h, r));
  XHAL_CUDA_TRY(register_for<int8_t>(h, r));
  XHAL_CUDA_TRY(register_for<uint8_t>(h, r));
  XHAL_CUDA_TRY(register_for<int32_t>(h, r));
  return register_for<int64_t>(h, r);
}

}  // namespace

XHAL_CUDA_KERNEL_FAMILY(binary, register_binary_family);

}  // namespace xhal_cuda
