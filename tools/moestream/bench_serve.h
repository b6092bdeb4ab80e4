// `moestream bench serve MODEL.mst --clients 1,8,64 [engine flags]`: the HTTP server under
// N concurrent streaming clients (loopback, in this process): time to first token and
// aggregate tok/s, against the same N requests submitted to the engine directly in the same
// run, so the server's own cost per token shows as a ratio.
#pragma once

namespace moestream::cli {

int run_bench_serve(int argc, char** argv);

}  // namespace moestream::cli
