#!/bin/bash
# bench/llama-cpp/fetch.sh DIR: llama.cpp for the side-by-side benchmarks, on Debian 12.
#
# Debian 12 has no llama.cpp package; Debian unstable does (llama.cpp-tools, built against its
# own ggml with a CPU backend per x86 level). This downloads those packages and the unstable
# C/C++ runtime they need from deb.debian.org, unpacks them under DIR (nothing is installed)
# and writes DIR/llama.sh, which runs a tool with that runtime's loader:
#
#   DIR/llama.sh llama-bench -m model.gguf -p 0 -n 24 -t 2
#
# The CPU backend is the best one the CPU supports, chosen as ggml would (GGML_BACKEND_PATH).
set -euo pipefail

dir=${1:?usage: fetch.sh DIR}
mirror=${MIRROR:-http://deb.debian.org/debian}
packages=(llama.cpp-tools libllama0 libggml0 libc6 libstdc++6 libgcc-s1 libgomp1 libssl3t64 libzstd1 zlib1g)

mkdir -p "$dir/debs" "$dir/root"
dir=$(cd "$dir" && pwd)
echo "fetching the Debian unstable package index" >&2
curl -fsS --max-time 300 "$mirror/dists/sid/main/binary-amd64/Packages.xz" | xz -dc > "$dir/Packages"
for p in "${packages[@]}"; do
  file="" sha=""
  read -r file sha < <(awk -v want="$p" '
    /^Package: / { hit = ($2 == want) }
    hit && /^Filename: / { f = $2 }
    hit && /^SHA256: / { print f, $2; exit }' "$dir/Packages") || true
  [[ -n $file ]] || { echo "error: $p is not in Debian unstable's index" >&2; exit 1; }
  deb="$dir/debs/$(basename "$file")"
  if [[ ! -s $deb ]]; then
    echo "  $p: $(basename "$file")" >&2
    curl -fsS --max-time 600 -o "$deb.partial" "$mirror/$file"
    echo "$sha  $deb.partial" | sha256sum -c --quiet
    mv "$deb.partial" "$deb"
  fi
  dpkg-deb -x "$deb" "$dir/root"
done

lib="$dir/root/usr/lib/x86_64-linux-gnu"
flags=$(grep -m1 '^flags' /proc/cpuinfo)
backend=x64
for level in zen4:avx512_bf16 icelake:avx512_vbmi2 skylakex:avx512bw haswell:avx2 sandybridge:avx sse42:sse4_2; do
  if [[ " $flags " == *" ${level#*:} "* && -f $lib/ggml/backends0/libggml-cpu-${level%%:*}.so ]]; then
    backend=${level%%:*}
    break
  fi
done
cat > "$dir/llama.sh" <<EOF
#!/bin/bash
# Runs a Debian-unstable llama.cpp tool (fetched by bench/llama-cpp/fetch.sh) with its own loader.
lib=$lib
export GGML_BACKEND_PATH=\${GGML_BACKEND_PATH:-\$lib/ggml/backends0/libggml-cpu-$backend.so}
tool=\${1:?usage: llama.sh TOOL [ARGS]}
shift
exec "\$lib/ld-linux-x86-64.so.2" --library-path "\$lib:\$lib/llama" "$dir/root/usr/bin/\$tool" "\$@"
EOF
chmod +x "$dir/llama.sh"
version=$(awk '/^Package: llama.cpp-tools$/ { hit = 1 } hit && /^Version: / { print $2; exit }' "$dir/Packages")
echo "llama.cpp $version (Debian unstable) in $dir, CPU backend $backend: $dir/llama.sh llama-bench ..." >&2
