#include "kernel_flags.h"

#include "kernels/kernel_threads.h"

namespace moestream::cli {

void KernelFlags::add_to(ArgParser& args) {
  args.option("--threads", &threads, "N", "threads for the matrix kernels (default 0 = all cores)", 0, 1024);
}

Status KernelFlags::apply() const {
  if (threads < 0 || threads > 1024) return invalid_argument("--threads must be 0..1024");
  kernels::set_kernel_threads(threads);
  return ok_status();
}

}  // namespace moestream::cli
