// top_k (ONNX TopK-24): the K largest (or smallest) elements along one axis, with int64
// indices. Order: by value, ties by lower index; NaN sorts above every number. The output is
// always in sorted order (the spec pins sorted=0 to it). Each line along the axis is gathered
// as (value, index) pairs, partitioned with nth_element, and the first K sorted.
#include <algorithm>
#include <type_traits>
#include <utility>
#include <vector>

#include "common.h"
#include "kernels.h"
#include "reduce_common.h"

namespace xhal_cpu {
namespace {

using reduce_detail::to_acc;

constexpr const char* kOp = "top_k";

template <class T>
using key_t = std::conditional_t<std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>, float, T>;

// a > b in the order where NaN is above everything (NaNs equal among themselves).
template <class C>
inline bool greater(C a, C b) {
  if constexpr (std::is_floating_point_v<C>) {
    if (a != a) return b == b;
    if (b != b) return false;
  }
  return a > b;
}

template <bool kLargest, class C>
struct Before {
  bool operator()(const std::pair<C, int64_t>& a, const std::pair<C, int64_t>& b) const {
    const bool ab = kLargest ? greater(a.first, b.first) : greater(b.first, a.first);
    if (ab) return true;
    const bool ba = kLargest ? greater(b.first, a.first) : greater(a.first, b.first);
    return !ba && a.second < b.second;
  }
};

template <bool kLargest, class T>
void run(const T* x, T* vals, int64_t* idx, int64_t O, int64_t L, int64_t I, int64_t K) {
  using C = key_t<T>;
  const int64_t lines = O * I;
  parallel_for(lines, std::max<int64_t>(1, kParallelGrain / (4 * L)), [&](int64_t u0, int64_t u1) {
    std::vector<std::pair<C, int64_t>> buf(static_cast<size_t>(L));
    const Before<kLargest, C> before;
    for (int64_t u = u0; u < u1; ++u) {
      const int64_t o = u / I, i = u % I;
      const T* line = x + o * L * I + i;
      for (int64_t l = 0; l < L; ++l) buf[static_cast<size_t>(l)] = {to_acc<C>(line[l * I]), l};
      if (K < L) std::nth_element(buf.begin(), buf.begin() + K, buf.end(), before);
      std::sort(buf.begin(), buf.begin() + K, before);
      T* vo = vals + o * K * I + i;
      int64_t* io = idx + o * K * I + i;
      for (int64_t k = 0; k < K; ++k) {
        const int64_t src = buf[static_cast<size_t>(k)].second;
        vo[k * I] = line[src * I];
        io[k * I] = src;
      }
    }
  });
}

template <class T>
xhal_status_t top_k_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                           const xhal_tensor_t* K_t, const xhal_top_k_v1_attrs_t* given,
                           xhal_tensor_t* Values, xhal_tensor_t* Indices) {
  return guarded(kOp, [&] {
    constexpr int32_t dt = DType<T>::id;
    XHAL_CPU_TRY(check_context(kOp, ctx));
    XHAL_CPU_TRY(check_tensor(kOp, "input X", X, dt));
    XHAL_CPU_TRY(check_tensor(kOp, "input K", K_t, XHAL_DTYPE_INT64));
    XHAL_CPU_TRY(check_tensor(kOp, "output Values", Values, dt));
    XHAL_CPU_TRY(check_tensor(kOp, "output Indices", Indices, XHAL_DTYPE_INT64));
    const xhal_top_k_v1_attrs_t at = read_attrs(given, xhal_top_k_v1_attrs_init);
    if ((at.largest != 0 && at.largest != 1) || (at.sorted != 0 && at.sorted != 1))
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "top_k: largest (%lld) and sorted (%lld) must be 0 or 1",
                  static_cast<long long>(at.largest), static_cast<long long>(at.sorted));
    const Dims dx = dims_of(X);
    const int axis = normalize_axis(at.axis, dx.rank);
    if (axis < 0)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "top_k: axis %lld is out of range for X %s",
                  static_cast<long long>(at.axis), to_string(dx).c_str());
    if (K_t->ndim != 1 || numel(K_t) != 1)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "top_k: K must be 1-D with one element, got shape %s",
                  to_string(dims_of(K_t)).c_str());
    const int64_t K = *data_as<const int64_t>(K_t);
    if (K < 0 || K > dx[axis])
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "top_k: K=%lld is out of range [0, %lld] for X %s",
                  static_cast<long long>(K), static_cast<long long>(dx[axis]), to_string(dx).c_str());
    Dims expect = dx;
    expect[axis] = K;
    if (dims_of(Values) != expect || dims_of(Indices) != expect)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "top_k: outputs have shapes %s and %s; expected %s",
                  to_string(dims_of(Values)).c_str(), to_string(dims_of(Indices)).c_str(),
                  to_string(expect).c_str());
    if (expect.numel() == 0) return XHAL_OK;
    int64_t O = 1, I = 1;
    for (int i = 0; i < axis; ++i) O *= dx[i];
    for (int i = axis + 1; i < dx.rank; ++i) I *= dx[i];
    const T* x = data_as<const T>(X);
    T* v = data_as<T>(Values);
    int64_t* ix = data_as<int64_t>(Indices);
    if (at.largest)
      run<true>(x, v, ix, O, dx[axis], I, K);
    else
      run<false>(x, v, ix, O, dx[axis], I, K);
    return XHAL_OK;
  });
}

}  // namespace

xhal_status_t register_topk_kernels(const xhal_host_api_t* h, xhal_registry_t r) {
  constexpr const char* name = "xhal.cpu.top_k";
  XHAL_CPU_TRY(xhal_register_top_k_v1(h, r, top_k_kernel<float>, XHAL_DTYPE_FLOAT32, 0, name));
  XHAL_CPU_TRY(xhal_register_top_k_v1(h, r, top_k_kernel<double>, XHAL_DTYPE_FLOAT64, 0, name));
  XHAL_CPU_TRY(xhal_register_top_k_v1(h, r, top_k_kernel<Half>, XHAL_DTYPE_FLOAT16, 0, name));
  XHAL_CPU_TRY(xhal_register_top_k_v1(h, r, top_k_kernel<BFloat16>, XHAL_DTYPE_BFLOAT16, 0, name));
  XHAL_CPU_TRY(xhal_register_top_k_v1(h, r, top_k_kernel<int8_t>, XHAL_DTYPE_INT8, 0, name));
  XHAL_CPU_TRY(xhal_register_top_k_v1(h, r, top_k_kernel<uint8_t>, XHAL_DTYPE_UINT8, 0, name));
  XHAL_CPU_TRY(xhal_register_top_k_v1(h, r, top_k_kernel<int32_t>, XHAL_DTYPE_INT32, 0, name));
  XHAL_CPU_TRY(xhal_register_top_k_v1(h, r, top_k_kernel<int64_t>, XHAL_DTYPE_INT64, 0, name));
  return XHAL_OK;
}

}  // namespace xhal_cpu
