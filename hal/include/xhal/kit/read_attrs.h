// xhal plugin kit: reading a kernel's attribute struct across header versions. Every attribute
// struct of <xhal/xhal_ops.h> starts with `size_t struct_size`; a caller built against an
// older header passes a shorter struct, a newer one a longer struct, and an op without
// attributes may pass NULL.
//
// Header-only C++17 source API, not part of the C ABI (docs/decisions.md, D22).
#pragma once

#include <cstddef>
#include <cstring>

namespace xhal {
namespace kit {

// The attributes the kernel should use: the spec defaults (`init`, the generated
// xhal_<op>_v<N>_attrs_init), overridden by every field the caller's struct has.
template <class Attrs>
Attrs read_attrs(const Attrs* given, void (*init)(Attrs*)) {
  Attrs a;
  init(&a);
  if (given != nullptr && given->struct_size > sizeof(size_t)) {
    const size_t n = given->struct_size < sizeof(Attrs) ? given->struct_size : sizeof(Attrs);
    std::memcpy(reinterpret_cast<char*>(&a) + sizeof(size_t),
                reinterpret_cast<const char*>(given) + sizeof(size_t), n - sizeof(size_t));
  }
  a.struct_size = sizeof(Attrs);
  return a;
}

}  // namespace kit
}  // namespace xhal
