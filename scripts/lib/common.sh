# Shared by scripts/*.sh: installs missing Debian packages, then configures and builds.
# shellcheck shell=bash

MOESTREAM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# Every Debian 12 package the build, the tests and the demo need.
MOESTREAM_PACKAGES=(
  cmake ninja-build g++ pkg-config ccache
  libmimalloc-dev liburing-dev libxnnpack-dev libpthreadpool-dev libcpuinfo-dev
  libzstd-dev libflatbuffers-dev flatbuffers-compiler flatbuffers-compiler-dev doctest-dev
  libcpp-httplib-dev nlohmann-json3-dev libpcre2-dev libxxhash-dev libedit-dev
  python3 python3-numpy python3-jsonschema fio nodejs tmux curl chromium
)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

missing_packages() {
  local pkg missing=()
  for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$pkg")
    fi
  done
  echo "${missing[@]}"
}

# ensure_packages PKG...: installs what is missing, with sudo when not root.
ensure_packages() {
  local missing
  missing=$(missing_packages "$@")
  [ -z "$missing" ] && return 0
  log "installing missing packages: $missing"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo="sudo -n"
    else
      echo "error: these Debian packages are missing and I cannot install them (not root, no" >&2
      echo "passwordless sudo). Install them, then rerun:" >&2
      echo "  sudo apt-get install -y $missing" >&2
      exit 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  # shellcheck disable=SC2086
  if ! $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null; then
    $sudo apt-get update -qq
    # shellcheck disable=SC2086
    $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
}

# configure_and_build BUILD_DIR [cmake args...]
configure_and_build() {
  local build_dir=$1
  shift
  local cuda_args=()
  # nvcc is on PATH only in login shells; name it when the CUDA tier is requested.
  if [ -x /usr/local/cuda/bin/nvcc ] && [[ " $* " == *" -DMOESTREAM_CUDA=ON "* ]]; then
    cuda_args=(-DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc)
  fi
  export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
  cmake -S "$MOESTREAM_ROOT" -B "$build_dir" -G Ninja \
    -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache \
    "${cuda_args[@]}" "$@" >/dev/null
  cmake --build "$build_dir" -j"$(nproc)"
}
