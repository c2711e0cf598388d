// The runtime's view of every op version: arity, type variables and an invoke thunk that
// calls a registered kernel through its typed signature. Filled by codegen (op_table.gen.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <xhal/xhal_ops.h>

namespace xhal {

struct OperandInfo {
  const char* name;
  int32_t type_var;     // index into the op's type variables, or -1 for a fixed dtype
  int32_t fixed_dtype;  // xhal_dtype_t when type_var == -1
  bool optional;
  bool host_memory;
  bool variadic;      // the last operand may repeat (>= min_count times)
  int32_t min_count;
};

// Inputs and outputs are flat arrays; a variadic last operand takes all remaining entries.
using InvokeFn = xhal_status_t (*)(xhal_kernel_fn_t fn, const xhal_kernel_context_t* ctx,
                                   const xhal_tensor_t* const* inputs, int32_t num_inputs,
                                   const void* attrs, xhal_tensor_t* const* outputs,
                                   int32_t num_outputs);

struct OpInfo {
  uint32_t id;
  const char* name;
  int32_t version;
  int32_t num_type_vars;
  const char* const* type_var_names;
  int32_t num_inputs;
  const OperandInfo* inputs;
  int32_t num_outputs;
  const OperandInfo* outputs;
  size_t attrs_size;                 // sizeof(xhal_<op>_v<N>_attrs_t)
  void (*attrs_init)(void* attrs);   // the spec's defaults
  InvokeFn invoke;
};

const OpInfo* find_op(uint32_t id);
const OpInfo* find_op(std::string_view name);
// All ops, in op-id order.
const OpInfo* const* all_ops(size_t* count);

}  // namespace xhal
