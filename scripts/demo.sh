#!/usr/bin/env bash
# The main job: stream a model whose experts do not fit the RAM budget. Builds moestream,
# synthesizes once (cached under build/demo/) a small random-weight DeepSeek-V3-shaped model
# that carries the real tokenizer, generates text with `moestream run` under a --ram-budget
# whose expert cache holds about a quarter of the experts, and prints the expert-cache report
# (hits / misses / prefetch / bytes / stall per layer and in total).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

ensure_packages "${MOESTREAM_PACKAGES[@]}"
build_dir="$MOESTREAM_ROOT/build/release"
log "building moestream (Release)"
configure_and_build "$build_dir" -DCMAKE_BUILD_TYPE=Release -DMOESTREAM_ASSERTIONS=OFF -DMOESTREAM_BUILD_TESTS=OFF
cli="$build_dir/tools/moestream/moestream"

log "moestream sysinfo"
"$cli" sysinfo

model="$MOESTREAM_ROOT/build/demo/small.mst"
if [ ! -f "$model" ]; then
  log "synthesizing the small demo model (once; cached at $model)"
  mkdir -p "$(dirname "$model")"
  "$cli" synth --preset small --out "$model" --quiet
fi
"$cli" inspect "$model" | head -n 12 || true

# The budget: the smallest one the plan accepts (resident weights + KV + overhead + top-k +
# margin slots), plus room for a quarter of the experts. The plan line says what it holds.
minimum=$( { "$cli" run "$model" --prompt "x" -n 48 --ram-budget 1M 2>&1 || true; } |
  sed -n 's/.*needs at least \([0-9.]*\) \([KMG]i\{0,1\}B\).*/\1 \2/p')
experts_bytes=$("$cli" inspect "$model" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["experts"]["raw_bytes"])')
budget=$(python3 -c "
value, unit = '$minimum'.split()
scale = {'KB': 1e3, 'MB': 1e6, 'GB': 1e9, 'KiB': 2**10, 'MiB': 2**20, 'GiB': 2**30}[unit]
print(int(float(value) * scale + $experts_bytes / 4))")
experts_mb=$((experts_bytes / 1000000))
log "moestream run under --ram-budget $budget bytes (the routed experts alone are $experts_mb MB)"
"$cli" run "$model" --prompt "The quick brown fox" -n 48 --text --ignore-eos \
  --ram-budget "$budget" --prefetch-margin 2

log "try it yourself"
# chat and serve keep KV for longer contexts (and serve for several sequences): more budget.
chat_budget=$((budget + 16 * 1024 * 1024))
serve_budget=$((budget + 64 * 1024 * 1024))
cat <<EOT
Chat with the demo model in the terminal (random weights: the words are noise, the protocol is real):
  $cli chat $model --ram-budget $chat_budget --max-context 2048

Serve the DeepSeek / OpenAI API and point any OpenAI client at it:
  $cli serve $model --ram-budget $serve_budget --parallel 4 --max-context 2048 --port 8080
  curl http://127.0.0.1:8080/v1/chat/completions -d '{"model": "deepseek-chat", "messages": [{"role": "user", "content": "Hello"}], "stream": true}'
  # Python / Node: OpenAI(base_url="http://127.0.0.1:8080/v1", api_key="unused")
EOT
