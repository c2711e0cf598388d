// The dispatcher: checks a call against the op table, binds type variables, picks the kernel
// registered for (device's plugin, op, version, dtypes), makes inputs compact when the kernel
// needs it, and calls the kernel through the op's typed thunk.
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "error.h"
#include "op_table.h"
#include "runtime.h"

namespace xhal {
namespace {

std::string shape_string(const xhal_tensor_t* t) {
  std::string s = "[";
  for (int32_t i = 0; i < t->ndim; ++i) s += (i ? ", " : "") + std::to_string(t->shape[i]);
  return s + "]";
}

bool is_compact(const xhal_tensor_t* t) {
  if (!t->strides) return true;
  int64_t expected = 1;
  for (int32_t i = t->ndim - 1; i >= 0; --i) {
    if (t->shape[i] != 1 && t->strides[i] != expected) return false;
    expected *= t->shape[i];
  }
  return true;
}

int64_t element_count(const xhal_tensor_t* t) {
  int64_t n = 1;
  for (int32_t i = 0; i < t->ndim; ++i) n *= t->shape[i];
  return n;
}

// A compact row-major copy of a strided tensor that lives in host-accessible memory.
struct CompactCopy {
  std::vector<int64_t> shape;
  std::unique_ptr<char[]> data;
  xhal_tensor_t tensor;

