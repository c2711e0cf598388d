// einsum (ONNX Einsum), float32 / float64 / float16 / bfloat16 / int8 / uint8 / int32 / int64.
//
// How (the CPU plugin's plan, plugins/cpu/kernels/einsum.cpp, with the same parser): the
// equation is parsed into one label per axis (`...` expanded, rightmost aligned); every input is
// widened into a compact buffer of the compute type F (float32 for float32/float16/bfloat16,
// float64, int64 for every integer type) read through its own strides; the operands are then
// contracted left to right, two at a time: labels both keep are the batch, labels one keeps are
// M (left) or N (right), labels nobody needs later are K (an operand without a K label reads it
// with stride 0, which sums it over the other side). Repeated labels within a term read the
// diagonal (their strides add up); size-1 ellipsis axes broadcast (stride 0). Each side is
// gathered on the device (a strided converting copy) into a compact [batch, M, K] /
// [batch, K, N] panel and multiplied by gemm_batched (cuBLAS for floats, the exact wrapping
// integer kernel for int64); the last result is gathered into the output's label order and
// rounded / wrapped to T once. A single operand is contracted with a scalar one.
//
// Not done: strided views that need more than 8 dimensions after merging are refused
// (UNSUPPORTED); integer contractions with more than 65535 batch entries are refused by gemm.
#include <algorithm>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "gemm.h"
#include "movement_common.cuh"
#include "registry.h"

