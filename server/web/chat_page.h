// The web chat page (server/web/chat.html), embedded in the binary at build time so the
// server works offline: one self-contained document, no CDN.
#pragma once

#include <string_view>

namespace moestream::server {

std::string_view chat_page_html();

}  // namespace moestream::server
