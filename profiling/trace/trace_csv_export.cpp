#include "profiling/trace/trace_csv_export.h"

#include <cmath>
#include <cstdio>

namespace moestream::trace {

std::string_view trace_csv_columns() {
  return "sequence,token,layer,phase,experts,scores,outcomes,load_us,candidates,"
         "candidate_scores,pregate,pregate_scores,prefetch_wasted\n";
}

namespace {

void append_score(std::string* out, float score) {
  if (std::isnan(score)) {
    *out += "nan";
    return;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6g", static_cast<double>(score));
  *out += buf;
}

template <typename List, typename Fn>
void append_list(std::string* out, const List& list, Fn fn) {
  for (size_t i = 0; i < list.size(); ++i) {
    if (i) *out += ' ';
    fn(list[i]);
  }
  *out += ',';
}

}  // namespace

std::string format_trace_csv_line(const TraceRecord& r) {
  std::string line = std::to_string(r.sequence) + ',' + std::to_string(r.token) + ',' +
                     std::to_string(r.layer) + ',' + phase_name(r.phase) + ',';
  append_list(&line, r.chosen, [&](const ChosenExpert& c) { line += std::to_string(c.expert); });
  append_list(&line, r.chosen, [&](const ChosenExpert& c) { append_score(&line, c.score); });
  append_list(&line, r.chosen, [&](const ChosenExpert& c) { line += outcome_name(c.outcome); });
  append_list(&line, r.chosen, [&](const ChosenExpert& c) { line += std::to_string(c.load_us); });
  append_list(&line, r.candidates,
              [&](const ScoredExpert& c) { line += std::to_string(c.expert); });
  append_list(&line, r.candidates, [&](const ScoredExpert& c) { append_score(&line, c.score); });
  append_list(&line, r.pregate, [&](const ScoredExpert& c) { line += std::to_string(c.expert); });
  append_list(&line, r.pregate, [&](const ScoredExpert& c) { append_score(&line, c.score); });
  line += std::to_string(r.prefetch_wasted);
  line += '\n';
  return line;
}

Status export_trace_csv(TraceReader& reader,
                        const std::function<Status(std::string_view)>& sink) {
  MOESTREAM_TRY(sink(trace_csv_columns()));
  TraceRecord record;
  std::string batch;
  while (true) {
    MOESTREAM_ASSIGN_OR_RETURN(bool more, reader.next(&record));
    if (!more) break;
    batch += format_trace_csv_line(record);
    if (batch.size() > (1 << 20)) {
      MOESTREAM_TRY(sink(batch));
      batch.clear();
    }
  }
  if (!batch.empty()) MOESTREAM_TRY(sink(batch));
  return ok_status();
}

}  // namespace moestream::trace
