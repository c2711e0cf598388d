// einsum (ONNX Einsum), float32 / float64 / float16 / bfloat16 / int8 / uint8 / int32 / int64.
//
// How (the CPU plugin's plan; the parser and the contraction plan are the SDK kit's,
// <xhal/kit/einsum_plan.h>): the equation is parsed into one label per axis (`...` expanded,
// rightmost aligned); every input is widened into a compact buffer of the compute type F (float32
// for float32/float16/bfloat16, float64, int64 for every integer type) read through its own
// strides; the operands are then contracted left to right, two at a time: labels both keep are the
// batch, labels one keeps are M (left) or N (right), labels nobody needs later are K (an operand
// without a K label reads it with stride 0, which sums it over the other side). Repeated labels
// within a term read the diagonal (their strides add up); size-1 ellipsis axes broadcast (stride
// 0). Each side is gathered on the device (a strided converting copy) into a compact [batch, M, K]
// / [batch, K, N] panel and multiplied by gemm_batched (cuBLAS for floats, the exact wrapping
// integer kernel for int64); the last result is gathered into the output's label order and rounded
// / wrapped to T once. A single operand is contracted with a scalar one.
//
// Not done: strided views that need more than 8 dimensions after merging are refused
// (UNSUPPORTED); integer contractions with more than 65535 batch entries are refused by gemm.
#include <algorithm>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include <xhal/kit/einsum_plan.h>

#include "gemm.h"
#include "movement_common.cuh"
#include "registry.h"

namespace xhal_cuda {
namespace {

constexpr const char* kOp = "einsum";
namespace kit = xhal::kit;

template <class T>
using compute_t = std::conditional_t<
    std::is_integral<T>::value, int64_t,
    std::conditional_t<std::is_same<T, double>::value, double, float>>;

// An operand on the device: unique labels, the element stride of each, and its data (compact
// F), owned when it is a widened input or an intermediate result.
template <class F>
struct Operand : kit::EinsumOperand {
  const F* data = nullptr;
  std::shared_ptr<Scratch> owned;
};

// dst (compact, labels in `order`) = src read with the strides of each label.
template <class S, class D>
xhal_status_t gather(const Call& call, const S* src, const std::vector<int>& order,
                     const std::vector<int64_t>& size, const std::vector<int64_t>& stride_of,
                     D* dst) {
  if (order.size() > static_cast<size_t>(kMaxRank))
    return fail(XHAL_ERROR_UNSUPPORTED, "einsum: %zu labels in one operand (max %d)",
                order.size(), kMaxRank);
  Shape s;
  int64_t st[kMaxRank];
  for (size_t i = 0; i < order.size(); ++i) {
    s.push_back(size[order[i]]);
    st[i] = stride_of[order[i]];
  }
  return mv::convert_strided<S, D>(call, s, src, st, dst);
}

template <class F>
xhal_status_t contract(const Call& call, const Operand<F>& a, const Operand<F>& b,
                       const std::vector<char>& keep, const std::vector<int64_t>& size,
                       Operand<F>* out) {
  const kit::EinsumContraction plan = kit::plan_einsum_contraction(a, b, keep, size);
  const int64_t B = plan.batch, M = plan.m, N = plan.n, K = plan.k;
  Scratch pa, pb;
  XHAL_CUDA_TRY(pa.alloc(call, sizeof(F) * static_cast<uint64_t>(B * M * K)));
  XHAL_CUDA_TRY(pb.alloc(call, sizeof(F) * static_cast<uint64_t>(B * K * N)));
  if (B * M * K > 0)
    XHAL_CUDA_TRY(
        (gather<F, F>(call, a.data, plan.a_order, size, plan.a_strides, pa.as<F>())));
  if (B * K * N > 0)
    XHAL_CUDA_TRY(
        (gather<F, F>(call, b.data, plan.b_order, size, plan.b_strides, pb.as<F>())));
  out->owned = std::make_shared<Scratch>();
  XHAL_CUDA_TRY(
      out->owned->alloc(call, sizeof(F) * static_cast<uint64_t>(std::max<int64_t>(B * M * N, 1))));
  if (B * M * N > 0)
    XHAL_CUDA_TRY(gemm_batched(call, dtype_of<F>(), false, false, M, N, K, 1.0, pa.get(), K,
                               M * K, pb.get(), N, K * N, 0.0, out->owned->get(), N, M * N, B));
  out->data = out->owned->template as<F>();
  static_cast<kit::EinsumOperand&>(*out) = plan.c;
  return XHAL_OK;
}

template <class T>
xhal_status_t einsum_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* const* Inputs,
                            int32_t Inputs_count, const xhal_einsum_v1_attrs_t* given,
                            xhal_tensor_t* Output) noexcept {
  return guarded(kOp, [&] {
    using F = compute_t<T>;
    constexpr int32_t dt = dtype_of<T>();
    Call call;
    XHAL_CUDA_TRY(begin_call(kOp, ctx, &call));
    if (Inputs == nullptr || Inputs_count < 1)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "einsum: needs at least one input (got %d)",
                  static_cast<int>(Inputs_count));
    std::vector<Shape> dims;
    std::vector<std::vector<int64_t>> shapes;
    for (int32_t i = 0; i < Inputs_count; ++i) {
      XHAL_CUDA_TRY(check_tensor(call, "input Inputs", Inputs[i], dt));
      dims.push_back(shape_of(Inputs[i]));
      shapes.emplace_back(dims.back().d, dims.back().d + dims.back().rank);
    }
    XHAL_CUDA_TRY(check_tensor(call, "output Output", Output, dt));
    const auto at = read_attrs(given, xhal_einsum_v1_attrs_init);
    const char* equation = at.equation != nullptr ? at.equation : "";
    kit::EinsumEquation p;
    std::vector<int64_t> size;
    std::string err;
    if (!kit::plan_einsum(equation, shapes, &p, &size, &err))
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "einsum: equation '%s': %s", equation,
                  err.c_str());
    Shape expect;
    for (int64_t d : kit::einsum_output_shape(p, size)) {
      if (expect.rank >= kMaxRank)
        return fail(XHAL_ERROR_UNSUPPORTED, "einsum: output rank exceeds %d", kMaxRank);
      expect.push_back(d);
    }
    XHAL_CUDA_TRY(check_shape(call, "output Output", Output, expect));
    if (expect.numel() == 0) return XHAL_OK;
    // Operands widened to compact F, with their label strides.
    std::vector<Operand<F>> ops(static_cast<size_t>(Inputs_count));
    for (int32_t i = 0; i < Inputs_count; ++i) {
      const int64_t cnt = dims[i].numel();
      ops[i].owned = std::make_shared<Scratch>();
      XHAL_CUDA_TRY(ops[i].owned->alloc(
          call, sizeof(F) * static_cast<uint64_t>(std::max<int64_t>(cnt, 1))));
      int64_t xs[kMaxRank];
      strides_of(Inputs[i], xs);
      XHAL_CUDA_TRY((mv::convert_strided<T, F>(call, dims[i], data_as<const T>(Inputs[i]), xs,
                                               ops[i].owned->template as<F>())));
      ops[i].data = ops[i].owned->template as<F>();
      static_cast<kit::EinsumOperand&>(ops[i]) = kit::einsum_operand(p.terms[i], shapes[i]);
    }
    Operand<F> cur = ops[0];
    if (Inputs_count == 1) {
      Operand<F> one;
      one.owned = std::make_shared<Scratch>();
      XHAL_CUDA_TRY(one.owned->alloc(call, sizeof(F)));
      XHAL_CUDA_TRY(mv::fill<F>(call, one.owned->template as<F>(), 1, F(1)));
      one.data = one.owned->template as<F>();
      Operand<F> next;
      XHAL_CUDA_TRY(contract(call, cur, one, kit::einsum_keep(p, 0), size, &next));
      cur = next;
    }
    for (int32_t i = 1; i < Inputs_count; ++i) {
      Operand<F> next;
      XHAL_CUDA_TRY(
          contract(call, cur, ops[i], kit::einsum_keep(p, static_cast<size_t>(i)), size, &next));
      cur = next;
      ops[i].owned.reset();  // stream-ordered free
    }
    return gather<F, T>(call, cur.data, p.out, size, kit::einsum_stride_table(cur),
                        data_as<T>(Output));
  });
}

