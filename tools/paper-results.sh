#!/usr/bin/env bash
# Runs KunServe's evaluation as kunsim mirrors it (scenarios/burst.json, scenarios/preempt.json,
# scenarios/paper/*.json) under every policy, searches scenarios/sweeps/up-to.json for where the
# paper's "up to" lives, runs scenarios/prefix/*.json with prefix caching on and off and the
# fleet scenarios (scenarios/fleet/, the TP sweep), the MoE sweeps (scenarios/sweeps/moe-burst.json,
# qwen3-235b-layout.json) and the speculative-decoding sweeps (scenarios/sweeps/speculative-*.json),
# and writes docs/results.md.
#   tools/paper-results.sh [--trace-dir DIR]     (default: $KUNSIM_TRACE_DIR, else ../shared/traces)
# Scenarios whose trace is not found are listed as skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
trace_dir="${KUNSIM_TRACE_DIR:-../shared/traces}"
[ "${1:-}" = "--trace-dir" ] && trace_dir="$2"
command -v python3 >/dev/null || { sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo; $sudo apt-get install -y -qq python3 >/dev/null; }
tools/dev.sh build >/dev/null
build_dir="${KUNSIM_BUILD_DIR:-build}"
out="$build_dir/paper-results"
rm -rf "$out"
mkdir -p "$out"
policies="vllm vllm-swap infercept llumnix kunserve"
# KunServe on the paper's scenarios runs as the reference's coordinator does: static groups of 2
# (--group-size), every group dropped and restored together (drop_scope all, the default with a
# group_size). g = 2 is what kunsim's own planner picks in every drop of these runs, and the
# smallest pipeline. burst and preempt, the golden scenarios, keep kunsim's planner (planned).
kunserve_args() {
  case "$1" in scenarios/paper/*) [ "$2" = kunserve ] && echo "--set policy.group_size=2" ;; esac
}
for s in scenarios/burst.json scenarios/preempt.json scenarios/paper/*.json; do
  name=$(basename "$s" .json)
  for p in $policies; do
    # shellcheck disable=SC2046
    if ! "$build_dir/kunsim" run "$s" --trace-dir "$trace_dir" --set policy.name="$p" $(kunserve_args "$s" "$p") \
        --out "$out/$name/$p" --quiet 2> "$out/$name.$p.err"; then
      echo "$name: skipped ($(head -c 300 "$out/$name.$p.err"))" >> "$out/skipped.txt"
      break
    fi
  done
  # The same two policies on the roofline, to show what measured costs changed; and, where a
  # scenario dispatches as the reference's client does, with the idealised least_kv dispatcher.
  if [ -d "$out/$name/vllm" ]; then
    for p in vllm kunserve; do
      # shellcheck disable=SC2046
      "$build_dir/kunsim" run "$s" --trace-dir "$trace_dir" --set policy.name="$p" --set cost.model=roofline \
        $(kunserve_args "$s" "$p") --out "$out/$name/$p@roofline" --quiet
      if grep -q '"least_unfinished"' "$s"; then
        # shellcheck disable=SC2046
        "$build_dir/kunsim" run "$s" --trace-dir "$trace_dir" --set policy.name="$p" --set deployment.dispatch=least_kv \
          $(kunserve_args "$s" "$p") --out "$out/$name/$p@least_kv" --quiet
      fi
    done
  fi
done
# Prefix caching: the prefix scenarios under every policy, with caching on and off.
for s in scenarios/prefix/*.json; do
  name=$(basename "$s" .json)
  for p in $policies; do
    for mode in on off; do
      flag=true; [ "$mode" = off ] && flag=false
      if ! "$build_dir/kunsim" run "$s" --trace-dir "$trace_dir" --set policy.name="$p" \
          --set deployment.enable_prefix_caching=$flag --out "$out/prefix/$name/$p@$mode" --quiet 2> "$out/$name.$p.err"; then
        echo "$name: skipped ($(head -c 300 "$out/$name.$p.err"))" >> "$out/skipped.txt"
        break 2
      fi
    done
  done
done
# Fleets: the disaggregated counterpart of the burst scenario at every prefill/decode split of its
# 8 GPUs (whole-cache and layer-wise hand-offs), the two-kind fleet under every policy, and the
# TP4 x 4 vs TP8 x 2 sweep.
for split in 2 3 4 5 6; do
  for mode in whole layerwise; do
    "$build_dir/kunsim" run scenarios/fleet/burst-disaggregated.json --set deployment.groups.0.count=$split \
      --set deployment.groups.1.count=$((8 - split)) --set deployment.kv_transfer=$mode \
      --out "$out/fleet/burst-disaggregated/$split-$((8 - split))@$mode" --quiet
  done
done
for p in $policies; do
  "$build_dir/kunsim" run scenarios/fleet/two-kind.json --set policy.name="$p" --out "$out/fleet/two-kind/$p" --quiet
done
"$build_dir/kunsim" run scenarios/fleet/two-kind.json --set deployment.dispatch=least_kv --out "$out/fleet/two-kind/vllm@least_kv" --quiet
"$build_dir/kunsim" sweep scenarios/sweeps/tp4x4-vs-tp8x2.json -j "$(nproc)" --out "$out/fleet/tp-sweep" --quiet
# KunServe's stale requests mode by mode (and the exchange's transport), where drops happen.
for s in scenarios/burst.json scenarios/paper/long-output.json; do
  name=$(basename "$s" .json)
  [ -d "$out/$name/kunserve" ] || continue
  for mode in stall-exchange@p2p stall-exchange@host remote-attention@p2p blocking-exchange@p2p recompute@p2p; do
    # shellcheck disable=SC2046
    "$build_dir/kunsim" run "$s" --trace-dir "$trace_dir" --set policy.name=kunserve --set policy.stale_kv="${mode%@*}" \
      --set policy.exchange_path="${mode#*@}" $(kunserve_args "$s" kunserve) --out "$out/modes/$name/$mode" --quiet
  done
done
# KunServe's drops and restores without kunsim's hysteresis (min_dwell_s 0; the reference has none).
for s in scenarios/burst.json scenarios/preempt.json scenarios/paper/*.json; do
  name=$(basename "$s" .json)
  [ -d "$out/$name/kunserve" ] || continue
  # shellcheck disable=SC2046
  "$build_dir/kunsim" run "$s" --trace-dir "$trace_dir" --set policy.name=kunserve --set policy.min_dwell_s=0 \
    $(kunserve_args "$s" kunserve) --out "$out/dwell0/$name" --quiet
  # The reference's opt-in look-ahead micro-batches instead of its virtual engines.
  # shellcheck disable=SC2046
  "$build_dir/kunsim" run "$s" --trace-dir "$trace_dir" --set policy.name=kunserve --set policy.micro_batches=look-ahead \
    $(kunserve_args "$s" kunserve) --out "$out/lookahead/$name" --quiet
  # And the paper's scenarios with kunsim's planner instead of static groups.
  case "$s" in scenarios/paper/*)
    "$build_dir/kunsim" run "$s" --trace-dir "$trace_dir" --set policy.name=kunserve --out "$out/planned/$name" --quiet ;;
  esac
done
# Where the paper's "up to" lives: a search over burst size, burst length and memory headroom.
"$build_dir/kunsim" sweep scenarios/sweeps/up-to.json -j "$(nproc)" --out "$out/up-to" --quiet
# MoE models: Mixtral TP2 under a burst (every policy, three loads, bf16 and fp8 KV), and
# qwen3-235b-a22b on one node, TP or expert parallel, in each weight dtype.
"$build_dir/kunsim" sweep scenarios/sweeps/moe-burst.json -j "$(nproc)" --out "$out/moe-burst" --quiet
"$build_dir/kunsim" sweep scenarios/sweeps/qwen3-235b-layout.json -j "$(nproc)" --out "$out/qwen3-235b-layout" --quiet
# DeepSeek-V3 (MLA): one node's layouts and dtypes, and two nodes under every policy.
"$build_dir/kunsim" sweep scenarios/sweeps/deepseek-v3-layout.json -j "$(nproc)" --out "$out/deepseek-v3-layout" --quiet
"$build_dir/kunsim" sweep scenarios/sweeps/deepseek-v3-16.json -j "$(nproc)" --out "$out/deepseek-v3-16" --quiet
# Speculative decoding against batch size, on both models.
for m in 8b 70b; do
  "$build_dir/kunsim" sweep "scenarios/sweeps/speculative-$m.json" -j "$(nproc)" --out "$out/speculative-$m" --quiet
done
python3 tools/results_table.py "$out" > docs/results.md
echo "wrote docs/results.md"
