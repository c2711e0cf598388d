#include "kernel_registry.h"

#include <algorithm>

#include "error.h"
#include "op_table.h"

namespace xhal {

const char* dtype_name(int32_t dtype) {
  switch (dtype) {
    case XHAL_DTYPE_FLOAT32: return "float32";
    case XHAL_DTYPE_UINT8: return "uint8";
    case XHAL_DTYPE_INT8: return "int8";
    case XHAL_DTYPE_UINT16: return "uint16";
    case XHAL_DTYPE_INT16: return "int16";
    case XHAL_DTYPE_INT32: return "int32";
    case XHAL_DTYPE_INT64: return "int64";
    case XHAL_DTYPE_BOOL: return "bool";
    case XHAL_DTYPE_FLOAT16: return "float16";
    case XHAL_DTYPE_FLOAT64: return "float64";
    case XHAL_DTYPE_UINT32: return "uint32";
    case XHAL_DTYPE_UINT64: return "uint64";
    case XHAL_DTYPE_BFLOAT16: return "bfloat16";
    default: return "undefined";
  }
}

std::string signature_string(const OpInfo& op, const std::vector<int32_t>& dtypes) {
  std::string out;
  for (size_t i = 0; i < dtypes.size(); ++i) {
    if (i) out += ", ";
    out += (static_cast<int32_t>(i) < op.num_type_vars ? op.type_var_names[i] : "?");
    out += "=";
    out += dtype_name(dtypes[i]);
  }
  return out;
}

KernelRegistry::Session::Session(KernelRegistry& registry, int plugin, std::string device_type)
    : registry_(registry), plugin_(plugin), device_type_(std::move(device_type)) {}

void KernelRegistry::Session::add(const xhal_kernel_def_t* def) {
  if (!def) throw Error(XHAL_ERROR_INVALID_ARGUMENT, "register_kernel: def is NULL");
  if (def->struct_size < offsetof(xhal_kernel_def_t, name))
    throw Error(XHAL_ERROR_ABI_MISMATCH,
                "register_kernel: xhal_kernel_def_t.struct_size " +
                    std::to_string(def->struct_size) + " is smaller than ABI 1.0's");
  const OpInfo* op = find_op(def->op_id);
  const std::string who = def->struct_size >= offsetof(xhal_kernel_def_t, name) + sizeof(void*) &&
                                  def->name
                              ? std::string(" '") + def->name + "'"
                              : std::string();
  if (!op)
    throw Error(XHAL_ERROR_UNSUPPORTED, "register_kernel" + who + ": unknown op id " +
                                            std::to_string(def->op_id) +
                                            " (newer than this host's op set?)");
  const std::string ctx = "register_kernel" + who + " for " + op->name;
  if (!def->fn) throw Error(XHAL_ERROR_INVALID_ARGUMENT, ctx + ": fn is NULL");
  if (def->version_min < 1 || def->version_max < def->version_min)
    throw Error(XHAL_ERROR_INVALID_ARGUMENT, ctx + ": bad version range [" +
                                                 std::to_string(def->version_min) + ", " +
                                                 std::to_string(def->version_max) + "]");
  if (def->num_type_vars != op->num_type_vars)
    throw Error(XHAL_ERROR_INVALID_ARGUMENT,
                ctx + ": " + std::to_string(def->num_type_vars) + " dtypes given, the op has " +
                    std::to_string(op->num_type_vars) + " type variables");
  KernelEntry entry{plugin_, def->op_id, def->version_min, def->version_max, {}, def->flags,
                    def->fn, who.empty() ? op->name : def->name};
  for (int i = 0; i < def->num_type_vars; ++i) {
    if (xhal_dtype_size(def->dtypes[i]) == 0)
      throw Error(XHAL_ERROR_INVALID_ARGUMENT,
                  ctx + ": dtype " + std::to_string(def->dtypes[i]) + " is not an xhal dtype");
    entry.dtypes.push_back(def->dtypes[i]);
  }
  for (const KernelEntry& other : pending_) {
    if (other.op_id == entry.op_id && other.dtypes == entry.dtypes &&
        other.version_min <= entry.version_max && entry.version_min <= other.version_max)
      throw Error(XHAL_ERROR_INVALID_ARGUMENT,
                  ctx + ": registered twice for " + signature_string(*op, entry.dtypes));
  }
  pending_.push_back(std::move(entry));
}

void KernelRegistry::Session::finish(xhal_status_t status, const std::string& context) {
  if (status != XHAL_OK || !failure_.empty()) {
    if (!failure_.empty()) throw Error(status == XHAL_OK ? XHAL_ERROR_INVALID_ARGUMENT : status,
                                       context + ": " + failure_);
    check_plugin_status(status, context);
  }
  std::lock_guard<std::mutex> lock(registry_.mutex_);
  for (KernelEntry& entry : pending_) {
    registry_.entries_.push_back(std::move(entry));
    const KernelEntry* stored = &registry_.entries_.back();
    registry_.index_[key(stored->plugin, stored->op_id)].push_back(stored);
  }
  pending_.clear();
}

const KernelEntry* KernelRegistry::find(int plugin, uint32_t op_id, int32_t version,
                                        const std::vector<int32_t>& dtypes) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = index_.find(key(plugin, op_id));
  if (it == index_.end()) return nullptr;
  for (const KernelEntry* e : it->second)
    if (e->version_min <= version && version <= e->version_max && e->dtypes == dtypes) return e;
  return nullptr;
}

std::string KernelRegistry::describe(int plugin, uint32_t op_id) const {
  const OpInfo* op = find_op(op_id);
  std::string out;
  std::lock_guard<std::mutex> lock(mutex_);
  for (const KernelEntry& e : entries_) {
    if (e.plugin != plugin || e.op_id != op_id) continue;
    if (!out.empty()) out += "; ";
    out += op ? signature_string(*op, e.dtypes) : "?";
  }
  return out.empty() ? "none" : out;
}

std::vector<const KernelEntry*> KernelRegistry::kernels_of(int plugin) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<const KernelEntry*> out;
  for (const KernelEntry& e : entries_)
    if (e.plugin == plugin) out.push_back(&e);
  return out;
}

// Called only while loading the newest plugin fails, so its entries are the tail of entries_
// and erasing them moves no other entry (the index keeps pointing at live ones).
void KernelRegistry::remove_plugin(int plugin) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = index_.begin(); it != index_.end();)
    it = (it->first >> 32) == static_cast<uint32_t>(plugin) ? index_.erase(it) : std::next(it);
  entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                [&](const KernelEntry& e) { return e.plugin == plugin; }),
                 entries_.end());
}

}  // namespace xhal
