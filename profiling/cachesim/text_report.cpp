#include "profiling/cachesim/text_report.h"

#include <cstdarg>
#include <cstdio>
#include <functional>

#include "platform/progress_bar.h"

namespace moestream::cachesim {

namespace {

void appendf(std::string* out, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void appendf(std::string* out, const char* fmt, ...) {
  char buf[1024];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(buf, sizeof(buf), fmt, args);
  va_end(args);
  *out += buf;
}

std::string pct(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f%%", 100.0 * v);
  return buf;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), v >= 100 ? "%.0f" : "%.2f", v);
  return buf;
}

std::string gb(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f GB", bytes / 1e9);
  return buf;
}

// One table: rows = sizes, columns = policies present for this pool.
void policy_table(std::string* out, const SweepResult& r, bool shared, const char* title,
                  const std::function<std::string(const SimulationStats&)>& cell,
                  bool with_gap) {
  std::vector<PolicyKind> cols;
  for (PolicyKind p : r.config.policies)
    if (find_run(r, p, shared, r.config.sizes.front())) cols.push_back(p);
  if (cols.empty()) return;
  appendf(out, "\n%s\n", title);
  appendf(out, "  %6s %6s", shared ? "C/layer" : "C", "C/N");
  for (PolicyKind p : cols) appendf(out, " %10s", std::string(policy_display_name(p)).c_str());
  if (with_gap) appendf(out, " %14s", "OPT-best gap");
  *out += '\n';
  for (uint32_t c : r.config.sizes) {
    appendf(out, "  %6u %6s", c, pct(static_cast<double>(c) / r.num_experts).c_str());
    double best_online = -1, opt = -1;
    for (PolicyKind p : cols) {
      const RunResult* run = find_run(r, p, shared, c);
      appendf(out, " %10s", cell(run->stats).c_str());
      double h = run->stats.hit_rate();
      if (p == PolicyKind::kBelady) opt = h;
      else if (is_online(p)) best_online = std::max(best_online, h);
    }
    if (with_gap && opt >= 0 && best_online >= 0)
      appendf(out, " %13.1f pt", 100.0 * (opt - best_online));
    *out += '\n';
  }
}

}  // namespace