namespace xhal_cuda {
namespace {

constexpr const char* kOp = "einsum";
constexpr int kLetters = 52;  // a-z, A-Z; ellipsis axes are kLetters + j

int letter_label(char c) {
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= 'A' && c <= 'Z') return 26 + (c - 'A');
  return -1;
}

struct Parsed {
  std::vector<std::vector<int>> terms;  // per input, one label per axis
  std::vector<int> out;
  std::string error;
};

// Splits a term into labels; `...` becomes the ellipsis labels for `rank` axes.
bool expand_term(const std::string& term, int rank, int* ell_rank, bool is_output,
                 std::vector<int>* labels, std::string* error) {
  const size_t dots = term.find("...");
  std::string letters = term;
  if (dots != std::string::npos) letters.erase(dots, 3);
  for (char c : letters)
    if (letter_label(c) < 0) {
      *error = "term '" + term + "' has '" + std::string(1, c) +
               "'; only letters and one '...' are allowed";
      return false;
    }
  const int nl = static_cast<int>(letters.size());
  int e = 0;
  if (dots != std::string::npos) {
    e = is_output ? *ell_rank : rank - nl;
    if (e < 0) {
      *error = "term '" + term + "' has more letters than its input's rank " + std::to_string(rank);
      return false;
    }
    if (!is_output) *ell_rank = std::max(*ell_rank, e);
  } else if (!is_output && nl != rank) {
    *error = "term '" + term + "' has " + std::to_string(nl) + " letters but its input has rank " +
             std::to_string(rank);
    return false;
  }
  labels->clear();
  for (size_t i = 0; i < term.size();) {
    if (dots != std::string::npos && i == dots) {
      // rightmost aligned: an input with e ellipsis axes uses the last e of them; the output
      // and the inputs are fixed up once the ellipsis rank is known (see parse()).
      for (int j = 0; j < e; ++j) labels->push_back(j - e);  // negative: fixed up in parse()
      i += 3;
    } else {
      labels->push_back(letter_label(term[i]));
      ++i;
    }
  }
  return true;
}

Parsed parse(const char* equation, const std::vector<int>& ranks) {
  Parsed p;
  std::string eq;
  for (const char* c = equation; c != nullptr && *c; ++c)
    if (*c != ' ') eq += *c;
  const size_t arrow = eq.find("->");
  if (arrow != std::string::npos && eq.find("->", arrow + 1) != std::string::npos) {
    p.error = "the equation has more than one '->'";
    return p;
  }
  const std::string lhs = eq.substr(0, arrow);
  std::vector<std::string> terms;
  size_t start = 0;
  while (true) {
    const size_t comma = lhs.find(',', start);
    const size_t len = comma == std::string::npos ? std::string::npos : comma - start;
    terms.push_back(lhs.substr(start, len));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (terms.size() != ranks.size()) {
    p.error = "the equation has " + std::to_string(terms.size()) + " input terms but " +
              std::to_string(ranks.size()) + " inputs were given";
    return p;
  }
  for (const std::string& t : terms) {
    const size_t d = t.find("...");
    const std::string rest = d == std::string::npos ? t : t.substr(0, d) + t.substr(d + 3);
    if (rest.find('.') != std::string::npos) {
      p.error = "term '" + t + "' has a malformed ellipsis";
      return p;
    }
  }
  int ell = 0;
  p.terms.resize(terms.size());
  for (size_t i = 0; i < terms.size(); ++i)
    if (!expand_term(terms[i], ranks[i], &ell, false, &p.terms[i], &p.error)) return p;
  // Ellipsis labels were written as j - e (negative); shift to kLetters + (ell - e) + j.
  for (auto& t : p.terms)
    for (int& l : t)
      if (l < 0) l += kLetters + ell;
  if (arrow != std::string::npos) {
    const std::string rhs = eq.substr(arrow + 2);
    const size_t d = rhs.find("...");
    const std::string rest = d == std::string::npos ? rhs : rhs.substr(0, d) + rhs.substr(d + 3);
    if (rest.find('.') != std::string::npos) {
      p.error = "the output term '" + rhs + "' has a malformed ellipsis";
      return p;
    }
    if (d == std::string::npos && ell > 0) {
      p.error = "the output term '" + rhs + "' lacks the '...' the inputs use";
      return p;
    }
    if (!expand_term(rhs, 0, &ell, true, &p.out, &p.error)) return p;
    for (int& l : p.out)
      if (l < 0) l += kLetters + ell;
    std::vector<int> seen(kLetters + 64, 0);
    for (int l : p.out) {
      if (seen[l]++) {
        p.error = "the output term '" + rhs + "' repeats a letter";
        return p;
      }
      bool found = false;
      for (const auto& t : p.terms) found = found || std::find(t.begin(), t.end(), l) != t.end();
      if (!found) {
        p.error = "an output letter of '" + rhs + "' appears in no input term";
        return p;
      }
    }
  } else {
    for (int j = 0; j < ell; ++j) p.out.push_back(kLetters + j);
    std::vector<int> count(kLetters, 0);
    for (const auto& t : p.terms)
      for (int l : t)
        if (l < kLetters) ++count[l];
    // ASCII order: upper case (labels 26..51) before lower case (0..25).
    for (int l = 26; l < kLetters; ++l)
      if (count[l] == 1) p.out.push_back(l);
    for (int l = 0; l < 26; ++l)
      if (count[l] == 1) p.out.push_back(l);
  }
  return p;
}


template <class T>
using compute_t = std::conditional_t<
    std::is_integral<T>::value, int64_t,
    std::conditional_t<std::is_same<T, double>::value, double, float>>;

// An operand on the device: unique labels, the element stride of each, and its data (compact
// F), owned when it is a widened input or an intermediate result.
template <class F>
struct Operand {
  std::vector<int> labels;
  std::vector<int64_t> strides;
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
  const int nl = static_cast<int>(size.size());
  std::vector<int64_t> sa(static_cast<size_t>(nl), 0), sb(static_cast<size_t>(nl), 0);
  std::vector<char> in_a(static_cast<size_t>(nl), 0), in_b(static_cast<size_t>(nl), 0);
  for (size_t i = 0; i < a.labels.size(); ++i) {
    sa[a.labels[i]] = a.strides[i];
    in_a[a.labels[i]] = 1;
  }
  for (size_t i = 0; i < b.labels.size(); ++i) {
    sb[b.labels[i]] = b.strides[i];
    in_b[b.labels[i]] = 1;
  }
  std::vector<int> batch, m, n, k;
  for (int l = 0; l < nl; ++l) {
    if (!in_a[l] && !in_b[l]) continue;
    if (!keep[l])
      k.push_back(l);
    else if (in_a[l] && in_b[l])
      batch.push_back(l);
    else if (in_a[l])
      m.push_back(l);
    else
      n.push_back(l);
  }
  auto prod = [&](const std::vector<int>& ls) {
    int64_t p = 1;
    for (int l : ls) p *= size[l];
    return p;
  };
  const int64_t B = prod(batch), M = prod(m), N = prod(n), K = prod(k);
  std::vector<int> oa = batch, ob = batch, oc = batch;
  oa.insert(oa.end(), m.begin(), m.end());
  oa.insert(oa.end(), k.begin(), k.end());
  ob.insert(ob.end(), k.begin(), k.end());
  ob.insert(ob.end(), n.begin(), n.end());
  oc.insert(oc.end(), m.begin(), m.end());
  oc.insert(oc.end(), n.begin(), n.end());
  Scratch pa, pb;
  XHAL_CUDA_TRY(pa.alloc(call, sizeof(F) * static_cast<uint64_t>(B * M * K)));
  XHAL_CUDA_TRY(pb.alloc(call, sizeof(F) * static_cast<uint64_t>(B * K * N)));
  if (B * M * K > 0) XHAL_CUDA_TRY((gather<F, F>(call, a.data, oa, size, sa, pa.as<F>())));
  if (B * K * N > 0) XHAL_CUDA_TRY((gather<F, F>(call, b.data, ob, size, sb, pb.as<F>())));
  out->owned = std::make_shared<Scratch>();
  XHAL_CUDA_TRY(
      out->owned->alloc(call, sizeof(F) * static_cast<uint64_t>(std::max<int64_t>(B * M * N, 1))));
  if (B * M * N > 0)
    XHAL_CUDA_TRY(gemm_batched(call, dtype_of<F>(), false, false, M, N, K, 1.0, pa.get(), K,
                               M * K, pb.get(), N, K * N, 0.0, out->owned->get(), N, M * N, B));
  out->data = out->owned->template as<F>();
  out->labels = oc;
  out->strides.assign(oc.size(), 0);
  int64_t st = 1;
  for (int i = static_cast<int>(oc.size()) - 1; i >= 0; --i) {
    out->strides[i] = size[oc[i]] == 1 ? 0 : st;
    st *= size[oc[i]];
  }
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
    std::vector<int> ranks;
    for (int32_t i = 0; i < Inputs_count; ++i) {
      XHAL_CUDA_TRY(check_tensor(call, "input Inputs", Inputs[i], dt));
      dims.push_back(shape_of(Inputs[i]));
      ranks.push_back(dims.back().rank);
    }
    XHAL_CUDA_TRY(check_tensor(call, "output Output", Output, dt));
    const auto at = mv::read_attrs(given, xhal_einsum_v1_attrs_init);
    const char* equation = at.equation != nullptr ? at.equation : "";
    const Parsed p = parse(equation, ranks);
    if (!p.error.empty())
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "einsum: equation '%s': %s", equation,
                  p.error.c_str());
    const int nl = kLetters + 64;
    std::vector<int64_t> size(static_cast<size_t>(nl), -1);
    for (size_t t = 0; t < p.terms.size(); ++t)
      for (size_t i = 0; i < p.terms[t].size(); ++i) {
        const int l = p.terms[t][i];
        const int64_t d = dims[t][static_cast<int>(i)];
        const bool ell = l >= kLetters;
        if (size[l] < 0 || (ell && size[l] == 1))
          size[l] = d;
        else if (size[l] != d && !(ell && d == 1))
          return fail(XHAL_ERROR_INVALID_ARGUMENT,
                      "einsum: equation '%s': an axis has size %lld and, in input %zu %s, "
                      "size %lld",
                      equation, static_cast<long long>(size[l]), t, to_string(dims[t]).c_str(),
                      static_cast<long long>(d));
      }
    Shape expect;
    for (int l : p.out) {
      if (expect.rank >= kMaxRank)
        return fail(XHAL_ERROR_UNSUPPORTED, "einsum: output rank exceeds %d", kMaxRank);
      expect.push_back(size[l]);
    }
    XHAL_CUDA_TRY(check_shape(call, "output Output", Output, expect));
    for (int64_t& s : size)
      if (s < 0) s = 1;
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
      int64_t st = 1;
      std::vector<int64_t> axis_stride(static_cast<size_t>(dims[i].rank));
      for (int ax = dims[i].rank - 1; ax >= 0; --ax) {
        axis_stride[ax] = st;
        st *= dims[i][ax];
      }
      for (int ax = 0; ax < dims[i].rank; ++ax) {
        const int l = p.terms[i][ax];
        const int64_t s = dims[i][ax] == 1 ? 0 : axis_stride[ax];
        auto it = std::find(ops[i].labels.begin(), ops[i].labels.end(), l);
        if (it == ops[i].labels.end()) {
          ops[i].labels.push_back(l);
          ops[i].strides.push_back(s);
        } else {
          ops[i].strides[it - ops[i].labels.begin()] += s;
        }
      }
    }
    std::vector<char> keep(static_cast<size_t>(nl), 0);
    Operand<F> cur = ops[0];
    if (Inputs_count == 1) {
      Operand<F> one;
      one.owned = std::make_shared<Scratch>();
      XHAL_CUDA_TRY(one.owned->alloc(call, sizeof(F)));
      XHAL_CUDA_TRY(mv::fill<F>(call, one.owned->template as<F>(), 1, F(1)));
      one.data = one.owned->template as<F>();
      for (int l : p.out) keep[l] = 1;
      Operand<F> next;
      XHAL_CUDA_TRY(contract(call, cur, one, keep, size, &next));
      cur = next;
    }
    for (int32_t i = 1; i < Inputs_count; ++i) {
      std::fill(keep.begin(), keep.end(), 0);
      for (int l : p.out) keep[l] = 1;
      for (int32_t j = i + 1; j < Inputs_count; ++j)
        for (int l : ops[j].labels) keep[l] = 1;
      Operand<F> next;
      XHAL_CUDA_TRY(contract(call, cur, ops[i], keep, size, &next));
      cur = next;
      ops[i].owned.reset();  // stream-ordered free
    }
    std::vector<int64_t> st(static_cast<size_t>(nl), 0);
    for (size_t i = 0; i < cur.labels.size(); ++i) st[cur.labels[i]] = cur.strides[i];
    return gather<F, T>(call, cur.data, p.out, size, st, data_as<T>(Output));
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
