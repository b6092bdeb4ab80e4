#pragma once

namespace moestream::cli {
int run_bench_e2e(int argc, char** argv);
}
