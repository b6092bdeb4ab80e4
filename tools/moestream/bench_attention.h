// `moestream bench attention`: see bench_attention.cpp.
#pragma once

namespace moestream::cli {

int run_bench_attention(int argc, char** argv);

}  // namespace moestream::cli
