#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-14 (its own build dir) and runs each for N seconds.
#   bash scripts/fuzz.sh                 # 300 s per target
#   bash scripts/fuzz.sh --seconds 20    # the short run scripts/test.sh does
#   bash scripts/fuzz.sh --runs 1000000 --only json   # a fixed number of executions, targets matching a word
#   bash scripts/fuzz.sh --seconds 20 --no-engine     # without fuzz_chat_completion (it builds the whole engine)
# Crashes are written to build/fuzz/artifacts/ and make the script fail.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

seconds=300
runs=-1
only=""
engine=1
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift ;;
    --seconds=*) seconds=${1#*=} ;;
    --runs) runs=$2; shift ;;
    --only) only=$2; shift ;;
    --no-engine) engine=0 ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

ensure_packages "${MOESTREAM_PACKAGES[@]}" clang-14 libclang-rt-14-dev
build_dir="$MOESTREAM_ROOT/build/fuzz"
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
log "configuring the fuzz build in $build_dir"
cmake -S "$MOESTREAM_ROOT" -B "$build_dir" -G Ninja \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMOESTREAM_FUZZ=ON -DMOESTREAM_SANITIZE=OFF \
  "-DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined" \
  "-DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link,address,undefined" >/dev/null
json_targets=(json_limits model_config_json hf_checkpoint tokenizer_json model_tokenizer chat_request json_schema_grammar)
targets=(fuzz_container_reader fuzz_safetensors_header)
[ "$engine" = 1 ] && targets+=(fuzz_chat_completion)
for t in "${json_targets[@]}"; do targets+=("fuzz_$t"); done
cmake --build "$build_dir" -j"$(nproc)" --target "${targets[@]}" fuzz_seed_corpus

corpus="$build_dir/corpus"
rm -rf "$corpus/seed"
"$build_dir/tests/fuzz/fuzz_seed_corpus" "$corpus/seed"
mkdir -p "$corpus/container" "$corpus/safetensors" "$build_dir/artifacts"
# Inputs that once made a target fail (tests/fuzz/regressions/<seed dir>/) run first every time.
for d in "$MOESTREAM_ROOT"/tests/fuzz/regressions/*/; do
  [ -d "$d" ] || continue
  mkdir -p "$corpus/seed/$(basename "$d")"
  cp "$d"* "$corpus/seed/$(basename "$d")/"
done
for t in "${json_targets[@]}"; do mkdir -p "$corpus/$t"; done
# The structured-output suite's schemas seed the schema compiler (a leading byte selects schema mode).
python3 - "$MOESTREAM_ROOT/tests/data/structured_output/schemas.json" "$corpus/seed/json_schema_grammar" <<'PY'
import json, sys
for name, schema in json.load(open(sys.argv[1], encoding="utf-8")).items():
    open(f"{sys.argv[2]}/{name}", "w", encoding="utf-8").write("s" + json.dumps(schema))
PY
# mimalloc is linked into the libraries; ASan must own malloc, so it is not preloaded here.
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
status=0
run_target() {
  local target=$1 corpus_dir=$2 seed_dir=$3 max_len=$4
  [[ -n "$only" && "$target" != *"$only"* ]] && return 0
  log "fuzzing $target for ${seconds}s (runs: $runs)"
  if ! "$build_dir/tests/fuzz/$target" "$corpus_dir" "$seed_dir" -max_total_time="$seconds" -runs="$runs" \
      -max_len="$max_len" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
      -artifact_prefix="$build_dir/artifacts/$target-" 2>"$build_dir/$target.log"; then
    echo "error: $target found a crash; see $build_dir/$target.log and $build_dir/artifacts/" >&2
    tail -40 "$build_dir/$target.log" >&2
    status=1
  else
    grep -E "stat::number_of_executed_units|Done [0-9]+ runs" "$build_dir/$target.log" | tail -1 || true
  fi
}
run_target fuzz_container_reader "$corpus/container" "$corpus/seed/container" 131072
run_target fuzz_safetensors_header "$corpus/safetensors" "$corpus/seed/safetensors" 4096
if [ "$engine" = 1 ]; then
  mkdir -p "$corpus/chat_completion"
  run_target fuzz_chat_completion "$corpus/chat_completion" "$corpus/seed/chat_request" 16384
fi
for t in "${json_targets[@]}"; do
  run_target "fuzz_$t" "$corpus/$t" "$corpus/seed/$t" 16384
done
exit $status
