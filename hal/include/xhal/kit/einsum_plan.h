// xhal plugin kit: ONNX Einsum's equation and a pairwise contraction plan. The equation is parsed
// into one integer label per axis (letters a-z, A-Z; `...` expanded to ellipsis labels, rightmost
// aligned; the implicit output is the ellipsis then the letters used once, in ASCII order). The
// operands are then contracted left to right, two at a time, as batched GEMMs: the labels both
// operands share and something later keeps are the batch, those only one side has are M (left)
// or N (right), and the labels nobody needs later are K. Repeated labels within a term read the
// diagonal (their strides add up); size-1 axes broadcast (stride 0). A single operand is
// contracted with a scalar one. The gathers and GEMMs are the plugin's.
//
// Header-only C++17 source API, not part of the C ABI (docs/decisions.md, D22). Functions
// report errors as false plus a message in *error.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace xhal {
namespace kit {

constexpr int kEinsumLetters = 52;  // a-z are labels 0..25, A-Z 26..51
// Every label fits below this: the ellipsis axes are kEinsumLetters + j.
constexpr int kEinsumMaxLabels = kEinsumLetters + 64;

struct EinsumEquation {
  std::vector<std::vector<int>> terms;  // per input, one label per axis
  std::vector<int> out;                 // the output's labels, one per axis
};

// An operand of a contraction: its unique labels and the element stride of each.
struct EinsumOperand {
  std::vector<int> labels;
  std::vector<int64_t> strides;
};

namespace detail {

inline int einsum_letter(char c) {
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= 'A' && c <= 'Z') return 26 + (c - 'A');
  return -1;
}

// Splits a term into labels; `...` becomes the ellipsis labels for `rank` axes, written as
// j - e (negative) until the equation's ellipsis rank is known.
inline bool einsum_expand_term(const std::string& term, int rank, int* ell_rank, bool is_output,
                               std::vector<int>* labels, std::string* error) {
  const size_t dots = term.find("...");
  std::string letters = term;
  if (dots != std::string::npos) letters.erase(dots, 3);
  for (char c : letters)
    if (einsum_letter(c) < 0) {
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
      // rightmost aligned: an input with e ellipsis axes uses the last e of them
      for (int j = 0; j < e; ++j) labels->push_back(j - e);
      i += 3;
    } else {
      labels->push_back(einsum_letter(term[i]));
      ++i;
    }
  }
  return true;
}

// A '.' outside one `...`.
inline bool einsum_bad_dots(const std::string& term) {
  const size_t d = term.find("...");
  const std::string rest = d == std::string::npos ? term : term.substr(0, d) + term.substr(d + 3);
  return rest.find('.') != std::string::npos;
}

}  // namespace detail

// Parses `equation` (spaces ignored) for inputs of the given ranks.
inline bool parse_einsum(const char* equation, const std::vector<int>& ranks, EinsumEquation* p,
                         std::string* error) {
  *p = EinsumEquation();
  std::string eq;
  for (const char* c = equation; c != nullptr && *c; ++c)
    if (*c != ' ') eq += *c;
  const size_t arrow = eq.find("->");
  if (arrow != std::string::npos && eq.find("->", arrow + 1) != std::string::npos) {
    *error = "the equation has more than one '->'";
    return false;
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
    *error = "the equation has " + std::to_string(terms.size()) + " input terms but " +
             std::to_string(ranks.size()) + " inputs were given";
    return false;
  }
  for (const std::string& t : terms)
    if (detail::einsum_bad_dots(t)) {
      *error = "term '" + t + "' has a malformed ellipsis";
      return false;
    }
  int ell = 0;
  p->terms.resize(terms.size());
  for (size_t i = 0; i < terms.size(); ++i)
    if (!detail::einsum_expand_term(terms[i], ranks[i], &ell, false, &p->terms[i], error))
      return false;
  // Ellipsis labels were written as j - e; shift them to kEinsumLetters + (ell - e) + j.
  for (auto& t : p->terms)
    for (int& l : t)
      if (l < 0) l += kEinsumLetters + ell;
  if (arrow == std::string::npos) {
    for (int j = 0; j < ell; ++j) p->out.push_back(kEinsumLetters + j);
    std::vector<int> count(kEinsumLetters, 0);
    for (const auto& t : p->terms)
      for (int l : t)
        if (l < kEinsumLetters) ++count[l];
    // ASCII order: upper case (labels 26..51) before lower case (0..25).
    for (int l = 26; l < kEinsumLetters; ++l)
      if (count[l] == 1) p->out.push_back(l);
    for (int l = 0; l < 26; ++l)
      if (count[l] == 1) p->out.push_back(l);
    return true;
  }
  const std::string rhs = eq.substr(arrow + 2);
  if (detail::einsum_bad_dots(rhs)) {
    *error = "the output term '" + rhs + "' has a malformed ellipsis";
    return false;
  }
  if (rhs.find("...") == std::string::npos && ell > 0) {
    *error = "the output term '" + rhs + "' lacks the '...' the inputs use";
    return false;
  }
  if (!detail::einsum_expand_term(rhs, 0, &ell, true, &p->out, error)) return false;
  for (int& l : p->out)
    if (l < 0) l += kEinsumLetters + ell;
  std::vector<int> seen(kEinsumMaxLabels, 0);
  for (int l : p->out) {
    if (seen[l]++) {
      *error = "the output term '" + rhs + "' repeats a letter";
      return false;
    }
    bool found = false;
    for (const auto& t : p->terms) found = found || std::find(t.begin(), t.end(), l) != t.end();
    if (!found) {
      *error = "an output letter of '" + rhs + "' appears in no input term";
      return false;
    }
  }
  return true;
}

