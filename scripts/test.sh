#!/usr/bin/env bash
# Builds and runs the whole test suite with ctest (Release with assertions, -Werror).
#   bash scripts/test.sh              # the suite CI runs
#   bash scripts/test.sh --sanitize   # the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   bash scripts/test.sh -R REGEX     # extra arguments go to ctest
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

build_dir="$MOESTREAM_ROOT/build/test"
cmake_args=(-DCMAKE_BUILD_TYPE=Release -DMOESTREAM_ASSERTIONS=ON -DMOESTREAM_WERROR=ON -DMOESTREAM_SANITIZE=OFF)
ctest_args=()
fuzz=1
while [ $# -gt 0 ]; do
  case "$1" in
    --sanitize)
      build_dir="$MOESTREAM_ROOT/build/sanitize"
      cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DMOESTREAM_ASSERTIONS=ON -DMOESTREAM_WERROR=ON -DMOESTREAM_SANITIZE=ON)
      fuzz=0
      ;;
    --no-fuzz) fuzz=0 ;;
    -h|--help)
      sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *) ctest_args+=("$1") ;;
  esac
  shift
done

ensure_packages "${MOESTREAM_PACKAGES[@]}"
if [ -x /usr/local/cuda/bin/nvcc ] && [[ " ${cmake_args[*]} " != *" -DMOESTREAM_SANITIZE=ON "* ]]; then
  # The optional CUDA tier must compile wherever the toolkit exists, GPU or not.
  cmake_args+=(-DMOESTREAM_CUDA=ON)
fi
if [ "$fuzz" = 1 ] && command -v clang++-14 >/dev/null 2>&1; then
  ensure_packages clang-14 libclang-rt-14-dev
fi
log "configuring and building in $build_dir"
configure_and_build "$build_dir" "${cmake_args[@]}"
if [ "${#cmake_args[@]}" -gt 0 ] && [[ " ${cmake_args[*]} " == *" -DMOESTREAM_SANITIZE=ON "* ]]; then
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
fi
log "running the test suite"
ctest --test-dir "$build_dir" --output-on-failure -j"$(nproc)" "${ctest_args[@]}"
if [ "$fuzz" = 1 ] && [ -x "$MOESTREAM_ROOT/scripts/fuzz.sh" ] && [ "${#ctest_args[@]}" -eq 0 ]; then
  log "short fuzz run"
  # The request-parser target builds the whole engine with clang: run it with scripts/fuzz.sh.
  bash "$MOESTREAM_ROOT/scripts/fuzz.sh" --seconds 20 --no-engine
fi
