#!/usr/bin/env bash
# The calibration harness end to end on the CPU emulator (no GPU): a tiny model at TP 1 and 2
# over a tiny grid, then `kunsim fit` on what it wrote. Checks that every op the cost model needs
# has rows, that the profile loads and fits, and that a second run replaces rather than appends.
# The times are meaningless (graph replays are free in the emulator); the plumbing is not.
# Usage: emu-smoke.sh CALIBRATE_EMU KUNSIM OUT_DIR
set -euo pipefail
calibrate="$1" kunsim="$2" out="$3"
here="$(cd "$(dirname "$0")" && pwd)"
rm -rf "$out"
run() {  # run TP...
  local tps=()
  for tp in "$@"; do tps+=(--tp "$tp"); done
  "$calibrate" --model-spec "$here/tiny-model.json" "${tps[@]}" --grid "$here/tiny-grid.json" --kind h100-sxm \
    --trials 3 --no-ceilings --out "$out" >"$out.log" 2>&1 || { cat "$out.log"; echo "FAIL: kunsim-calibrate-emu exited $?"; exit 1; }
}
run 1 2
fail() { echo "FAIL: $*"; exit 1; }
# Weights rotate over enough layers to span 3x L2 (the emulator's 1 MiB): tiny-emu's smallest
# matrix is 256 KiB at TP 1 (its O projection, 256 x 512 bf16) and 128 KiB at TP 2, so 12 and 24.
grep -q "tiny-emu tp1: 12 distinct layers' weights rotated" "$out.log" || { cat "$out.log"; fail "TP 1 weights rotation"; }
grep -q "tiny-emu tp2: 24 distinct layers' weights rotated" "$out.log" || fail "TP 2 weights rotation"
for op in gemm_qkv gemm_o gemm_gate_up gemm_down silu_mul rmsnorm rope_cache gemm_lm_head attn_prefill attn_decode; do
  for tp in 1 2; do
    grep -q "^$op,tiny-emu,$tp," "$out/ops.csv" || fail "no $op rows for tp $tp"
  done
done
for op in memcpy_h2d memcpy_d2h memcpy_d2d; do grep -q "^$op,,0," "$out/ops.csv" || fail "no $op rows"; done
[ "$(grep -c '^tiny-emu,' "$out/iterations.csv")" -eq 6 ] || fail "iterations.csv: expected 3 rows per tp"
[ "$(grep -c '^tiny-emu,' "$out/attention_mixed.csv")" -eq 2 ] || fail "attention_mixed.csv: expected 1 row per tp"
grep -q '"model_spec"' "$out/meta.json" || fail "meta.json keeps no model spec"
rows=$(wc -l <"$out/ops.csv")
"$kunsim" fit "$out" --out "$out/fit" >/dev/null || fail "kunsim fit exited $?"
for key in '"iteration_check"' '"mixed_attention_check"' '"attn_decode"' '"gemm_lm_head"'; do
  grep -q "$key" "$out/fit/fit-report.json" || fail "fit-report.json has no $key"
done
run 1  # re-measures TP 1 (and the transfers): its rows are replaced, TP 2's kept
[ "$(wc -l <"$out/ops.csv")" -eq "$rows" ] || fail "a second run appended rows instead of replacing them"
[ "$(grep -c '^tiny-emu,' "$out/iterations.csv")" -eq 6 ] || fail "a second run appended or dropped iterations"
grep -q "^gemm_qkv,tiny-emu,2," "$out/ops.csv" || fail "a TP 1 run dropped TP 2's rows"
# --no-ceilings keeps the ceilings an earlier session measured into the folder.
printf '{"ceilings": {"copy_bytes_per_s": 123.0}}\n' >"$out-ceil.meta"
mkdir -p "$out-ceil" && cp "$out-ceil.meta" "$out-ceil/meta.json"
"$calibrate" --transfers-only --grid "$here/tiny-grid.json" --kind h100-sxm --trials 3 --no-ceilings --out "$out-ceil" \
  >"$out.log" 2>&1 || { cat "$out.log"; fail "a transfers-only run exited $?"; }
grep -q '"copy_bytes_per_s": 123.0' "$out-ceil/meta.json" || fail "--no-ceilings dropped the ceilings already measured"
rm -rf "$out-ceil" "$out-ceil.meta"
echo "PASS: $(($(wc -l <"$out/ops.csv") - 1)) op rows, iterations and mixed-attention rows for tiny-emu tp 1 and 2; fit report written"