// The size of every label (kEinsumMaxLabels entries, 1 for unused labels) from the inputs'
// shapes. A letter must have one size everywhere; an ellipsis axis of size 1 broadcasts.
inline bool einsum_label_sizes(const EinsumEquation& p,
                               const std::vector<std::vector<int64_t>>& dims,
                               std::vector<int64_t>* size, std::string* error) {
  size->assign(kEinsumMaxLabels, -1);
  for (size_t t = 0; t < p.terms.size(); ++t)
    for (size_t i = 0; i < p.terms[t].size(); ++i) {
      const int l = p.terms[t][i];
      const int64_t d = dims[t][i];
      const bool ell = l >= kEinsumLetters;
      int64_t& s = (*size)[static_cast<size_t>(l)];
      if (s < 0 || (ell && s == 1)) {
        s = d;
      } else if (s != d && !(ell && d == 1)) {
        std::string shape = "[";
        for (size_t j = 0; j < dims[t].size(); ++j)
          shape += (j ? ", " : "") + std::to_string(dims[t][j]);
        *error = "an axis has size " + std::to_string(s) + " and, in input " + std::to_string(t) +
                 " " + shape + "], size " + std::to_string(d);
        return false;
      }
    }
  for (int64_t& s : *size)
    if (s < 0) s = 1;
  return true;
}

// parse_einsum() then einsum_label_sizes(), for inputs of the given shapes.
inline bool plan_einsum(const char* equation, const std::vector<std::vector<int64_t>>& shapes,
                        EinsumEquation* p, std::vector<int64_t>* size, std::string* error) {
  std::vector<int> ranks;
  for (const auto& s : shapes) ranks.push_back(static_cast<int>(s.size()));
  return parse_einsum(equation, ranks, p, error) && einsum_label_sizes(*p, shapes, size, error);
}

// The output's shape.
inline std::vector<int64_t> einsum_output_shape(const EinsumEquation& p,
                                                const std::vector<int64_t>& size) {
  std::vector<int64_t> shape;
  for (int l : p.out) shape.push_back(size[static_cast<size_t>(l)]);
  return shape;
}

// Input `term`'s operand for a compact row-major tensor of shape `dims`: repeated labels add
// their strides (the diagonal); size-1 axes read stride 0 (they broadcast).
inline EinsumOperand einsum_operand(const std::vector<int>& term,
                                    const std::vector<int64_t>& dims) {
  EinsumOperand op;
  int64_t st = 1;
  std::vector<int64_t> axis_stride(dims.size());
  for (size_t ax = dims.size(); ax-- > 0;) {
    axis_stride[ax] = st;
    st *= dims[ax];
  }
  for (size_t ax = 0; ax < dims.size(); ++ax) {
    const int l = term[ax];
    const int64_t s = dims[ax] == 1 ? 0 : axis_stride[ax];
    auto it = std::find(op.labels.begin(), op.labels.end(), l);
    if (it == op.labels.end()) {
      op.labels.push_back(l);
      op.strides.push_back(s);
    } else {
      op.strides[static_cast<size_t>(it - op.labels.begin())] += s;
    }
  }
  return op;
}