std::string format_text_report(const SweepResult& r, const TextReportOptions& options) {
  std::string out;
  appendf(&out, "trace: %u sequences, %llu tokens from %zu file(s); %u MoE layers x %u experts, k = %u\n",
          r.sequences, static_cast<unsigned long long>(r.tokens), r.sources.size(), r.num_layers,
          r.num_experts, r.top_k);
  if (r.train_sequences > 0)
    appendf(&out, "training split: the first %u sequences (static hot set, co-occurrence table)\n",
            r.train_sequences);
  appendf(&out, "replayed: %u sequences, %llu tokens, %llu expert accesses, from an empty cache\n",
          r.sequences - r.train_sequences, static_cast<unsigned long long>(r.replayed_tokens),
          static_cast<unsigned long long>(r.replayed_accesses));
  appendf(&out, "expert size: %s (%llu bytes, %s)\n",
          format_bytes(r.config.expert_bytes).c_str(),
          static_cast<unsigned long long>(r.config.expert_bytes),
          r.config.expert_bytes_source.c_str());
  if (!r.has_phase)
    out += "phases: not recorded in these traces (routing CSVs): prefill and decode are not "
           "reported apart\n";

  const double bytes = static_cast<double>(r.config.expert_bytes);
  for (bool shared : {false, true}) {
    std::string pool = shared ? "one shared pool of C x " + std::to_string(r.num_layers) +
                                    " experts"
                              : "one cache of C experts per layer";
    policy_table(&out, r, shared, ("Hit rate, " + pool + " (expert accesses served from cache)").c_str(),
                 [](const SimulationStats& s) { return pct(s.hit_rate()); }, true);
    policy_table(&out, r, shared, ("All-k resident, " + pool + " (token-layer steps with all " +
                                   std::to_string(r.top_k) + " experts resident)").c_str(),
                 [](const SimulationStats& s) { return pct(s.all_hit_rate()); }, false);
    policy_table(&out, r, shared, ("Loads per token, " + pool + " (expert reads from NVMe)").c_str(),
                 [](const SimulationStats& s) { return num(s.loads_per_token()); }, false);
    policy_table(&out, r, shared, ("Bytes per token, " + pool).c_str(),
                 [&](const SimulationStats& s) { return gb(s.loads_per_token() * bytes); }, false);
  }

  if (r.has_phase) {
    // Prefill and decode behave differently; report them apart (docs/profiling.md).
    policy_table(&out, r, false,
                 "Hit rate by phase, one cache of C experts per layer (prefill / decode)",
                 [](const SimulationStats& s) {
                   auto rate = [&](int p) {
                     return s.phase_accesses[p] ? pct(SimulationStats::ratio(s.phase_hits[p],
                                                                             s.phase_accesses[p]))
                                                : std::string("-");
                   };
                   return rate(0) + "/" + rate(1);
                 },
                 false);
  }
  if (options.per_layer && !r.config.policies.empty() &&
      find_run(r, r.config.policies.front(), false, r.config.sizes.front())) {
    PolicyKind p = r.config.policies.front();
    appendf(&out, "\nPer-layer hit rate, %s, one cache of C experts per layer\n  %6s",
            std::string(policy_display_name(p)).c_str(), "layer");
    for (uint32_t c : r.config.sizes) appendf(&out, " %7s", ("C=" + std::to_string(c)).c_str());
    out += '\n';
    for (uint32_t l = 0; l < r.num_layers; ++l) {
      appendf(&out, "  %6u", l < r.config.layer_labels.size() ? r.config.layer_labels[l] : l);
      for (uint32_t c : r.config.sizes) {
        const SimulationStats& s = find_run(r, p, false, c)->stats;
        appendf(&out, " %7s",
                pct(SimulationStats::ratio(s.layer_hits[l], s.layer_accesses[l])).c_str());
      }
      out += '\n';
    }
  }

  bool any_prefetch = false;
  for (const auto& run : r.runs) any_prefetch |= run.spec.prefetch != PrefetchKind::kNone;
  if (any_prefetch) {
    appendf(&out, "\nPrefetch into a side buffer, on per-layer %s (the cache itself behaves as "
                  "without prefetch)\n",
            std::string(policy_display_name(r.config.prefetch_base)).c_str());
    appendf(&out, "  %-22s %6s %5s %8s %9s %8s %8s %9s %7s %7s %7s %8s\n", "model", "budget",
            "C", "cache", "+prefetch", "no-stall", "loads/t", "GB/t", "recall", "all-k",
            "waste", "removed");
    for (const auto& run : r.runs) {
      if (run.spec.prefetch == PrefetchKind::kNone) continue;
      const SimulationStats& s = run.stats;
      appendf(&out, "  %-22s %6u %5u %8s %9s %8s %8s %9s %7s %7s %7s %8s\n",
              std::string(prefetch_display_name(run.spec.prefetch)).c_str(),
              run.spec.prefetch_budget, run.spec.capacity_per_layer, pct(s.hit_rate()).c_str(),
              pct(s.covered_hit_rate()).c_str(), pct(s.no_stall_rate()).c_str(),
              num(s.loads_per_token()).c_str(),
              num(s.loads_per_token() * bytes / 1e9).c_str(), pct(s.prefetch_recall(r.top_k)).c_str(),
              pct(s.prefetch_exact_rate()).c_str(), pct(s.prefetch_waste()).c_str(),
              pct(s.misses_removed()).c_str());
    }
  }
  if (!r.notes.empty()) {
    out += "\nNotes:\n";
    for (const auto& note : r.notes) out += "  - " + note + "\n";
  }
  out +=
      "\nWhat the numbers mean:\n"
      "  hit rate      share of expert accesses whose expert was resident (slot hit rate)\n"
      "  all-k         share of (token, layer) steps whose k experts were all resident: the\n"
      "                steps on which the layer does not wait for NVMe\n"
      "  loads/token   experts read from NVMe per token (demand misses + prefetch reads);\n"
      "                bytes/token = loads/token x expert size\n"
      "  OPT           Belady's MIN with bypass: the most hits any demand cache of that size\n"
      "                can get on this trace (it knows the future); OPT-best gap = OPT minus\n"
      "                the best online policy. It does not bound prefetching.\n"
      "  OPT-admit     MIN that must admit every miss (bounds LRU, LFU, ARC; Table A2's OPT)\n"
      "  static        the C most used experts of each layer on the training split, kept once\n"
      "                loaded; top-C: the same chosen on the replayed tokens themselves\n"
      "                (an offline reference like OPT, excluded from the gap)\n";
  if (any_prefetch)
    out +=
        "  cache         hit rate of the cache itself; +prefetch: hits plus misses that a\n"
        "                prefetch had already loaded; no-stall: steps with nothing left to load\n"
        "  recall        share of the step's true experts named by the guess (slot recall),\n"
        "                over steps with a guess (the first MoE layer has none for co-occurrence);\n"
        "                all-k: guesses that named all k; waste: prefetch reads never used;\n"
        "                removed: share of cache misses taken off the critical path\n";
  return out;
}

}  // namespace moestream::cachesim