  explicit CompactCopy(const xhal_tensor_t* src) : shape(src->shape, src->shape + src->ndim) {
    const int64_t elem = src->dtype.bits / 8, n = element_count(src);
    data.reset(new char[static_cast<size_t>(n * elem) + 1]);
    const char* base = static_cast<const char*>(src->data) + src->byte_offset;
    std::vector<int64_t> index(src->ndim, 0);
    for (int64_t k = 0; k < n; ++k) {
      int64_t offset = 0;
      for (int32_t d = 0; d < src->ndim; ++d) offset += index[d] * src->strides[d];
      std::memcpy(data.get() + k * elem, base + offset * elem, elem);
      for (int32_t d = src->ndim - 1; d >= 0; --d) {
        if (++index[d] < src->shape[d]) break;
        index[d] = 0;
      }
    }
    tensor = *src;
    tensor.data = data.get();
    tensor.byte_offset = 0;
    tensor.strides = nullptr;
    tensor.shape = shape.data();
  }
};

}  // namespace

void Runtime::launch(int32_t device_index, uint32_t op_id, int32_t op_version,
                     const xhal_tensor_t* const* inputs, int32_t num_inputs, const void* attrs,
                     xhal_tensor_t* const* outputs, int32_t num_outputs) {
  Device& dev = device(device_index);
  const OpInfo* op = find_op(op_id);
  if (!op) throw Error(XHAL_ERROR_INVALID_ARGUMENT, "unknown op id " + std::to_string(op_id));
  const std::string where = std::string(op->name) + " v" + std::to_string(op_version) + " on " +
                            dev.name();
  if (op_version != op->version)
    throw Error(XHAL_ERROR_UNSUPPORTED, std::string(op->name) + ": version " +
                                            std::to_string(op_version) +
                                            " is not in this host's op set (has v" +
                                            std::to_string(op->version) + ")");
  auto count_ok = [](const OperandInfo* infos, int32_t declared, int32_t given) {
    if (declared > 0 && infos[declared - 1].variadic)
      return given >= declared - 1 + infos[declared - 1].min_count;
    return given == declared;
  };
  auto count_text = [](const OperandInfo* infos, int32_t declared) {
    if (declared > 0 && infos[declared - 1].variadic)
      return "at least " + std::to_string(declared - 1 + infos[declared - 1].min_count);
    return std::to_string(declared);
  };
  if (!count_ok(op->inputs, op->num_inputs, num_inputs) ||
      !count_ok(op->outputs, op->num_outputs, num_outputs))
    throw Error(XHAL_ERROR_INVALID_ARGUMENT,
                where + ": expected " + count_text(op->inputs, op->num_inputs) + " inputs and " +
                    count_text(op->outputs, op->num_outputs) + " outputs, got " +
                    std::to_string(num_inputs) + " and " + std::to_string(num_outputs));
  // The spec operand behind flat position i (a variadic last operand covers the rest).
  auto input_info = [&](int32_t i) -> const OperandInfo& {
    return op->inputs[i < op->num_inputs ? i : op->num_inputs - 1];
  };
  auto output_info = [&](int32_t i) -> const OperandInfo& {
    return op->outputs[i < op->num_outputs ? i : op->num_outputs - 1];
  };

  // Bind type variables from the operands, in spec order; every operand must agree.
  std::vector<int32_t> dtypes(op->num_type_vars, XHAL_DTYPE_UNDEFINED);
  std::vector<const char*> bound_by(op->num_type_vars, nullptr);
  const bool host_accessible = dev.props.flags & XHAL_DEVICE_FLAG_HOST_ACCESSIBLE;
  auto check_operand = [&](const OperandInfo& info, const xhal_tensor_t* t, bool is_input) {
    const std::string what = std::string(is_input ? "input " : "output ") + info.name;
    if (!t) {
      if (is_input && info.optional) return;
      throw Error(XHAL_ERROR_INVALID_ARGUMENT, where + ": " + what + " is missing");
    }
    if (t->ndim < 0 || (t->ndim > 0 && !t->shape))
      throw Error(XHAL_ERROR_INVALID_ARGUMENT, where + ": " + what + " has an invalid shape");
    for (int32_t i = 0; i < t->ndim; ++i)
      if (t->shape[i] < 0)
        throw Error(XHAL_ERROR_INVALID_ARGUMENT,
                    where + ": " + what + " has a negative dimension " + shape_string(t));
    const int32_t dtype = xhal_dtype_from_dl(t->dtype);
    if (dtype == XHAL_DTYPE_UNDEFINED)
      throw Error(XHAL_ERROR_INVALID_ARGUMENT, where + ": " + what + " has a dtype xhal does not know");
    if (info.host_memory) {
      if (t->device.device_type != XHAL_DL_CPU && !host_accessible)
        throw Error(XHAL_ERROR_INVALID_ARGUMENT,
                    where + ": " + what + " must be in host memory (it is read on the host)");
    } else if (t->device.device_type != dev.props.dlpack_device_type ||
               t->device.device_id != dev.local_index) {
      throw Error(XHAL_ERROR_INVALID_ARGUMENT,
                  where + ": " + what + " lives on another device (DLPack device " +
                      std::to_string(t->device.device_type) + ":" +
                      std::to_string(t->device.device_id) + ")");
    }
    if (info.type_var < 0) {
      if (dtype != info.fixed_dtype)
        throw Error(XHAL_ERROR_INVALID_ARGUMENT, where + ": " + what + " must be " +
                                                     dtype_name(info.fixed_dtype) + ", got " +
                                                     dtype_name(dtype));
      return;
    }
    int32_t& slot = dtypes[info.type_var];
    if (slot == XHAL_DTYPE_UNDEFINED) {
      slot = dtype;
      bound_by[info.type_var] = info.name;
    } else if (slot != dtype) {
      throw Error(XHAL_ERROR_INVALID_ARGUMENT,
                  where + ": " + what + " is " + dtype_name(dtype) + " but type variable " +
                      op->type_var_names[info.type_var] + " is " + dtype_name(slot) +
                      " (from " + bound_by[info.type_var] + "); xhal does no implicit promotion");
    }
    if (t->ndim > 0 && element_count(t) > 0 && !t->data)
      throw Error(XHAL_ERROR_INVALID_ARGUMENT, where + ": " + what + " has no data");
  };
  for (int32_t i = 0; i < num_inputs; ++i) check_operand(input_info(i), inputs[i], true);
  for (int32_t i = 0; i < num_outputs; ++i) {
    check_operand(output_info(i), outputs[i], false);
    if (!is_compact(outputs[i]))
      throw Error(XHAL_ERROR_INVALID_ARGUMENT, where + ": output " + output_info(i).name +
                                                   " must be compact row-major");
  }

  const KernelEntry* kernel = registry_.find(dev.plugin->index(), op_id, op_version, dtypes);
  if (!kernel)
    throw Error(XHAL_ERROR_UNSUPPORTED,
                where + ": no kernel for " + signature_string(*op, dtypes) +
                    " (registered: " + registry_.describe(dev.plugin->index(), op_id) + ")");

  // Inputs the kernel cannot take strided are made compact on the host where possible.
  std::vector<const xhal_tensor_t*> call_inputs(inputs, inputs + num_inputs);
  std::vector<std::unique_ptr<CompactCopy>> copies;
  if (!(kernel->flags & XHAL_KERNEL_FLAG_STRIDED_INPUTS)) {
    for (int32_t i = 0; i < num_inputs; ++i) {
      const xhal_tensor_t* t = inputs[i];
      if (!t || is_compact(t)) continue;
      if (!host_accessible && !input_info(i).host_memory)
        throw Error(XHAL_ERROR_UNSUPPORTED,
                    where + ": input " + input_info(i).name +
                        " is strided and the kernel takes only compact tensors");
      synchronize(device_index);
      copies.push_back(std::make_unique<CompactCopy>(t));
      call_inputs[i] = &copies.back()->tensor;
    }
  }

  // Attributes: NULL means the spec's defaults; otherwise the caller's struct must be this
  // op version's (an op version's attributes never change, so the size must match exactly).
  std::unique_ptr<char[]> attr_block(new char[op->attrs_size]);
  op->attrs_init(attr_block.get());
  if (attrs) {
    const size_t given = *static_cast<const size_t*>(attrs);
    if (given != op->attrs_size)
      throw Error(XHAL_ERROR_ABI_MISMATCH,
                  where + ": attribute struct_size is " + std::to_string(given) + ", expected " +
                      std::to_string(op->attrs_size) + " (initialise it with xhal_" + op->name +
                      "_v" + std::to_string(op->version) + "_attrs_init)");
    std::memcpy(attr_block.get(), attrs, op->attrs_size);
  }

  xhal_kernel_context_t ctx;
  ctx.struct_size = sizeof(ctx);
  ctx.device = dev.local_index;
  ctx.stream = dev.stream;
  set_plugin_error(nullptr);
  const xhal_status_t status =
      op->invoke(kernel->fn, &ctx, call_inputs.data(), num_inputs, attr_block.get(), outputs,
                 num_outputs);
  if (!copies.empty() && status == XHAL_OK) synchronize(device_index);  // copies die here
  check_plugin_status(status, where);
}

}  // namespace xhal