// The labels to keep when the running result is contracted with input `next` (0 for a single
// input, contracted with a scalar): the output's and those of the inputs after `next`.
inline std::vector<char> einsum_keep(const EinsumEquation& p, size_t next) {
  std::vector<char> keep(kEinsumMaxLabels, 0);
  for (int l : p.out) keep[static_cast<size_t>(l)] = 1;
  for (size_t j = next + 1; j < p.terms.size(); ++j)
    for (int l : p.terms[j]) keep[static_cast<size_t>(l)] = 1;
  return keep;
}

// A stride per label (kEinsumMaxLabels entries, 0 where the operand lacks the label).
inline std::vector<int64_t> einsum_stride_table(const EinsumOperand& op) {
  std::vector<int64_t> st(kEinsumMaxLabels, 0);
  for (size_t i = 0; i < op.labels.size(); ++i)
    st[static_cast<size_t>(op.labels[i])] = op.strides[i];
  return st;
}

// One step: c[batch, M, N] = a[batch, M, K] x b[batch, K, N]. The plugin gathers a and b (read
// with a_strides / b_strides, per label) into compact panels in a_order / b_order, multiplies,
// and holds the compact result as operand c (size-1 axes have stride 0).
struct EinsumContraction {
  int64_t batch = 1, m = 1, n = 1, k = 1;
  std::vector<int> a_order, b_order;
  std::vector<int64_t> a_strides, b_strides;  // per label, see einsum_stride_table()
  EinsumOperand c;
};

inline EinsumContraction plan_einsum_contraction(const EinsumOperand& a, const EinsumOperand& b,
                                                 const std::vector<char>& keep,
                                                 const std::vector<int64_t>& size) {
  EinsumContraction plan;
  plan.a_strides = einsum_stride_table(a);
  plan.b_strides = einsum_stride_table(b);
  std::vector<char> in_a(kEinsumMaxLabels, 0), in_b(kEinsumMaxLabels, 0);
  for (int l : a.labels) in_a[static_cast<size_t>(l)] = 1;
  for (int l : b.labels) in_b[static_cast<size_t>(l)] = 1;
  std::vector<int> batch, m, n, k;
  for (size_t l = 0; l < static_cast<size_t>(kEinsumMaxLabels); ++l) {
    if (!in_a[l] && !in_b[l]) continue;
    // A K label only one side has is summed: the other side reads it with stride 0.
    if (!keep[l])
      k.push_back(static_cast<int>(l));
    else if (in_a[l] && in_b[l])
      batch.push_back(static_cast<int>(l));
    else if (in_a[l])
      m.push_back(static_cast<int>(l));
    else
      n.push_back(static_cast<int>(l));
  }
  auto prod = [&](const std::vector<int>& ls) {
    int64_t p = 1;
    for (int l : ls) p *= size[static_cast<size_t>(l)];
    return p;
  };
  plan.batch = prod(batch);
  plan.m = prod(m);
  plan.n = prod(n);
  plan.k = prod(k);
  plan.a_order = batch;
  plan.a_order.insert(plan.a_order.end(), m.begin(), m.end());
  plan.a_order.insert(plan.a_order.end(), k.begin(), k.end());
  plan.b_order = batch;
  plan.b_order.insert(plan.b_order.end(), k.begin(), k.end());
  plan.b_order.insert(plan.b_order.end(), n.begin(), n.end());
  std::vector<int>& oc = plan.c.labels;
  oc = batch;
  oc.insert(oc.end(), m.begin(), m.end());
  oc.insert(oc.end(), n.begin(), n.end());
  plan.c.strides.assign(oc.size(), 0);
  int64_t st = 1;
  for (size_t i = oc.size(); i-- > 0;) {
    const int64_t s = size[static_cast<size_t>(oc[i])];
    plan.c.strides[i] = s == 1 ? 0 : st;
    st *= s;
  }
  return plan;
}

}  // namespace kit
}  // namespace xhal
