// einsum (ONNX Einsum): the equation is parsed into one label per axis (`...` expanded, rightmost
// aligned), and the operands are contracted left to right, two at a time, as batched GEMMs:
// the labels both operands share and keep are the batch, those only one keeps are M (left) or
// N (right), and the labels nobody needs later are K (an operand without a K label reads it
// with stride 0, which sums it over the other side). Repeated labels within a term read the
// diagonal (their strides add up); size-1 ellipsis axes broadcast (stride 0). Each side is
// gathered into a compact [batch, M, K] / [batch, K, N] panel, multiplied by OpenBLAS (float32
// for float16/bfloat16, float64) or the wrapping int64 loop (every integer type), and the last
// result is gathered into the output's label order. A single operand is contracted with a
// scalar one.
#include <algorithm>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include <xhal/kit/einsum_plan.h>

#include "conv_common.h"
#include "gemm_core.h"
#include "kernels.h"

namespace xhal_cpu {
namespace {

using convk::BF16;
using convk::Elem;
using convk::F_of;

constexpr const char* kOp = "einsum";
namespace kit = xhal::kit;

// An operand: unique labels with their strides, and compact-or-strided data.
template <class F>
struct Operand : kit::EinsumOperand {
  const F* data = nullptr;
  std::vector<F> owned;  // an intermediate result
};

// Gathers src (strides per label of `lab`, 0 if absent) into a compact array ordered by
// `order` (sizes from `size`).
template <class F>
void gather(const F* src, const std::vector<int>& order, const std::vector<int64_t>& size,
            const std::vector<int64_t>& stride_of, F* dst) {
  const int r = static_cast<int>(order.size());
  int64_t total = 1;
  for (int l : order) total *= size[l];
  if (total == 0) return;
  if (r == 0) {
    dst[0] = src[0];
    return;
  }
  const int64_t inner_n = size[order[r - 1]], inner_s = stride_of[order[r - 1]];
  std::vector<int64_t> idx(static_cast<size_t>(r), 0);
  int64_t off = 0;
  for (int64_t o = 0; o < total; o += inner_n) {
    for (int64_t j = 0; j < inner_n; ++j) dst[o + j] = src[off + j * inner_s];
    for (int d = r - 2; d >= 0; --d) {
      const int l = order[d];
      ++idx[d];
      off += stride_of[l];
      if (idx[d] < size[l]) break;
      off -= idx[d] * stride_of[l];
      idx[d] = 0;
    }
  }
}

template <class F>
void batched_gemm(int64_t batch, int64_t M, int64_t N, int64_t K, const F* a, const F* b, F* c) {
  for (int64_t i = 0; i < batch; ++i) {
    const F* ai = a + i * M * K;
    const F* bi = b + i * K * N;
    F* ci = c + i * M * N;
    if constexpr (std::is_same_v<F, float>)
      gemm_f32(false, false, M, N, K, 1.f, ai, K, bi, N, 0.f, ci, N);
    else if constexpr (std::is_same_v<F, double>)
      gemm_f64(false, false, M, N, K, 1., ai, K, bi, N, 0., ci, N);
    else
      matmul_i64(false, false, M, N, K, ai, K, bi, N, ci, N);
  }
}

// Contracts a and b, keeping the labels in `keep` (a membership table).
template <class F>
Operand<F> contract(const Operand<F>& a, const Operand<F>& b, const std::vector<char>& keep,
                    const std::vector<int64_t>& size) {
  const kit::EinsumContraction plan = kit::plan_einsum_contraction(a, b, keep, size);
  const int64_t B = plan.batch, M = plan.m, N = plan.n, K = plan.k;
  std::vector<F> pa(static_cast<size_t>(B * M * K)), pb(static_cast<size_t>(B * K * N));
  gather(a.data, plan.a_order, size, plan.a_strides, pa.data());
  gather(b.data, plan.b_order, size, plan.b_strides, pb.data());
  Operand<F> c;
  c.owned.resize(static_cast<size_t>(std::max<int64_t>(B * M * N, 1)));
  if (B * M * N > 0) batched_gemm<F>(B, M, N, K, pa.data(), pb.data(), c.owned.data());
  c.data = c.owned.data();
  static_cast<kit::EinsumOperand&>(c) = plan.c;
  return c;
}

template <class T>
xhal_status_t einsum_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* const* Inputs,
                            int32_t Inputs_count, const xhal_einsum_v1_attrs_t* given,
                            xhal_tensor_t* Output) {
  return guarded(kOp, [&] {
    constexpr int32_t dt = Elem<T>::id;
    using F = F_of<T>;
    XHAL_CPU_TRY(check_context(kOp, ctx));
    if (Inputs == nullptr || Inputs_count < 1)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "einsum: needs at least one input (got %d)",
                  static_cast<int>(Inputs_count));
    std::vector<Dims> dims;
    std::vector<std::vector<int64_t>> shapes;
    for (int32_t i = 0; i < Inputs_count; ++i) {
      XHAL_CPU_TRY(check_tensor(kOp, "input Inputs", Inputs[i], dt));
      dims.push_back(dims_of(Inputs[i]));
      shapes.emplace_back(dims.back().d, dims.back().d + dims.back().rank);
    }
    XHAL_CPU_TRY(check_tensor(kOp, "output Output", Output, dt));
    const xhal_einsum_v1_attrs_t at = read_attrs(given, xhal_einsum_v1_attrs_init);
    const char* equation = at.equation != nullptr ? at.equation : "";
    kit::EinsumEquation p;
    std::vector<int64_t> size;
    std::string err;
    if (!kit::plan_einsum(equation, shapes, &p, &size, &err))
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "einsum: equation '%s': %s", equation,
                  err.c_str());
    Dims expect;
    for (int64_t d : kit::einsum_output_shape(p, size)) expect.push_back(d);
    const Dims dy = dims_of(Output);
    if (expect != dy)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "einsum: output has shape %s; expected %s",
                  to_string(dy).c_str(), to_string(expect).c_str());

