# cmake -DIN=chat.html -DOUT=chat_page.cpp -P embed_page.cmake: the page as a C++ string.
file(READ ${IN} page)
string(FIND "${page}" ")moestream_page\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${IN} contains the raw-string delimiter")
endif()
file(WRITE ${OUT}.tmp "#include \"server/web/chat_page.h\"\nnamespace moestream::server {\nnamespace {\nconstexpr const char kPage[] = R\"moestream_page(${page})moestream_page\";\n}\nstd::string_view chat_page_html() { return {kPage, sizeof(kPage) - 1}; }\n}  // namespace moestream::server\n")
file(RENAME ${OUT}.tmp ${OUT})
