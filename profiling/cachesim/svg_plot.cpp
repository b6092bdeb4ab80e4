#include "profiling/cachesim/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace moestream::cachesim {

namespace {

constexpr double kPanelWidth = 600, kPanelHeight = 440;
constexpr double kLeft = 72, kRight = 24, kTop = 56, kBottom = 64;

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), f, v);
  return buf;
}

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '&') out += "&amp;";
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else out += c;
  }
  return out;
}

// A "nice" tick step (1, 2, 4, 5, 8 x 10^n) giving about 6 ticks over [0, max].
double tick_step(double max) {
  double raw = max / 6;
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 4.0, 5.0, 8.0, 10.0})
    if (m * mag >= raw) return m * mag;
  return 10 * mag;
}

const char* color_for(PolicyKind p) {
  switch (p) {
    case PolicyKind::kLru: return "#1f77b4";
    case PolicyKind::kLfu: return "#ff7f0e";
    case PolicyKind::kDecayedLfu: return "#2ca02c";
    case PolicyKind::kArc: return "#9467bd";
    case PolicyKind::kStaticHotSet: return "#8c564b";
    case PolicyKind::kStaticOracle: return "#7f7f7f";
    case PolicyKind::kBelady: return "#000000";
    case PolicyKind::kBeladyAdmit: return "#555555";
  }
  return "#7f7f7f";
}

// Dash patterns tell overlapping curves apart (LRU and ARC often coincide).
const char* dash_for(PolicyKind p) {
  switch (p) {
    case PolicyKind::kDecayedLfu: return "6 3";
    case PolicyKind::kArc: return "2 3";
    case PolicyKind::kStaticHotSet: return "10 3 2 3";
    case PolicyKind::kStaticOracle: return "1 3";
    case PolicyKind::kBelady: return "9 5";
    case PolicyKind::kBeladyAdmit: return "4 4";
    default: return "";
  }
}

std::string dash_attr(PolicyKind p) {
  std::string d = dash_for(p);
  return d.empty() ? "" : " stroke-dasharray='" + d + "'";
}

