// Python keyword attributes -> the typed attribute struct of one op version (generated per op
// in op_attrs.gen.cpp). Unknown names, wrong types and values outside the spec's `allowed`
// list raise ValueError/TypeError naming the op and the attribute.
#pragma once

#include <cstdint>
#include <memory>

#include <pybind11/pybind11.h>

namespace xhal::python {

class AttrBlock {
 public:
  virtual ~AttrBlock() = default;
  virtual const void* data() const = 0;
};

std::unique_ptr<AttrBlock> attrs_from_dict(uint32_t op_id, const pybind11::dict& attrs);

}  // namespace xhal::python
