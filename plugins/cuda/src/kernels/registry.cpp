#include "registry.h"

#include "../host.h"

namespace xhal_cuda {
namespace {

struct Entry {
  const char* name;
  RegisterFamilyFn fn;
};

// Filled by static initialisers of the family files, before the entry point can run.
constexpr int kMaxFamilies = 64;
Entry g_families[kMaxFamilies];
int g_family_count = 0;
bool g_overflow = false;

}  // namespace

KernelFamily::KernelFamily(const char* name, RegisterFamilyFn fn) noexcept {
  if (g_family_count == kMaxFamilies) {
    g_overflow = true;
    return;
  }
  g_families[g_family_count++] = Entry{name, fn};
}

xhal_status_t register_all_kernels(xhal_registry_t registry) noexcept {
  return guarded("register_kernels", [&] {
    const xhal_host_api_t* h = host();
    if (h == nullptr || h->register_kernel == nullptr)
      return fail(XHAL_ERROR_INTERNAL, "register_kernels: the host gave no register_kernel");
    if (g_overflow)
      return fail(XHAL_ERROR_INTERNAL, "register_kernels: more than %d kernel families",
                  kMaxFamilies);
    for (int i = 0; i < g_family_count; ++i) {
      const xhal_status_t st = g_families[i].fn(h, registry);
      if (st != XHAL_OK) return st;  // the host's register_kernel has said why
    }
    return XHAL_OK;
  });
}

}  // namespace xhal_cuda
