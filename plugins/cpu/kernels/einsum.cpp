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

#include "conv_common.h"
#include "gemm_core.h"
#include "kernels.h"

namespace xhal_cpu {
namespace {

using convk::BF16;
using convk::Elem;
using convk::F_of;

constexpr const char* kOp = "einsum";
constexpr int kLetters = 52;  // a-z, A-Z; ellipsis axes are kLetters + j

int letter_label(char c) {
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= 'A' && c <= 'Z') return 26 + (c - 'A');
  return -1;
}

// An operand: unique labels, the element stride of each, and compact-or-strided data.
template <class F>
struct Operand {
  std::vector<int> labels;
  std::vector<int64_t> strides;
  const F* data = nullptr;
  std::vector<F> owned;  // an intermediate result
};

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
  std::vector<F> pa(static_cast<size_t>(B * M * K)), pb(static_cast<size_t>(B * K * N));
  gather(a.data, oa, size, sa, pa.data());
  gather(b.data, ob, size, sb, pb.data());
  Operand<F> c;
  c.owned.resize(static_cast<size_t>(std::max<int64_t>(B * M * N, 1)));
  if (B * M * N > 0) batched_gemm<F>(B, M, N, K, pa.data(), pb.data(), c.owned.data());
  c.data = c.owned.data();
  c.labels = oc;
  c.strides.assign(oc.size(), 0);
  int64_t st = 1;
  for (int i = static_cast<int>(oc.size()) - 1; i >= 0; --i) {
    c.strides[i] = size[oc[i]] == 1 ? 0 : st;
    st *= size[oc[i]];
  }
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
    std::vector<int> ranks;
    for (int32_t i = 0; i < Inputs_count; ++i) {
      XHAL_CPU_TRY(check_tensor(kOp, "input Inputs", Inputs[i], dt));
      dims.push_back(dims_of(Inputs[i]));
      ranks.push_back(dims.back().rank);
    }
    XHAL_CPU_TRY(check_tensor(kOp, "output Output", Output, dt));
    const xhal_einsum_v1_attrs_t at = read_attrs(given, xhal_einsum_v1_attrs_init);
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
    Dims expect;
    for (int l : p.out) expect.push_back(size[l]);
    const Dims dy = dims_of(Output);
    if (expect != dy)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "einsum: output has shape %s; expected %s",
                  to_string(dy).c_str(), to_string(expect).c_str());
    for (int64_t& s : size)
      if (s < 0) s = 1;

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
      // Unique labels; repeated ones add their strides (the diagonal); size-1 axes that
      // broadcast read stride 0.
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
    if (expect.numel() == 0) return XHAL_OK;
    std::vector<char> keep(static_cast<size_t>(nl), 0);
    Operand<F> one;
    const F unit = F(1);
    one.data = &unit;
    Operand<F> cur = std::move(ops[0]);
    if (Inputs_count == 1) {
      for (int l : p.out) keep[l] = 1;
      cur = contract(cur, one, keep, size);
    }
    for (int32_t i = 1; i < Inputs_count; ++i) {
      std::fill(keep.begin(), keep.end(), 0);
      for (int l : p.out) keep[l] = 1;
      for (int32_t j = i + 1; j < Inputs_count; ++j)
        for (int l : ops[j].labels) keep[l] = 1;
      cur = contract(cur, ops[i], keep, size);
    }
    // cur holds exactly the output labels, in some order: gather into the output's order.
    std::vector<int64_t> st(static_cast<size_t>(nl), 0);
    for (size_t i = 0; i < cur.labels.size(); ++i) st[cur.labels[i]] = cur.strides[i];
    convk::Narrowed<T> y(data_as<T>(Output), expect.numel());
    gather(cur.data, p.out, size, st, y.get());
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
