// Kernels registered by plugins, keyed by (plugin, op id, op version, dtype signature).
// A plugin registers inside a Session: either all its kernels land or none do.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <xhal/xhal_abi.h>

namespace xhal {

struct OpInfo;

struct KernelEntry {
  int plugin;
  uint32_t op_id;
  int32_t version_min;
  int32_t version_max;
  std::vector<int32_t> dtypes;  // one per type variable
  uint32_t flags;
  xhal_kernel_fn_t fn;
  std::string name;
};

class KernelRegistry {
 public:
  class Session {
   public:
    Session(KernelRegistry& registry, int plugin, std::string device_type);
    void add(const xhal_kernel_def_t* def);  // throws Error naming what is wrong
    void fail(const std::string& message) { failure_ = message; }
    // Commits on success; throws Error(context: reason) otherwise.
    void finish(xhal_status_t status, const std::string& context);

   private:
    KernelRegistry& registry_;
    int plugin_;
    std::string device_type_;
    std::string failure_;
    std::vector<KernelEntry> pending_;
  };

  // The kernel for this signature, or nullptr.
  const KernelEntry* find(int plugin, uint32_t op_id, int32_t version,
                          const std::vector<int32_t>& dtypes) const;
  // Signatures registered by `plugin` for the op, e.g. "T=float32, T=float64" (for errors).
  std::string describe(int plugin, uint32_t op_id) const;
  std::vector<const KernelEntry*> kernels_of(int plugin) const;
  void remove_plugin(int plugin);

 private:
  static uint64_t key(int plugin, uint32_t op_id) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(plugin)) << 32) | op_id;
  }

  mutable std::mutex mutex_;
  std::deque<KernelEntry> entries_;  // deque: find() hands out stable pointers
  // (plugin, op) -> its kernels, so that a lookup scans a handful of entries, not all of them.
  std::unordered_map<uint64_t, std::vector<const KernelEntry*>> index_;
};

const char* dtype_name(int32_t dtype);
std::string signature_string(const OpInfo& op, const std::vector<int32_t>& dtypes);

}  // namespace xhal
