#include "text/chat/chat_output_parser.h"

#include <algorithm>
#include <initializer_list>

#include "text/chat/chat_template.h"

namespace moestream {

using namespace chat_tokens;

namespace {

// Length of the longest suffix of `text` that is a proper prefix of one of `markers`.
size_t partial_marker_suffix(std::string_view text, std::initializer_list<std::string_view> markers) {
  size_t best = 0;
  for (std::string_view marker : markers) {
    for (size_t n = std::min(text.size(), marker.size() - 1); n > best; --n) {
      if (text.substr(text.size() - n) == marker.substr(0, n)) {
        best = n;
        break;
      }
    }
  }
  return best;
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// Whether `text` is a proper prefix of `marker` (so more input may complete it).
bool could_become(std::string_view text, std::string_view marker) {
  return text.size() < marker.size() && marker.substr(0, text.size()) == text;
}

}  // namespace

ChatOutputParser::ChatOutputParser(bool starts_in_reasoning)
    : state_(starts_in_reasoning ? State::kReasoning : State::kStart) {}

void ChatOutputParser::emit_reasoning(std::string_view text, ChatOutputDelta* delta) {
  reasoning_.append(text);
  delta->reasoning.append(text);
}

void ChatOutputParser::emit_content(std::string_view text, ChatOutputDelta* delta) {
  content_.append(text);
  delta->content.append(text);
}

void ChatOutputParser::emit_tool_call(std::string_view body, ChatOutputDelta* delta) {
  ChatToolCall call;
  size_t sep = body.find(kToolSep);
  std::string_view head = sep == std::string_view::npos ? body : body.substr(0, sep);
  std::string_view tail = sep == std::string_view::npos ? std::string_view() : body.substr(sep + kToolSep.size());
  // V3: TYPE<sep>NAME\n```json\nARGS\n```
  constexpr std::string_view kFenceOpen = "\n```json\n";
  size_t fence = tail.find(kFenceOpen);
  if (fence != std::string_view::npos && tail.find('\n') == fence) {
    std::string_view args = tail.substr(fence + kFenceOpen.size());
    if (args.size() >= 4 && args.substr(args.size() - 4) == "\n```") args.remove_suffix(4);
    call.type = std::string(head);
    call.name = std::string(tail.substr(0, fence));
    call.arguments = std::string(args);
  } else {
    call.name = std::string(head);
    call.arguments = std::string(tail);
  }
  tool_calls_.push_back(call);
  delta->tool_calls.push_back(std::move(call));
}

bool ChatOutputParser::step(bool at_end, ChatOutputDelta* delta) {
  std::string_view p = pending_;
  switch (state_) {
    case State::kStart:
      if (starts_with(p, kThinkBegin)) {
        pending_.erase(0, kThinkBegin.size());
        state_ = State::kReasoning;
        return true;
      }
      if (!at_end && could_become(p, kThinkBegin)) return false;
      state_ = State::kContent;
      return true;
    case State::kReasoning: {
      size_t end = p.find(kThinkEnd);
      if (end != std::string_view::npos) {
        emit_reasoning(p.substr(0, end), delta);
        pending_.erase(0, end + kThinkEnd.size());
        state_ = State::kContent;
        return true;
      }
      size_t keep = at_end ? 0 : partial_marker_suffix(p, {kThinkEnd});
      emit_reasoning(p.substr(0, p.size() - keep), delta);
      pending_.erase(0, p.size() - keep);
      return false;
    }
    case State::kContent: {
      // A lone <｜tool▁call▁begin｜> (without the plural opener) also starts tool calls.
      size_t calls = p.find(kToolCallsBegin), call = p.find(kToolCallBegin), eos = p.find(kEos);
      size_t first = std::min({calls, call, eos});
      if (first != std::string_view::npos) {
        emit_content(p.substr(0, first), delta);
        if (first == eos) {
          pending_.erase(0, first + kEos.size());
        } else if (first == calls) {
          pending_.erase(0, first + kToolCallsBegin.size());
          state_ = State::kToolCalls;
        } else {
          pending_.erase(0, first);
          state_ = State::kToolCalls;
        }
        return true;
      }
      size_t keep = at_end ? 0 : partial_marker_suffix(p, {kToolCallsBegin, kToolCallBegin, kEos});
      emit_content(p.substr(0, p.size() - keep), delta);
      pending_.erase(0, p.size() - keep);
      return false;
    }
    case State::kToolCalls: {
      size_t skip = 0;
      while (skip < p.size() && (p[skip] == ' ' || p[skip] == '\n')) ++skip;  // tolerated between calls
      std::string_view rest = p.substr(skip);
      if (starts_with(rest, kToolCallBegin)) {
        pending_.erase(0, skip + kToolCallBegin.size());
        state_ = State::kToolCall;
        return true;
      }
      if (starts_with(rest, kToolCallsEnd)) {
        pending_.erase(0, skip + kToolCallsEnd.size());
        state_ = State::kContent;
        return true;
      }
      if (rest.empty() && !at_end) return false;
      if (!at_end && (could_become(rest, kToolCallBegin) || could_become(rest, kToolCallsEnd))) return false;
      state_ = State::kContent;  // not the grammar: keep the text as content
      return !p.empty();
    }
    case State::kToolCall: {
      size_t end = p.find(kToolCallEnd);
      if (end != std::string_view::npos) {
        emit_tool_call(p.substr(0, end), delta);
        pending_.erase(0, end + kToolCallEnd.size());
        state_ = State::kToolCalls;
        return true;
      }
      if (!at_end) return false;
      emit_content(std::string(kToolCallBegin) + pending_, delta);  // unfinished: keep verbatim
      pending_.clear();
      state_ = State::kContent;
      return false;
    }
  }
  return false;
}

ChatOutputDelta ChatOutputParser::push(std::string_view text) {
  ChatOutputDelta delta;
  pending_.append(text);
  while (!pending_.empty() && step(false, &delta)) {
  }
  return delta;
}

ChatOutputDelta ChatOutputParser::finish() {
  ChatOutputDelta delta;
  for (int guard = 0; guard < 64 && !pending_.empty(); ++guard) step(true, &delta);
  return delta;
}

ChatOutputParser ChatOutputParser::parse(std::string_view text, bool starts_in_reasoning) {
  ChatOutputParser parser(starts_in_reasoning);
  parser.push(text);
  parser.finish();
  return parser;
}

}  // namespace moestream