    // Operands as F (widened copies where T is not F).
    std::vector<std::vector<F>> wide(static_cast<size_t>(Inputs_count));
    std::vector<Operand<F>> ops(static_cast<size_t>(Inputs_count));
    for (int32_t i = 0; i < Inputs_count; ++i) {
      const int64_t cnt = dims[i].numel();
      const T* src = data_as<const T>(Inputs[i]);
      if constexpr (std::is_same_v<T, F>) {
        ops[i].data = src;
      } else {
        wide[i].resize(static_cast<size_t>(std::max<int64_t>(cnt, 1)));
        convk::widen_n(src, wide[i].data(), cnt);
        ops[i].data = wide[i].data();
      }
      static_cast<kit::EinsumOperand&>(ops[i]) = kit::einsum_operand(p.terms[i], shapes[i]);
    }
    if (expect.numel() == 0) return XHAL_OK;
    Operand<F> one;
    const F unit = F(1);
    one.data = &unit;
    Operand<F> cur = std::move(ops[0]);
    if (Inputs_count == 1) cur = contract(cur, one, kit::einsum_keep(p, 0), size);
    for (int32_t i = 1; i < Inputs_count; ++i)
      cur = contract(cur, ops[i], kit::einsum_keep(p, static_cast<size_t>(i)), size);
    // cur holds exactly the output labels, in some order: gather into the output's order.
    convk::Narrowed<T> y(data_as<T>(Output), expect.numel());
    gather(cur.data, p.out, size, kit::einsum_stride_table(cur), y.get());
    y.finish();
    return XHAL_OK;
  });
}

}  // namespace

xhal_status_t register_einsum_kernels(const xhal_host_api_t* h, xhal_registry_t r) {
  const char* name = "xhal.cpu.einsum";
  XHAL_CPU_TRY(xhal_register_einsum_v1(h, r, einsum_kernel<float>, XHAL_DTYPE_FLOAT32, 0, name));
  XHAL_CPU_TRY(xhal_register_einsum_v1(h, r, einsum_kernel<double>, XHAL_DTYPE_FLOAT64, 0, name));
  XHAL_CPU_TRY(xhal_register_einsum_v1(h, r, einsum_kernel<Half>, XHAL_DTYPE_FLOAT16, 0, name));
  XHAL_CPU_TRY(xhal_register_einsum_v1(h, r, einsum_kernel<BF16>, XHAL_DTYPE_BFLOAT16, 0, name));
  XHAL_CPU_TRY(xhal_register_einsum_v1(h, r, einsum_kernel<int8_t>, XHAL_DTYPE_INT8, 0, name));
  XHAL_CPU_TRY(xhal_register_einsum_v1(h, r, einsum_kernel<uint8_t>, XHAL_DTYPE_UINT8, 0, name));
  XHAL_CPU_TRY(xhal_register_einsum_v1(h, r, einsum_kernel<int32_t>, XHAL_DTYPE_INT32, 0, name));
  XHAL_CPU_TRY(xhal_register_einsum_v1(h, r, einsum_kernel<int64_t>, XHAL_DTYPE_INT64, 0, name));
  return XHAL_OK;
}

}  // namespace xhal_cpu
