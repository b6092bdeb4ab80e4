// `moestream bench batch MODEL.mst --sequences 1,4,16,64 [engine flags]`: the engine under
// load, one batch size after another in one run: aggregate generated tok/s, expert bytes
// read per generated token, expert acquisitions per layer per step, and the scheduler's share
// of each step; ratios against the single-sequence row of the same run.
#pragma once

namespace moestream::cli {

int run_bench_batch(int argc, char** argv);

}  // namespace moestream::cli