void panel(std::string* out, const SweepResult& r, bool shared, double x0) {
  const double w = kPanelWidth - kLeft - kRight, h = kPanelHeight - kTop - kBottom;
  const double px = x0 + kLeft, py = kTop;
  const double max_c = *std::max_element(r.config.sizes.begin(), r.config.sizes.end());
  const double x_max = std::max(max_c, 1.0);
  auto X = [&](double c) { return px + w * c / x_max; };
  auto Y = [&](double rate) { return py + h * (1.0 - rate); };

  *out += "<text x='" + fmt("%.1f", px + w / 2) + "' y='" + fmt("%.1f", py - 14) +
          "' text-anchor='middle' font-size='15' font-weight='bold'>" +
          (shared ? "One shared pool of C x " + std::to_string(r.num_layers) + " experts"
                  : std::string("One cache of C experts per layer")) +
          "</text>\n";
  // Grid and y ticks every 10 %.
  for (int i = 0; i <= 10; ++i) {
    double y = Y(i / 10.0);
    *out += "<line x1='" + fmt("%.1f", px) + "' y1='" + fmt("%.1f", y) + "' x2='" +
            fmt("%.1f", px + w) + "' y2='" + fmt("%.1f", y) + "' stroke='#e4e4e4'/>\n";
    *out += "<text x='" + fmt("%.1f", px - 6) + "' y='" + fmt("%.1f", y + 4) +
            "' text-anchor='end' font-size='12'>" + std::to_string(i * 10) + "%</text>\n";
  }
  const double step = tick_step(x_max);
  for (double c = 0; c <= x_max + 1e-9; c += step) {
    double x = X(c);
    *out += "<line x1='" + fmt("%.1f", x) + "' y1='" + fmt("%.1f", py) + "' x2='" +
            fmt("%.1f", x) + "' y2='" + fmt("%.1f", py + h) + "' stroke='#f0f0f0'/>\n";
    *out += "<line x1='" + fmt("%.1f", x) + "' y1='" + fmt("%.1f", py + h) + "' x2='" +
            fmt("%.1f", x) + "' y2='" + fmt("%.1f", py + h + 5) + "' stroke='#333'/>\n";
    *out += "<text x='" + fmt("%.1f", x) + "' y='" + fmt("%.1f", py + h + 19) +
            "' text-anchor='middle' font-size='12'>" + fmt("%g", c) + "</text>\n";
  }
  *out += "<rect x='" + fmt("%.1f", px) + "' y='" + fmt("%.1f", py) + "' width='" +
          fmt("%.1f", w) + "' height='" + fmt("%.1f", h) + "' fill='none' stroke='#333'/>\n";
  *out += "<text x='" + fmt("%.1f", px + w / 2) + "' y='" + fmt("%.1f", py + h + 44) +
          "' text-anchor='middle' font-size='13'>experts cached per layer, C (of N = " +
          std::to_string(r.num_experts) + ")</text>\n";
  *out += "<text transform='translate(" + fmt("%.1f", x0 + 18) + "," + fmt("%.1f", py + h / 2) +
          ") rotate(-90)' text-anchor='middle' font-size='13'>hit rate (share of expert "
          "accesses)</text>\n";

  // Curves, OPT last so it is drawn on top.
  std::vector<PolicyKind> drawn;
  std::vector<PolicyKind> order = r.config.policies;
  std::stable_partition(order.begin(), order.end(),
                        [](PolicyKind p) { return p != PolicyKind::kBelady; });
  for (PolicyKind p : order) {
    std::string points;
    std::string marks;
    for (uint32_t c : r.config.sizes) {
      const RunResult* run = find_run(r, p, shared, c);
      if (!run) continue;
      double x = X(c), y = Y(run->stats.hit_rate());
      points += fmt("%.1f", x) + "," + fmt("%.1f", y) + " ";
      marks += "<circle cx='" + fmt("%.1f", x) + "' cy='" + fmt("%.1f", y) + "' r='" +
               (p == PolicyKind::kBelady ? "4" : "3") + "' fill='" + color_for(p) + "'/>\n";
    }
    if (points.empty()) continue;
    drawn.push_back(p);
    bool opt = p == PolicyKind::kBelady;
    *out += "<polyline fill='none' stroke='" + std::string(color_for(p)) + "' stroke-width='" +
            (opt ? "3" : "2") + "'" + dash_attr(p) + " points='" +
            points + "'/>\n" + marks;
  }
  // Legend, bottom right: hit rate rises with size, so that corner stays empty.
  double lh = 17.0 * static_cast<double>(drawn.size()) + 8;
  double lx = px + w - 272, ly = py + h - lh - 10;
  *out += "<rect x='" + fmt("%.1f", lx) + "' y='" + fmt("%.1f", ly) + "' width='264' height='" +
          fmt("%.1f", lh) + "' fill='white' fill-opacity='0.92' stroke='#999'/>\n";
  for (size_t i = 0; i < drawn.size(); ++i) {
    PolicyKind p = drawn[i];
    bool opt = p == PolicyKind::kBelady;
    double y = ly + 16 + 17.0 * static_cast<double>(i);
    *out += "<line x1='" + fmt("%.1f", lx + 10) + "' y1='" + fmt("%.1f", y - 4) + "' x2='" +
            fmt("%.1f", lx + 44) + "' y2='" + fmt("%.1f", y - 4) + "' stroke='" + color_for(p) +
            "' stroke-width='" + (opt ? "3" : "2") + "'" + dash_attr(p) + "/>\n";
    std::string label = opt ? "OPT (Belady, offline bound)"
                            : std::string(policy_display_name(p)) +
                                  (p == PolicyKind::kStaticHotSet ? " hot set (training split)"
                                   : p == PolicyKind::kStaticOracle ? " per layer (same trace, offline)"
                                   : p == PolicyKind::kBeladyAdmit ? " (OPT that admits every miss)"
                                   : p == PolicyKind::kDecayedLfu ? " (decayed counts)"
                                   : p == PolicyKind::kLfu       ? " (counts since start)"
                                                                 : "");
    *out += "<text x='" + fmt("%.1f", lx + 52) + "' y='" + fmt("%.1f", y) +
            "' font-size='11'" + (opt ? " font-weight='bold'" : "") + ">" + escape(label) +
            "</text>\n";
  }
}

}  // namespace

std::string render_hit_rate_svg(const SweepResult& r) {
  std::vector<bool> pools;
  for (bool shared : {false, true}) {
    bool any = false;
    for (const auto& run : r.runs)
      any |= run.spec.shared_pool == shared && run.spec.prefetch == PrefetchKind::kNone;
    if (any) pools.push_back(shared);
  }
  const double width = kPanelWidth * static_cast<double>(std::max<size_t>(pools.size(), 1));
  const double height = kPanelHeight + 34;
  std::string out = "<?xml version='1.0' encoding='UTF-8'?>\n<svg xmlns='http://www.w3.org/2000/svg' width='" +
                    fmt("%.0f", width) + "' height='" + fmt("%.0f", height) +
                    "' viewBox='0 0 " + fmt("%.0f", width) + " " + fmt("%.0f", height) +
                    "' font-family='DejaVu Sans, Helvetica, Arial, sans-serif'>\n"
                    "<rect width='100%' height='100%' fill='white'/>\n";
  std::string title = "Expert-cache hit rate vs cache size: " + std::to_string(r.num_layers) +
                      " MoE layers x " + std::to_string(r.num_experts) + " experts, k = " +
                      std::to_string(r.top_k) + "; " + std::to_string(r.replayed_tokens) +
                      " tokens replayed";
  out += "<text x='" + fmt("%.1f", width / 2) + "' y='22' text-anchor='middle' font-size='16'>" +
         escape(title) + "</text>\n";
  for (size_t i = 0; i < pools.size(); ++i) {
    out += "<g transform='translate(0,20)'>\n";
    panel(&out, r, pools[i], kPanelWidth * static_cast<double>(i));
    out += "</g>\n";
  }
  out += "</svg>\n";
  return out;
}

}  // namespace moestream::cachesim
