#!/bin/bash
# bench/llama-cpp/side_by_side.sh MODEL.mst MODEL.gguf LLAMA_DIR [CAP...]
#
# Decodes the same model with llama.cpp and with moestream, alternating, under the same kernel
# memory limits (CAP: 5G, 6G, ...; "none" = no limit, the model all in RAM). llama.cpp reads
# the GGUF through mmap and the page cache, as it does by default; moestream streams experts
# (`bench e2e --cgroup`). Before every run the page cache is dropped. Both use the same number
# of threads. Needs root (cgroup, drop_caches). MODEL.gguf from bench/llama-cpp/mst_to_gguf.py,
# LLAMA_DIR from bench/llama-cpp/fetch.sh. Environment: ROUNDS (default 2), TOKENS (24),
# THREADS (2), MOESTREAM (the moestream binary, default the one on PATH).
set -euo pipefail

mst=${1:?usage: side_by_side.sh MODEL.mst MODEL.gguf LLAMA_DIR [CAP...]}
gguf=${2:?}
llama=${3:?}/llama.sh
shift 3
caps=("${@:-none}")
rounds=${ROUNDS:-2} tokens=${TOKENS:-24} threads=${THREADS:-2}
moestream=${MOESTREAM:-moestream}
log=$(mktemp /tmp/side_by_side.XXXXXX.log)
cg=""
out=$(mktemp)
cleanup() {
  local status=$?
  [[ -n $cg && -d $cg ]] && rmdir "$cg" 2>/dev/null
  rm -f "$out"
  [[ $status == 0 ]] && rm -f "$log"  # kept only when something failed
}
trap cleanup EXIT
fail() { echo "error: $*; the tools' messages are in $log" >&2; exit 1; }
refuse() { echo "error: $*" >&2; exit 2; }
[[ $EUID == 0 ]] || refuse "needs root (it drops the page cache and makes memory cgroups)"
[[ -x $llama ]] || refuse "no $llama: run bench/llama-cpp/fetch.sh ${llama%/llama.sh} first"

# The device the GGUF lies on (a disk, a partition or a device-mapper volume all have a stat).
stat_file="/sys/class/block/$(basename "$(df --output=source "$gguf" | tail -1)")/stat"
sectors_read() { if [[ -r $stat_file ]]; then awk '{ print $3 }' "$stat_file"; else echo 0; fi; }
[[ -r $stat_file ]] || echo "note: no $stat_file: llama.cpp's reads are not counted" >&2

# A memory cgroup limited to $1 bytes (v2 where the memory controller is on, else v1); prints
# its directory and the names of its limit and peak files.
make_cgroup() {
  local v2 root
  v2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
  if [[ -n $v2 ]] && grep -qw memory "$v2/cgroup.controllers" 2>/dev/null &&
     grep -qw memory "$v2/cgroup.subtree_control" 2>/dev/null; then
    root="$v2/llama-side-by-side-$$"
    mkdir -p "$root" && echo "$1" > "$root/memory.max"
    echo "$root memory.peak"
  else
    v1=$(awk '$3 == "cgroup" && $4 ~ /(^|,)memory(,|$)/ { print $2; exit }' /proc/mounts)
    [[ -n $v1 ]] || return 1
    root="$v1/llama-side-by-side-$$"
    mkdir -p "$root" && echo "$1" > "$root/memory.limit_in_bytes"
    echo "$root memory.max_usage_in_bytes"
  fi
}

echo "| round | limit | engine | tok/s | read per token | peak memory |"
echo "|---|---|---|---|---|---|"
for round in $(seq "$rounds"); do
  for cap in "${caps[@]}"; do
    sync && echo 3 > /proc/sys/vm/drop_caches
    before=$(sectors_read)
    if [[ $cap == none ]]; then
      "$llama" llama-bench -m "$gguf" -p 0 -n "$tokens" -t "$threads" -r 3 -o json > "$out" 2>>"$log" ||
        fail "llama-bench failed"
      peak=-
    else
      spec=$(make_cgroup "$(numfmt --from=iec "$cap")") || fail "no memory cgroup (v2 with the memory controller, or v1)"
      read -r cg peak_file <<< "$spec"
      bash -c "echo \$\$ > '$cg/cgroup.procs' && exec '$llama' llama-bench -m '$gguf' -p 0 -n $tokens -t $threads -r 3 -o json" \
        > "$out" 2>>"$log" || fail "llama-bench failed under $cap (out of memory?)"
      peak="$(( $(cat "$cg/$peak_file") / 1048576 )) MiB"
      rmdir "$cg"
      cg=""
    fi
    after=$(sectors_read)
    # llama-bench decodes one warm-up token, then 3 runs of $tokens; the reads include loading.
    /usr/bin/python3 - "$out" "$round" "$cap" "$(( (after - before) * 512 ))" "$tokens" "$peak" <<'EOF'
import json, sys
out, rnd, cap, read, tokens, peak = sys.argv[1:]
t = json.load(open(out))[0]
per_token = int(read) / (1 + 3 * int(tokens)) / 2**20
runs = ", ".join(f"{x:.2f}" for x in t["samples_ts"])
print(f"| {rnd} | {cap} | llama.cpp (mmap) | {t['avg_ts']:.2f} ({runs}) | {per_token:.0f} MiB (with loading) | {peak} |")
EOF
    limit=(--cgroup --ram-budget "$cap")
    [[ $cap == none ]] && limit=(--ram-budget 64G)
    "$moestream" bench e2e "$mst" "${limit[@]}" --drop-caches --new-tokens "$tokens" --fio-seconds 0 \
      --threads "$threads" > "$out" 2>>"$log" || fail "moestream bench e2e failed under $cap"
    awk -v r="$round" -v c="$cap" -F'|' '/^\| streaming \|/ {
        gsub(/ /, "", $3); gsub(/^ +| +$/, "", $5); gsub(/^ +| +$/, "", $10)
        printf "| %s | %s | moestream | %s | %s | %s |\n", r, c, $3, $5, $10 }' "$out"
  done
done
