// `moestream bench grammar`: see bench_grammar.cpp.
#pragma once

namespace moestream::cli {

int run_bench_grammar(int argc, char** argv);

}  // namespace moestream::cli
