// What the process uses and what it is allowed to use.
#pragma once

#include <cstdint>
#include <optional>

namespace moestream {

uint64_t current_rss_bytes();  // VmRSS from /proc/self/status (0 if unreadable)
// Hands the pages the allocator keeps for reuse (freed by this and by finished threads) back
// to the OS, so that RSS right after measures live memory, not the allocator's retention.
void return_free_memory_to_os();
uint64_t peak_rss_bytes();     // VmHWM
uint64_t total_ram_bytes();    // MemTotal
uint64_t available_ram_bytes();  // MemAvailable
// The memory limit of this process's cgroup (v2 memory.max, else v1 memory.limit_in_bytes);
// nullopt when unlimited or unknown.
std::optional<uint64_t> cgroup_memory_limit_bytes();

}  // namespace moestream