xhal_status_t register_einsum_family(const xhal_host_api_t* h, xhal_registry_t r) {
  const char* name = "cuda.einsum";
  constexpr uint32_t f = XHAL_KERNEL_FLAG_STRIDED_INPUTS;
  XHAL_CUDA_TRY(xhal_register_einsum_v1(h, r, einsum_kernel<float>, XHAL_DTYPE_FLOAT32, f, name));
  XHAL_CUDA_TRY(xhal_register_einsum_v1(h, r, einsum_kernel<double>, XHAL_DTYPE_FLOAT64, f, name));
  XHAL_CUDA_TRY(xhal_register_einsum_v1(h, r, einsum_kernel<__half>, XHAL_DTYPE_FLOAT16, f, name));
  XHAL_CUDA_TRY(
      xhal_register_einsum_v1(h, r, einsum_kernel<__nv_bfloat16>, XHAL_DTYPE_BFLOAT16, f, name));
  XHAL_CUDA_TRY(xhal_register_einsum_v1(h, r, einsum_kernel<int8_t>, XHAL_DTYPE_INT8, f, name));
  XHAL_CUDA_TRY(xhal_register_einsum_v1(h, r, einsum_kernel<uint8_t>, XHAL_DTYPE_UINT8, f, name));
  XHAL_CUDA_TRY(xhal_register_einsum_v1(h, r, einsum_kernel<int32_t>, XHAL_DTYPE_INT32, f, name));
  return xhal_register_einsum_v1(h, r, einsum_kernel<int64_t>, XHAL_DTYPE_INT64, f, name);
}

}  // namespace

XHAL_CUDA_KERNEL_FAMILY(einsum, register_einsum_family);

}  // namespace xhal_cuda
